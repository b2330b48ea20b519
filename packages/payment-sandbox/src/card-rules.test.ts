// Unit tests for the card rules the sandbox checks before issuing a token.
import { describe, expect, it } from "vitest";
import { cardFingerprint, cardNumberProblem, checkCard, cvcLengthFor, cvcProblem, detectBrand, expiryProblem, isExpired, isLuhnValid, isValidCardNumber } from "./card-rules.ts";
import { TEST_CARDS } from "./test-cards.ts";

const now = new Date("2026-06-15T12:00:00Z");
const KEY = "sandbox-fingerprint-key";

describe("isLuhnValid", () => {
  it("accepts every documented test card", () => {
    for (const card of TEST_CARDS) expect(isLuhnValid(card.number)).toBe(true);
  });

  it("rejects a number whose check digit is wrong", () => {
    expect(isLuhnValid("4242424242424241")).toBe(false);
  });

  it("rejects anything that is not all digits", () => {
    expect(isLuhnValid("4242 4242")).toBe(false);
    expect(isLuhnValid("")).toBe(false);
  });
});

describe("isValidCardNumber", () => {
  it("requires 13 to 19 digits even when the Luhn sum works out", () => {
    expect(isValidCardNumber("424242424242")).toBe(false);
    expect(isValidCardNumber("4222222222222")).toBe(true);
    expect(isValidCardNumber("00000000000000000000")).toBe(false);
  });
});

describe("detectBrand", () => {
  it("recognises Visa, Mastercard in both ranges, and American Express", () => {
    expect(detectBrand("4242424242424242")).toBe("visa");
    expect(detectBrand("5105105105105100")).toBe("mastercard");
    expect(detectBrand("2221000000000009")).toBe("mastercard");
    expect(detectBrand("2720990000000007")).toBe("mastercard");
    expect(detectBrand("378282246310005")).toBe("amex");
    expect(detectBrand("340000000000009")).toBe("amex");
  });

  it("calls everything else unknown", () => {
    expect(detectBrand("6011111111111117")).toBe("unknown");
    expect(detectBrand("2220990000000000")).toBe("unknown");
    expect(detectBrand("5000000000000009")).toBe("unknown");
  });
});

describe("isExpired", () => {
  it("keeps a card valid until the end of its expiry month", () => {
    expect(isExpired(6, 2026, now)).toBe(false);
    expect(isExpired(5, 2026, now)).toBe(true);
    expect(isExpired(1, 2027, now)).toBe(false);
  });
});

describe("checkCard", () => {
  const valid = { number: "4242 4242 4242 4242", expMonth: 12, expYear: 2030, cvc: "123" };

  it("returns brand, last four digits and expiry but never the number or CVC", () => {
    const check = checkCard(valid, now, KEY);
    expect(check).toEqual({
      ok: true,
      card: { brand: "visa", last4: "4242", expMonth: 12, expYear: 2030, fingerprint: cardFingerprint("4242424242424242", KEY) },
      behaviour: { outcome: "approve" },
    });
    expect(JSON.stringify(check)).not.toContain("424242424242");
  });

  it("reads a two-digit year as this century", () => {
    const check = checkCard({ ...valid, expYear: 30 }, now, KEY);
    expect(check.ok && check.card.expYear).toBe(2030);
  });

  it("names which part of the card is wrong", () => {
    expect(checkCard({ ...valid, number: "4242424242424241" }, now, KEY)).toMatchObject({ code: "invalid_number" });
    expect(checkCard({ ...valid, number: "4242-abcd" }, now, KEY)).toMatchObject({ code: "invalid_number" });
    expect(checkCard({ ...valid, expMonth: 13 }, now, KEY)).toMatchObject({ code: "invalid_expiry" });
    expect(checkCard({ ...valid, expMonth: 5, expYear: 2026 }, now, KEY)).toMatchObject({
      code: "invalid_expiry",
      message: "Your card has expired.",
    });
    expect(checkCard({ ...valid, expYear: 2200 }, now, KEY)).toMatchObject({ code: "invalid_expiry" });
    expect(checkCard({ ...valid, cvc: "12" }, now, KEY)).toMatchObject({ code: "invalid_cvc" });
    expect(checkCard({ ...valid, cvc: "12345" }, now, KEY)).toMatchObject({ code: "invalid_cvc" });
    // The length goes by brand: a Visa takes 3 digits, never 4; an American Express card 4, never 3.
    expect(checkCard({ ...valid, cvc: "1234" }, now, KEY)).toMatchObject({ code: "invalid_cvc", message: "Your card's security code is invalid: it is 3 digits for this card." });
    const amex = { ...valid, number: "378282246310005" };
    expect(checkCard({ ...amex, cvc: "123" }, now, KEY)).toMatchObject({ code: "invalid_cvc", message: "Your card's security code is invalid: it is 4 digits for this card." });
    expect(checkCard({ ...amex, cvc: "1234" }, now, KEY)).toMatchObject({ ok: true, card: { brand: "amex" } });
    expect(checkCard({ ...valid, cvc: "12a" }, now, KEY)).toMatchObject({ code: "invalid_cvc" });
  });

  it("treats missing or mistyped fields as an invalid request", () => {
    expect(checkCard({ ...valid, number: 4242424242424242 }, now, KEY)).toMatchObject({ code: "invalid_request" });
    expect(checkCard({ ...valid, expMonth: "12" }, now, KEY)).toMatchObject({ code: "invalid_request" });
    expect(checkCard({ number: valid.number }, now, KEY)).toMatchObject({ code: "invalid_request" });
  });

  it("attaches the documented behaviour of each test card", () => {
    for (const card of TEST_CARDS) {
      const check = checkCard({ ...valid, number: card.number }, now, KEY);
      expect(check).toMatchObject({ ok: true, card: { brand: card.brand }, behaviour: card.behaviour });
    }
  });
});

describe("cardFingerprint", () => {
  it("is the same for one card number whatever its spacing, expiry or CVC, and differs between numbers", () => {
    const valid = { number: "4242 4242 4242 4242", expMonth: 12, expYear: 2030, cvc: "123" };
    const first = checkCard(valid, now, KEY);
    const again = checkCard({ ...valid, number: "4242-4242-4242-4242", expMonth: 1, expYear: 2031, cvc: "999" }, now, KEY);
    const other = checkCard({ ...valid, number: "5555555555554444" }, now, KEY);
    if (!first.ok || !again.ok || !other.ok) throw new Error("expected valid cards");
    expect(first.card.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(again.card.fingerprint).toBe(first.card.fingerprint);
    expect(other.card.fingerprint).not.toBe(first.card.fingerprint);
  });

  it("depends on the key, so it cannot be recomputed from a card number without it", () => {
    expect(cardFingerprint("4242424242424242", KEY)).not.toBe(cardFingerprint("4242424242424242", "another-key"));
    expect(cardFingerprint("4242424242424242", KEY)).not.toContain("424242424242");
  });
});

describe("the card field's checks", () => {
  it("wants the CVC length of the brand: 4 digits for American Express, 3 for the others", () => {
    expect(cvcLengthFor("amex")).toBe(4);
    for (const brand of ["visa", "mastercard", "unknown"]) expect(cvcLengthFor(brand)).toBe(3);
    expect(cvcProblem("123", "visa")).toBeNull();
    expect(cvcProblem("1234", "amex")).toBeNull();
    expect(cvcProblem("1234", "visa")).toBe("Enter the 3-digit CVC on the back of your card.");
    expect(cvcProblem("123", "amex")).toBe("Enter the 4-digit CVC on the front of your card.");
    expect(cvcProblem("12", "mastercard")).toBe("Enter the 3-digit CVC on the back of your card.");
  });

  it("refuses a CVC that is not digits, in the words of the CVC label", () => {
    expect(cvcProblem("abc", "visa")).toBe("The CVC takes digits only. Enter the 3-digit CVC on the back of your card.");
    expect(cvcProblem("12/", "visa")).toMatch(/digits only/);
    expect(cvcProblem("", "visa")).toBe("Enter the CVC.");
  });

  it("refuses an expiry that is in the past, not MM/YY, or not a month, and keeps a card valid to the end of its month", () => {
    expect(expiryProblem("06/26", now)).toBeNull();
    expect(expiryProblem("0626", now)).toBeNull();
    expect(expiryProblem("05/26", now)).toBe("This expiry date is in the past. Enter the date printed on your card (MM/YY).");
    expect(expiryProblem("01/20", now)).toMatch(/in the past/);
    expect(expiryProblem("13/30", now)).toBe("Enter the expiry month as 01 to 12 (MM/YY).");
    expect(expiryProblem("00", now)).toMatch(/01 to 12/);
    expect(expiryProblem("12/3", now)).toBe("Enter the expiry date as MM/YY, for example 04/30.");
    expect(expiryProblem("ab/cd", now)).toBe("The expiry date takes digits only. Enter it as MM/YY.");
    expect(expiryProblem("", now)).toBe("Enter the expiry date (MM/YY).");
    expect(expiryProblem("12/99", now)).toMatch(/too far ahead/);
  });

  it("refuses a card number that is incomplete, not digits or fails the check digit", () => {
    expect(cardNumberProblem("4242 4242 4242 4242")).toBeNull();
    expect(cardNumberProblem("3782 822463 10005")).toBeNull();
    expect(cardNumberProblem("4242 4242")).toMatch(/incomplete/);
    expect(cardNumberProblem("4242 4242 4242 4241")).toMatch(/not valid/);
    expect(cardNumberProblem("4242 abcd")).toMatch(/digits only/);
    expect(cardNumberProblem(" ")).toBe("Enter your card number.");
  });

  it("work from their own source text, as the card field page runs them", () => {
    const standalone = <T>(fn: T): T => new Function(`"use strict"; ${String(fn)}; return ${(fn as { name: string }).name};`)() as T;
    const cvc = standalone(cvcProblem);
    const expiry = standalone(expiryProblem);
    const number = standalone(cardNumberProblem);
    const brand = standalone(detectBrand);
    for (const [typed, cardBrand] of [
      ["abc", "visa"],
      ["1234", "visa"],
      ["1234", "amex"],
      ["123", "visa"],
    ] as const) {
      expect(cvc(typed, cardBrand)).toBe(cvcProblem(typed, cardBrand));
    }
    for (const typed of ["05/26", "06/26", "13/30", "1", "x"]) expect(expiry(typed, now)).toBe(expiryProblem(typed, now));
    for (const typed of ["4242424242424242", "4242424242424241", "42"]) expect(number(typed)).toBe(cardNumberProblem(typed));
    expect(brand("378282246310005")).toBe("amex");
  });
});
