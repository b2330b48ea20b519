// Promotions in checkout: applying a code to a cart, resolving it for pricing, redeeming it inside
// the order's transaction (race-safe) and giving the use back when the payment fails.
import type { Kysely } from "kysely";
import type { Currency } from "../money.ts";
import type { Cart as CartView } from "../schemas.ts";
import type { Database, Db } from "../db/database.ts";
import type { AppError } from "../error.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as Cart from "../cart/cart.ts";
import * as CartRepository from "../cart/cart.repository.ts";
import type { StockPolicy } from "../inventory/stock-policy.ts";
import * as PromotionRepository from "./promotion.repository.ts";
import { check, customerLimitReached, inactiveCode, normaliseCode, unknownCode, usageLimitReached, type Promotion } from "./promotion.ts";

export interface ResolvedPromotion {
  /** The promotion to price with, or null when there is no code or it cannot be used. */
  promotion: Promotion | null;
  /** Why the cart's code cannot be used (PROMO_INVALID or PROMO_EXHAUSTED), or null. */
  problem: AppError | null;
}

/** Looks a code up and checks it against the cart as it is now (without taking any lock). */
export async function resolveForCart(db: Db, cart: { code: string | null; currency: Currency; subtotal: number; email: string | null; now: Date }): Promise<ResolvedPromotion> {
  if (!cart.code) return { promotion: null, problem: null };
  const code = normaliseCode(cart.code);
  const row = await PromotionRepository.findPromotionByCode(db, code);
  if (!row) return { promotion: null, problem: unknownCode(code) };
  const promotion = PromotionRepository.rowToPromotion(row);
  const customerUses =
    cart.email && promotion.perCustomerLimit !== null ? await PromotionRepository.countCustomerRedemptions(db, promotion.id, cart.email.toLowerCase()) : undefined;
  const problem = check(promotion, { currency: cart.currency, subtotal: cart.subtotal, now: cart.now, customerUses });
  return problem ? { promotion: null, problem } : { promotion, problem: null };
}

/** Validates a code against the cart now, so the shopper hears at once, and stores it on the cart. */
export function applyToCart(input: { db: Kysely<Database>; cartId: string; code: string; now?: Date; policy?: StockPolicy }): Promise<CartView> {
  return Cart.withOpenCart(input, async (trx, row) => {
    const cart = Cart.rowToCart(row, (await CartRepository.findCartWithLines(trx, row.id))?.lines ?? [], input.policy);
    const { promotion, problem } = await resolveForCart(trx, {
      code: input.code,
      currency: cart.currency,
      subtotal: cart.subtotal,
      email: cart.email,
      now: input.now ?? new Date(),
    });
    if (problem) throw problem;
    await CartRepository.updateCart(trx, cart.id, { promo_code: promotion?.code ?? null });
  });
}

export function removeFromCart(input: { db: Kysely<Database>; cartId: string; policy?: StockPolicy }): Promise<CartView> {
  return Cart.withOpenCart(input, async (trx, row) => {
    if (row.promo_code !== null) await CartRepository.updateCart(trx, row.id, { promo_code: null });
  });
}

/**
 * Records one use of `promotion` by the order, inside the order's transaction. The per-customer
 * count is read under an advisory lock on (promotion, email), then the global counter is bumped by
 * a conditional update; either failing throws PROMO_EXHAUSTED and the caller's transaction rolls back.
 * Lock order is always customer lock, then promotion row, so concurrent redemptions cannot deadlock.
 */
export async function redeem(trx: Db, input: { promotion: Promotion; orderId: string; email: string; amount: number }): Promise<void> {
  const { promotion } = input;
  const email = input.email.toLowerCase();
  if (promotion.perCustomerLimit !== null) {
    await PromotionRepository.lockCustomer(trx, promotion.id, email);
    const uses = await PromotionRepository.countCustomerRedemptions(trx, promotion.id, email);
    if (uses >= promotion.perCustomerLimit) throw customerLimitReached(promotion.code, promotion.perCustomerLimit);
  }
  if (!(await PromotionRepository.incrementUse(trx, promotion.id))) {
    // Deactivated since pricing: say so; otherwise the last use went to another order.
    const current = await PromotionRepository.findPromotionByCode(trx, promotion.code);
    throw current && !current.is_active ? inactiveCode(promotion.code) : usageLimitReached(promotion.code);
  }
  await PromotionRepository.insertRedemption(trx, { promotion_id: promotion.id, order_id: input.orderId, email, amount: input.amount });
  await Audit.record(trx, {
    entity: "promotion",
    entityId: promotion.id,
    action: "promotion.redeemed",
    data: { orderId: input.orderId, code: promotion.code, amount: input.amount },
  });
}

/** Gives an order's promotion use back (payment failed or order abandoned). Idempotent. */
export async function releaseRedemption(trx: Db, orderId: string): Promise<void> {
  const redemption = await PromotionRepository.deleteRedemptionOfOrder(trx, orderId);
  if (!redemption) return;
  await PromotionRepository.decrementUse(trx, redemption.promotion_id);
  await Audit.record(trx, {
    entity: "promotion",
    entityId: redemption.promotion_id,
    action: "promotion.released",
    data: { orderId, amount: redemption.amount },
  });
}
