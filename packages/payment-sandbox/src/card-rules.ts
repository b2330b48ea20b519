// The checks a card processor applies before it issues a token: length, Luhn, brand, expiry, CVC.
import { createHmac } from "node:crypto";
import { behaviourForCardNumber, type CardBehaviour, type CardBrand } from "./test-cards.ts";

export type CardErrorCode = "invalid_number" | "invalid_expiry" | "invalid_cvc" | "invalid_request";

export interface TokenizedCard {
  brand: CardBrand;
  last4: string;
  expMonth: number;
  expYear: number;
  /** The same for every token of one card number (an HMAC of the number under the sandbox's key), never the number. */
  fingerprint: string;
}

export type CardCheck = { ok: true; card: TokenizedCard; behaviour: CardBehaviour } | { ok: false; code: CardErrorCode; message: string };

const MAX_YEARS_AHEAD = 50;

export function detectBrand(digits: string): CardBrand {
  if (digits.startsWith("4")) return "visa";
  if (digits.startsWith("34") || digits.startsWith("37")) return "amex";
  const firstTwo = Number(digits.slice(0, 2));
  const firstFour = Number(digits.slice(0, 4));
  if ((firstTwo >= 51 && firstTwo <= 55) || (firstFour >= 2221 && firstFour <= 2720)) return "mastercard";
  return "unknown";
}

export function isLuhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export function isValidCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && isLuhnValid(digits);
}

/** A card stays valid until the end of its expiry month. */
export function isExpired(expMonth: number, expYear: number, now: Date): boolean {
  return expYear * 12 + expMonth < now.getUTCFullYear() * 12 + now.getUTCMonth() + 1;
}

/** How many digits a brand's security code has: four on the front of an American Express card, three on the back of the others. */
export function cvcLengthFor(brand: string): number {
  return brand === "amex" ? 4 : 3;
}

// The three checks below run in the sandbox and, as their own source text, in the hosted card field
// (field-page.ts), so a shopper sees in the field exactly what the sandbox would refuse. Each one must
// stay self-contained: no imports, no calls to other functions, no nested functions.

/** What is wrong with a typed card number, in the words of its "Card number" label, or null. */
export function cardNumberProblem(typed: string): string | null {
  const value = typed.trim();
  if (value === "") return "Enter your card number.";
  if (!/^[\d\s-]+$/.test(value)) return "The card number takes digits only. Enter the long number on the front of your card.";
  const digits = value.replace(/\D/g, "");
  if (digits.length < 13) return "The card number is incomplete. Enter every digit on the front of your card.";
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  if (digits.length > 19 || sum % 10 !== 0) return "This card number is not valid. Check the number on your card.";
  return null;
}

/** What is wrong with a typed expiry (MM/YY), in the words of its "Expiry (MM/YY)" label, or null; valid to the end of its month. */
export function expiryProblem(typed: string, now: Date): string | null {
  const value = typed.trim();
  if (value === "") return "Enter the expiry date (MM/YY).";
  if (!/^[\d\s/]+$/.test(value)) return "The expiry date takes digits only. Enter it as MM/YY.";
  const digits = value.replace(/\D/g, "");
  const month = Number(digits.slice(0, 2));
  if (digits.length >= 2 && (month < 1 || month > 12)) return "Enter the expiry month as 01 to 12 (MM/YY).";
  if (digits.length !== 4) return "Enter the expiry date as MM/YY, for example 04/30.";
  const year = 2000 + Number(digits.slice(2, 4));
  if (year * 12 + month < now.getUTCFullYear() * 12 + now.getUTCMonth() + 1) {
    return "This expiry date is in the past. Enter the date printed on your card (MM/YY).";
  }
  if (year > now.getUTCFullYear() + 50) return "This expiry date is too far ahead. Enter the date printed on your card (MM/YY).";
  return null;
}

/** What is wrong with a typed CVC for a card of this brand, in the words of its "CVC" label, or null. */
export function cvcProblem(typed: string, brand: string): string | null {
  const length = brand === "amex" ? 4 : 3;
  const where = brand === "amex" ? "on the front of your card" : "on the back of your card";
  const value = typed.trim();
  if (value === "") return "Enter the CVC.";
  if (!/^\d+$/.test(value)) return `The CVC takes digits only. Enter the ${length}-digit CVC ${where}.`;
  if (value.length !== length) return `Enter the ${length}-digit CVC ${where}.`;
  return null;
}

/** A stable identifier of a card number that cannot be turned back into it without the key: HMAC-SHA256, 32 hex digits. */
export function cardFingerprint(digits: string, key: string): string {
  return createHmac("sha256", key).update(digits, "utf8").digest("hex").slice(0, 32);
}

/**
 * Checks raw card input and returns only what a token may keep; the number and CVC go no further
 * than this function (the number leaves it only as its keyed fingerprint).
 */
export function checkCard(input: Record<string, unknown>, now: Date, fingerprintKey: string): CardCheck {
  const { number, expMonth, expYear, cvc } = input;
  if (typeof number !== "string" || typeof cvc !== "string" || !Number.isInteger(expMonth) || !Number.isInteger(expYear)) {
    return {
      ok: false,
      code: "invalid_request",
      message: "number (string), expMonth (integer), expYear (integer) and cvc (string) are required.",
    };
  }
  const digits = number.replace(/[\s-]/g, "");
  if (!/^\d+$/.test(digits) || !isValidCardNumber(digits)) {
    return { ok: false, code: "invalid_number", message: "Your card number is invalid." };
  }
  const month = expMonth as number;
  const year = (expYear as number) < 100 ? 2000 + (expYear as number) : (expYear as number);
  if (month < 1 || month > 12 || year < 2000 || year > now.getUTCFullYear() + MAX_YEARS_AHEAD) {
    return { ok: false, code: "invalid_expiry", message: "Your card's expiry date is invalid." };
  }
  if (isExpired(month, year, now)) {
    return { ok: false, code: "invalid_expiry", message: "Your card has expired." };
  }
  // The brand decides the length, as a real processor checks it: 4 digits on the front of an American Express card,
  // 3 on the back of the others (a Visa "CVC" of 4 digits is an expiry typed in the wrong box).
  const brand = detectBrand(digits);
  if (!/^\d+$/.test(cvc) || cvc.length !== cvcLengthFor(brand)) {
    return { ok: false, code: "invalid_cvc", message: `Your card's security code is invalid: it is ${cvcLengthFor(brand)} digits for this card.` };
  }
  return {
    ok: true,
    card: { brand, last4: digits.slice(-4), expMonth: month, expYear: year, fingerprint: cardFingerprint(digits, fingerprintKey) },
    behaviour: behaviourForCardNumber(digits),
  };
}
