// Placing an order: validate against the quote the shopper confirmed, write the order and reserve
// its stock in one transaction, then authorise the card outside any transaction, then record the
// outcome. Whatever fails in between leaves a pending order the reconciler can finish or undo.
import { createHash, randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Order } from "../schemas.ts";
import type { Database, OrderRow } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as Cart from "../cart/cart.ts";
import * as CartRepository from "../cart/cart.repository.ts";
import * as Inventory from "../inventory/inventory.ts";
import * as StockPolicy from "../inventory/stock-policy.ts";
import * as OrderModule from "../order/order.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as QuoteRepository from "./quote.repository.ts";
import * as PaymentAttempt from "./payment-attempt.ts";
import type * as PaymentVelocity from "../payment/payment-velocity.ts";
import type { PricedCart } from "../pricing/pricing.ts";
import { diffPricing, hasDifference, priceCurrentCart } from "./cart-pricing.ts";
import { PaymentProviderUnavailableError, PaymentTokenRejectedError, type AuthorizeResult, type PaymentProvider } from "../payment/payment-provider.ts";
import * as PaymentOutcome from "../payment/payment-outcome.ts";
import { settle } from "../payment/settle.ts";
import { providerClaimMs } from "../payment/provider-call.ts";
import * as PromotionService from "../promotion/promotion.service.ts";

/** How long a pending order holds its stock by default (StockPolicy.holdMs) before the hold sweep may release it. */
export const RESERVATION_TTL_MS = StockPolicy.DEFAULT_STOCK_POLICY.holdMs;

/** What an order keeps of the payment token it was placed with, to recognise a retry of the same attempt: a SHA-256, never the token. */
export function hashPaymentToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export interface PlaceOrderInput {
  db: Kysely<Database>;
  cartId: string;
  quoteId: string;
  paymentToken: string;
  payments: PaymentProvider;
  captureMode?: PaymentOutcome.CaptureMode;
  /** Units per order and how long the order holds them (the default policy when not given). */
  stockPolicy?: StockPolicy.StockPolicy;
  /** Where the request came from (IP, user agent), for the audit trail. */
  origin?: { ip?: string; userAgent?: string };
  /** Card-testing limits on declined attempts per cart, address, email and card; none when not given. */
  velocity?: PaymentVelocity.Limits;
  /** Told once how each payment attempt ended (metrics, logs). */
  onAttempt?: (report: PaymentAttempt.Report) => void;
  now?: Date;
}

function checkoutInProgress(orderId: string, retryAfterSeconds: number): AppError {
  return new AppError("CHECKOUT_IN_PROGRESS", "This order is already being placed; wait a moment and check your confirmation", {
    orderId,
    retryAfterSeconds,
  });
}

/**
 * Unit of work 1: check the quote still holds, write the order, reserve stock. All or nothing.
 * A retry of the same attempt (the cart's live pending order was placed from this quote and this
 * token, and the provider never answered: no payment row) takes the order's authorisation claim
 * instead, so placeOrder resumes it; `claimUntil` is the claim this request now holds either way.
 */
async function createPendingOrder(input: PlaceOrderInput, quoted: PricedCart, quoteId: string, now: Date) {
  const claimUntil = new Date(now.getTime() + providerClaimMs(input.payments));
  const tokenHash = hashPaymentToken(input.paymentToken);
  const stockPolicy = input.stockPolicy ?? StockPolicy.DEFAULT_STOCK_POLICY;
  return input.db.transaction().execute(async (trx) => {
    const cartRow = await CartRepository.findCartForUpdate(trx, input.cartId);
    if (!cartRow) throw new AppError("NOT_FOUND", "This cart does not exist or has expired", { cartId: input.cartId });
    const orders = await OrderRepository.listOrdersOfCart(trx, cartRow.id);
    const live = orders.find((order) => order.status !== "payment_failed");
    if (live && live.status === "pending_payment") {
      const isSameAttempt = live.quote_id === quoteId && live.payment_token_hash !== null && live.payment_token_hash === tokenHash;
      if (!isSameAttempt) throw checkoutInProgress(live.id, 2);
      // Conditional: not while another request holds the claim, and only if the provider never answered.
      if (!(await OrderRepository.claimAuthorization(trx, { orderId: live.id, until: claimUntil, now }))) {
        const claimedFor = live.authorizing_until ? Math.ceil((live.authorizing_until.getTime() - now.getTime()) / 1000) : 0;
        throw checkoutInProgress(live.id, Math.max(2, claimedFor));
      }
      await Audit.record(trx, {
        entity: "order",
        entityId: live.id,
        action: "order.payment_resumed",
        actor: "shopper",
        origin: input.origin,
        data: { status: "pending_payment", quoteId, authorizingUntil: claimUntil.toISOString() },
      });
      return { order: live, isResumed: true, claimUntil };
    }
    if (live || cartRow.status !== "open") {
      throw new AppError("ALREADY_ORDERED", "This cart has already been ordered", { orderId: live?.id ?? null });
    }
    // The same attempt again after the reconciler released its order (the provider never answered; nothing was
    // charged): that attempt is over. Answering with a final error, not a new order, keeps one key to one order.
    const released = orders.find((order) => order.quote_id === quoteId && order.payment_token_hash === tokenHash);
    if (released) {
      throw new AppError(
        "PAYMENT_TOKEN_INVALID",
        "The payment processor could not be reached in time, so that attempt was cancelled and nothing was charged; enter your card again to place the order",
        { orderId: released.id, status: released.status },
      );
    }
    const lineRows = (await CartRepository.findCartWithLines(trx, cartRow.id))?.lines ?? [];
    const cart = Cart.rowToCart(cartRow, lineRows);
    const { priced, address, email, promotion, promotionProblem } = await priceCurrentCart(trx, cart, now, lineRows);
    if (promotionProblem?.code === "PROMO_EXHAUSTED") throw promotionProblem;
    const diff = diffPricing(quoted, priced);
    if (hasDifference(diff)) {
      // A code that stopped being valid since the quote shows up here as a discount difference.
      const reason = promotionProblem ? `${promotionProblem.message}, so your` : "Your";
      throw new AppError("PRICE_CHANGED", `${reason} order total has changed since you reviewed it; please check the new total`, {
        ...diff,
        quotedTotal: quoted.total,
        currentTotal: priced.total,
        ...(promotionProblem ? { promotion: promotionProblem.details } : {}),
      });
    }
    const orderRow = await OrderRepository.insertOrder(trx, {
      id: randomUUID(),
      cart_id: cart.id,
      quote_id: quoteId,
      status: "pending_payment",
      email,
      shipping_address: JSON.stringify(address),
      shipping_option: JSON.stringify(priced.shippingOption),
      currency: priced.currency,
      subtotal: priced.subtotal,
      discount: priced.discount,
      promo_code: priced.promoCode,
      shipping: priced.shipping,
      tax: priced.tax,
      tax_inclusive: priced.taxInclusive,
      total: priced.total,
      reservation_expires_at: new Date(now.getTime() + stockPolicy.holdMs),
      payment_token_hash: tokenHash,
      // This request authorises next: retries and the reconciler keep off until it is done or has run out.
      authorizing_until: claimUntil,
    });
    await OrderRepository.insertOrderLines(
      trx,
      priced.lines.map((line, position) => ({
        order_id: orderRow.id,
        position,
        sku: line.sku,
        product_name: line.productName,
        variant_name: line.variantName,
        unit_price: line.unitPrice,
        quantity: line.quantity,
        line_total: line.lineTotal,
        discount: line.discount,
        tax: line.tax,
      })),
    );
    // Count the promotion's use before reserving stock: if it was used up meanwhile, nothing is held.
    if (promotion) await PromotionService.redeem(trx, { promotion, orderId: orderRow.id, email, amount: priced.discount });
    const lines = priced.lines.map((line) => ({ sku: line.sku, label: `${line.productName} (${line.variantName})`, quantity: line.quantity }));
    await Inventory.reserve(trx, { orderId: orderRow.id, lines, policy: stockPolicy, actor: "shopper", origin: input.origin });
    await Audit.record(trx, {
      entity: "order",
      entityId: orderRow.id,
      action: "order.created",
      actor: "shopper",
      origin: input.origin,
      data: { status: "pending_payment", total: priced.total, currency: priced.currency },
    });
    return { order: orderRow, isResumed: false, claimUntil };
  });
}

export async function placeOrder(input: PlaceOrderInput): Promise<Order> {
  const now = input.now ?? new Date();
  const quoteRow = await QuoteRepository.findQuote(input.db, input.quoteId);
  if (!quoteRow || quoteRow.cart_id !== input.cartId) {
    throw new AppError("NOT_FOUND", "That quote does not belong to this cart; review your order again", { quoteId: input.quoteId });
  }
  if (quoteRow.expires_at.getTime() <= now.getTime()) {
    throw new AppError("QUOTE_EXPIRED", "Your order summary has expired; review the latest total and place the order again", {
      quoteId: quoteRow.id,
      expiredAt: quoteRow.expires_at.toISOString(),
    });
  }
  // A locked cart, address, email or card is refused here, before any stock is held.
  const attempt = await PaymentAttempt.begin({ ...input, onReport: input.onAttempt, limits: input.velocity, now });
  const { order, claimUntil } = await createPendingOrder(input, quoteRow.snapshot as unknown as PricedCart, quoteRow.id, now);
  let placedStatus: Order["status"] | null = null;
  try {
    await PaymentAttempt.reserve({ attempt, orderId: order.id });
    const placed = await authorizeAndRecord(input, order, attempt);
    placedStatus = placed.status;
    PaymentAttempt.noteOutcome({ attempt, order: placed });
    return placed;
  } catch (error) {
    PaymentAttempt.noteOutcome({ attempt, error });
    throw error;
  } finally {
    // Unless the order has left pending_payment (the claim guards only pending orders), the claim goes: a retry may
    // resume an order the provider never answered for, and the reconciler may settle it. A claim left behind (a crash,
    // the database gone) runs out.
    if (placedStatus === null || placedStatus === "pending_payment") {
      await OrderRepository.releaseAuthorizationClaim(input.db, { orderId: order.id, until: claimUntil }).catch(() => {});
    }
    await PaymentAttempt.settle({ attempt }).catch(() => {});
  }
}

/**
 * Authorises a pending order with its derived provider key, records the answer and captures per
 * the capture mode. The same for a first attempt and a resumed one: the provider deduplicates the key.
 */
async function authorizeAndRecord(input: PlaceOrderInput, order: OrderRow, attempt: PaymentAttempt.Attempt): Promise<Order> {
  const settling = { db: input.db, payments: input.payments, captureMode: input.captureMode ?? "immediate", order, actor: "shopper" } as const;
  // The provider call happens outside any transaction: no row lock is held while we wait on it.
  let result: AuthorizeResult;
  try {
    result = await input.payments.authorize({
      token: input.paymentToken,
      amount: order.total,
      currency: order.currency,
      idempotencyKey: PaymentOutcome.providerKeys.authorize(order.id),
      reference: order.number,
    });
  } catch (error) {
    if (error instanceof PaymentTokenRejectedError) {
      await settle({ ...settling, state: { status: "declined", code: "token_rejected", card: null } });
      throw new AppError("PAYMENT_TOKEN_INVALID", "The card details expired or were already used; enter your card again", { orderId: order.id });
    }
    if (error instanceof PaymentProviderUnavailableError) {
      // The outcome is unknown, so the order stays pending_payment with its stock reserved; the
      // authorisation key is derived from the order, so the reconciler resolving it cannot charge twice.
      throw new AppError("PAYMENT_UNAVAILABLE", "We could not reach the payment processor. You will not be charged twice; check your order shortly.", {
        orderId: order.id,
      });
    }
    throw error;
  }

  if (result.status === "declined") {
    // Counted before the order leaves pending_payment; the answer is the decline's category, or the lock it tripped.
    const answer = await PaymentAttempt.recordDecline({ attempt, orderId: order.id, code: result.code, card: result.card });
    await settle({ ...settling, state: result });
    throw answer;
  }
  // Authorised, or waiting on the shopper's 3-D Secure challenge (checkout.confirmPayment or the provider's webhook
  // settles it afterwards, and the hold sweep releases it if nobody ever does).
  const settled = await settle({ ...settling, state: { ...result, capturedAmount: 0, refundedAmount: 0, failureCode: null } });
  if (settled.outcome === "late_voided") {
    throw new AppError("PAYMENT_UNAVAILABLE", "The payment processor answered too late, so your card was not charged. Please place the order again.", { orderId: order.id });
  }
  return OrderModule.get({ db: input.db, orderId: order.id });
}
