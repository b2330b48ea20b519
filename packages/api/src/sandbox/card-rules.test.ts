// Unit tests for the card rules the sandbox checks before issuing a token.
import { describe, expect, it } from "vitest";
import { checkCard, detectBrand, isExpired, isLuhnValid, isValidCardNumber } from "./card-rules.ts";
import { TEST_CARDS } from "./test-cards.ts";

const now = new Date("2026-06-15T12:00:00Z");

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
    const check = checkCard(valid, now);
    expect(check).toEqual({
      ok: true,
      card: { brand: "visa", last4: "4242", expMonth: 12, expYear: 2030 },
      behaviour: { outcome: "approve" },
    });
    expect(JSON.stringify(check)).not.toContain("424242424242");
  });

  it("reads a two-digit year as this century", () => {
    const check = checkCard({ ...valid, expYear: 30 }, now);
    expect(check.ok && check.card.expYear).toBe(2030);
  });

  it("names which part of the card is wrong", () => {
    expect(checkCard({ ...valid, number: "4242424242424241" }, now)).toMatchObject({ code: "invalid_number" });
    expect(checkCard({ ...valid, number: "4242-abcd" }, now)).toMatchObject({ code: "invalid_number" });
    expect(checkCard({ ...valid, expMonth: 13 }, now)).toMatchObject({ code: "invalid_expiry" });
    expect(checkCard({ ...valid, expMonth: 5, expYear: 2026 }, now)).toMatchObject({
      code: "invalid_expiry",
      message: "Your card has expired.",
    });
    expect(checkCard({ ...valid, expYear: 2200 }, now)).toMatchObject({ code: "invalid_expiry" });
    expect(checkCard({ ...valid, cvc: "12" }, now)).toMatchObject({ code: "invalid_cvc" });
    expect(checkCard({ ...valid, cvc: "12345" }, now)).toMatchObject({ code: "invalid_cvc" });
  });

  it("treats missing or mistyped fields as an invalid request", () => {
    expect(checkCard({ ...valid, number: 4242424242424242 }, now)).toMatchObject({ code: "invalid_request" });
    expect(checkCard({ ...valid, expMonth: "12" }, now)).toMatchObject({ code: "invalid_request" });
    expect(checkCard({ number: valid.number }, now)).toMatchObject({ code: "invalid_request" });
  });

  it("attaches the documented behaviour of each test card", () => {
    for (const card of TEST_CARDS) {
      const check = checkCard({ ...valid, number: card.number }, now);
      expect(check).toMatchObject({ ok: true, card: { brand: card.brand }, behaviour: card.behaviour });
    }
  });
});
