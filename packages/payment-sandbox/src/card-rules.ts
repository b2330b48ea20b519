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
  if (!/^\d{3,4}$/.test(cvc)) {
    return { ok: false, code: "invalid_cvc", message: "Your card's security code is invalid." };
  }
  return {
    ok: true,
    card: { brand: detectBrand(digits), last4: digits.slice(-4), expMonth: month, expYear: year, fingerprint: cardFingerprint(digits, fingerprintKey) },
    behaviour: behaviourForCardNumber(digits),
  };
}
