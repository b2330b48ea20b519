// Promotion rules: when a code may be used, what it takes off, and the errors a shopper sees.
import { describe, expect, it } from "vitest";
import { AppError } from "../error.ts";
import { check, discountFor, normaliseCode, type Promotion } from "./promotion.ts";

const now = new Date("2026-11-24T12:00:00Z");

function promotion(overrides: Partial<Promotion> = {}): Promotion {
  return {
    id: "00000000-0000-4000-8000-000000000001",
    code: "SAVE5",
    description: "",
    kind: "fixed",
    amount: 500,
    currency: "USD",
    minSubtotal: 0,
    startsAt: null,
    endsAt: null,
    usageLimit: null,
    usedCount: 0,
    perCustomerLimit: null,
    isActive: true,
    ...overrides,
  } as Promotion;
}

const usdCart = { currency: "USD" as const, subtotal: 5000, now };

function problemOf(result: AppError | null) {
  return result ? { code: result.code, reason: result.details?.reason, message: result.message } : null;
}

describe("normaliseCode", () => {
  it("trims and upper-cases what the shopper typed", () => {
    expect(normaliseCode("  welcome10 ")).toBe("WELCOME10");
  });
});

describe("check", () => {
  it("accepts a usable code", () => {
    expect(check(promotion(), usdCart)).toBeNull();
  });

  it("refuses an inactive code", () => {
    expect(problemOf(check(promotion({ isActive: false }), usdCart))).toMatchObject({ code: "PROMO_INVALID", reason: "inactive" });
  });

  it("refuses a code before it starts, naming the start day", () => {
    const result = problemOf(check(promotion({ startsAt: new Date("2026-12-01T00:00:00Z") }), usdCart));
    expect(result).toMatchObject({ code: "PROMO_INVALID", reason: "not_started" });
    expect(result?.message).toMatch(/from 2026-12-01/);
  });

  it("refuses a code from the instant it ends, naming the end day", () => {
    const result = problemOf(check(promotion({ endsAt: now }), usdCart));
    expect(result).toMatchObject({ code: "PROMO_INVALID", reason: "expired" });
    expect(result?.message).toMatch(/expired on 2026-11-24/);
    expect(check(promotion({ endsAt: new Date(now.getTime() + 1) }), usdCart)).toBeNull();
  });

  it("refuses a code meant for another currency", () => {
    const result = problemOf(check(promotion({ currency: "EUR" }), usdCart));
    expect(result).toMatchObject({ code: "PROMO_INVALID", reason: "wrong_currency" });
    expect(result?.message).toMatch(/only valid on EUR orders; your cart is in USD/);
  });

  it("accepts a percentage code with no currency in any currency", () => {
    const percentage = promotion({ kind: "percentage", percentBasisPoints: 1000, currency: null } as Partial<Promotion>);
    expect(check(percentage, usdCart)).toBeNull();
    expect(check(percentage, { ...usdCart, currency: "EUR" })).toBeNull();
  });

  it("says how much more the cart needs to reach the minimum subtotal", () => {
    const error = check(promotion({ minSubtotal: 3000 }), { ...usdCart, subtotal: 2400 });
    expect(problemOf(error)).toMatchObject({ code: "PROMO_INVALID", reason: "min_subtotal" });
    expect(error?.message).toBe("The promo code SAVE5 needs a subtotal of at least $30.00; add $6.00 more to use it");
    expect(error?.details).toMatchObject({ minSubtotal: 3000, subtotal: 2400, shortBy: 600 });
    expect(check(promotion({ minSubtotal: 3000 }), { ...usdCart, subtotal: 3000 })).toBeNull();
  });

  it("reports a used-up code as exhausted", () => {
    expect(problemOf(check(promotion({ usageLimit: 3, usedCount: 3 }), usdCart))).toMatchObject({ code: "PROMO_EXHAUSTED", reason: "usage_limit" });
    expect(check(promotion({ usageLimit: 3, usedCount: 2 }), usdCart)).toBeNull();
  });

  it("reports a customer's own limit as exhausted only when the customer is known", () => {
    const once = promotion({ perCustomerLimit: 1 });
    expect(problemOf(check(once, { ...usdCart, customerUses: 1 }))).toMatchObject({ code: "PROMO_EXHAUSTED", reason: "customer_limit" });
    expect(check(once, { ...usdCart, customerUses: 0 })).toBeNull();
    expect(check(once, usdCart)).toBeNull();
  });

  it("names the first problem in order: inactive before dates before currency before minimum", () => {
    const everything = promotion({ isActive: false, endsAt: now, currency: "EUR", minSubtotal: 1_000_000 });
    expect(check(everything, usdCart)?.details?.reason).toBe("inactive");
  });
});

describe("discountFor", () => {
  it("rounds a percentage half up in minor units", () => {
    expect(discountFor({ code: "P", kind: "percentage", percentBasisPoints: 1000, currency: null }, { currency: "USD", goods: 4805 })).toBe(481);
    expect(discountFor({ code: "P", kind: "percentage", percentBasisPoints: 1000, currency: null }, { currency: "USD", goods: 4804 })).toBe(480);
  });

  it("caps a fixed amount at the goods", () => {
    expect(discountFor({ code: "F", kind: "fixed", amount: 500, currency: "USD" }, { currency: "USD", goods: 300 })).toBe(300);
    expect(discountFor({ code: "F", kind: "fixed", amount: 500, currency: "USD" }, { currency: "USD", goods: 0 })).toBe(0);
  });

  it("gives 100 % off as exactly the goods", () => {
    expect(discountFor({ code: "FREE", kind: "percentage", percentBasisPoints: 10000, currency: null }, { currency: "EUR", goods: 12345 })).toBe(12345);
  });

  it("refuses to mix currencies", () => {
    expect(() => discountFor({ code: "F", kind: "fixed", amount: 500, currency: "USD" }, { currency: "EUR", goods: 1000 })).toThrow(AppError);
  });
});
