// Promotions as pure rules: whether a code may be used on a cart now, and how much it takes off.
import * as Money from "../money.ts";
import type { Currency } from "../money.ts";
import { AppError } from "../error.ts";

/** What pricing needs to know: the code and how its discount is computed. */
export type PromotionTerms =
  | {
      code: string;
      kind: "percentage";
      /** 1000 = 10 % off the goods. */
      percentBasisPoints: number;
      /** When set, the code only applies to carts in this currency. */
      currency: Currency | null;
    }
  | {
      code: string;
      kind: "fixed";
      /** Minor units of `currency`; never more than the goods. */
      amount: number;
      currency: Currency;
    };

export type Promotion = PromotionTerms & {
  id: string;
  description: string;
  /** Goods subtotal (before discount, in the cart's currency) the cart must reach. */
  minSubtotal: number;
  startsAt: Date | null;
  /** Exclusive: the code stops working at this instant. */
  endsAt: Date | null;
  usageLimit: number | null;
  usedCount: number;
  /** Uses per customer email (case-insensitive); null for no limit. */
  perCustomerLimit: number | null;
  isActive: boolean;
};

export type PromotionProblem = "unknown" | "inactive" | "not_started" | "expired" | "wrong_currency" | "min_subtotal" | "usage_limit" | "customer_limit";

/** Codes are case-insensitive and stored upper-case. */
export function normaliseCode(code: string): string {
  return code.trim().toUpperCase();
}

function invalid(code: string, reason: PromotionProblem, message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError("PROMO_INVALID", message, { code, reason, ...details });
}

function exhausted(code: string, reason: PromotionProblem, message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError("PROMO_EXHAUSTED", message, { code, reason, ...details });
}

export function unknownCode(code: string): AppError {
  return invalid(code, "unknown", `We don't recognise the promo code ${code}; check the spelling`);
}

export function inactiveCode(code: string): AppError {
  return invalid(code, "inactive", `The promo code ${code} is no longer active`);
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * Checks everything about a code that does not need a lock: active flag, dates, currency, minimum
 * subtotal, and the usage counts as last seen. Returns the typed error to show, or null if usable.
 * `customerUses` is how often this customer (by email) has used it; omit it when the email is unknown.
 */
export function check(promotion: Promotion, cart: { currency: Currency; subtotal: number; now: Date; customerUses?: number | undefined }): AppError | null {
  const { code } = promotion;
  if (!promotion.isActive) return inactiveCode(code);
  if (promotion.startsAt && cart.now.getTime() < promotion.startsAt.getTime()) {
    return invalid(code, "not_started", `The promo code ${code} can be used from ${day(promotion.startsAt)}`, {
      startsAt: promotion.startsAt.toISOString(),
    });
  }
  if (promotion.endsAt && cart.now.getTime() >= promotion.endsAt.getTime()) {
    return invalid(code, "expired", `The promo code ${code} expired on ${day(promotion.endsAt)}`, { endsAt: promotion.endsAt.toISOString() });
  }
  if (promotion.currency && promotion.currency !== cart.currency) {
    return invalid(code, "wrong_currency", `The promo code ${code} is only valid on ${promotion.currency} orders; your cart is in ${cart.currency}`, {
      promotionCurrency: promotion.currency,
      cartCurrency: cart.currency,
    });
  }
  if (cart.subtotal < promotion.minSubtotal) {
    const shortBy = promotion.minSubtotal - cart.subtotal;
    const money = (amount: number) => Money.format({ amount, currency: cart.currency });
    return invalid(code, "min_subtotal", `The promo code ${code} needs a subtotal of at least ${money(promotion.minSubtotal)}; add ${money(shortBy)} more to use it`, {
      minSubtotal: promotion.minSubtotal,
      subtotal: cart.subtotal,
      shortBy,
    });
  }
  if (promotion.usageLimit !== null && promotion.usedCount >= promotion.usageLimit) {
    return exhausted(code, "usage_limit", `The promo code ${code} has been used the maximum number of times`, { usageLimit: promotion.usageLimit });
  }
  if (promotion.perCustomerLimit !== null && cart.customerUses !== undefined && cart.customerUses >= promotion.perCustomerLimit) {
    return customerLimitReached(code, promotion.perCustomerLimit);
  }
  return null;
}

export function usageLimitReached(code: string): AppError {
  return exhausted(code, "usage_limit", `The promo code ${code} has just been used up; remove it to place your order without it`);
}

export function customerLimitReached(code: string, limit: number): AppError {
  return exhausted(
    code,
    "customer_limit",
    limit === 1 ? `You have already used the promo code ${code}` : `You have already used the promo code ${code} the maximum ${limit} times`,
    { perCustomerLimit: limit },
  );
}

/**
 * The discount on `goods` (minor units, the cart's currency): a percentage rounded half up, or a
 * fixed amount, never more than the goods. A fixed amount in another currency is refused rather
 * than converted, so the discount is always in the cart's currency.
 */
export function discountFor(terms: PromotionTerms, cart: { currency: Currency; goods: number }): number {
  Money.assertMinorUnits(cart.goods);
  if (terms.currency && terms.currency !== cart.currency) {
    throw invalid(terms.code, "wrong_currency", `The promo code ${terms.code} is only valid on ${terms.currency} orders; your cart is in ${cart.currency}`);
  }
  if (cart.goods <= 0) return 0;
  const discount = terms.kind === "percentage" ? Money.applyBasisPoints(cart.goods, terms.percentBasisPoints) : terms.amount;
  return Math.min(discount, cart.goods);
}
