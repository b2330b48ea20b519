// Recording a payment's outcome on its order: the writes `settle` (settle.ts) makes once it has read the provider's
// answer, and the capture. Every function here is idempotent and race-safe: transitions are conditional updates, so
// two callers cannot both win.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as CartRepository from "../cart/cart.repository.ts";
import * as Inventory from "../inventory/inventory.ts";
import * as OrderModule from "../order/order.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as Outbox from "../outbox/outbox.repository.ts";
import * as PaymentRepository from "./payment.repository.ts";
import * as PromotionService from "../promotion/promotion.service.ts";
import type { CardSummary, PaymentProvider } from "./payment-provider.ts";

/** Who made the change, for the audit trail (the system when not given). */
interface Trail {
  actor?: string;
}

export type CaptureMode = "immediate" | "on_fulfilment";

/** Idempotency keys for provider calls, derived from the order: a retry can never charge twice. */
export const providerKeys = {
  authorize: (orderId: string) => `order_${orderId}_authorize`,
  capture: (orderId: string) => `order_${orderId}_capture`,
  void: (orderId: string) => `order_${orderId}_void`,
  /** Each refund has its own id, stored before the provider is called, so a retry of that refund replays it. */
  refund: (refundId: string) => `refund_${refundId}`,
};

/**
 * Records a successful authorisation: the order moves pending_payment → authorised, its payment
 * row, the closed cart, the audit records and the `order.placed` outbox event are written in one
 * transaction. Returns false when the order had already left pending_payment (nothing written).
 * The caller (`settle`) has checked that the provider authorised the order's total in its currency.
 */
export async function recordAuthorized(input: { db: Kysely<Database>; orderId: string; provider: string; authorizationId: string; card: CardSummary } & Trail): Promise<boolean> {
  return input.db.transaction().execute(async (trx) => {
    const order = await OrderRepository.findOrder(trx, input.orderId);
    if (!order) throw new AppError("NOT_FOUND", "No such order", { orderId: input.orderId });
    if (!(await OrderModule.transition({ db: trx, orderId: order.id, from: "pending_payment", to: "authorised" }))) return false;
    const existing = await PaymentRepository.findLatestPaymentOfOrder(trx, order.id);
    let paymentId: string;
    if (existing && existing.status === "requires_action" && existing.provider_reference === input.authorizationId) {
      paymentId = existing.id;
      await PaymentRepository.updatePayment(trx, existing, { status: "authorised", next_action_url: null, card_brand: input.card.brand, card_last4: input.card.last4 });
    } else {
      const payment = await PaymentRepository.insertPayment(trx, {
        id: randomUUID(),
        order_id: order.id,
        provider: input.provider,
        provider_reference: input.authorizationId,
        status: "authorised",
        amount: order.total,
        currency: order.currency,
        card_brand: input.card.brand,
        card_last4: input.card.last4,
      });
      paymentId = payment.id;
    }
    await CartRepository.updateCart(trx, order.cart_id, { status: "completed" });
    // One statement for both rows, in this order (each extra statement is a round trip inside the transaction).
    await Audit.recordMany(trx, [
      { entity: "payment", entityId: paymentId, action: "payment.authorised", actor: input.actor, data: { orderId: order.id, amount: order.total } },
      { entity: "order", entityId: order.id, action: "order.authorised", actor: input.actor, data: { from: "pending_payment", to: "authorised" } },
    ]);
    await Outbox.enqueue(trx, {
      type: "order.placed",
      aggregateId: order.id,
      payload: { orderId: order.id, number: order.number, email: order.email, total: order.total, currency: order.currency },
    });
    return true;
  });
}

/**
 * Records that the card needs 3-D Secure: a requires_action payment row with the challenge URL; the
 * order stays pending_payment with its stock held. The order row is locked while this runs, so a
 * webhook or confirmPayment settling the same order waits and then finds this row. Returns false
 * when the order has left pending_payment or the row already exists (nothing written).
 */
export async function recordRequiresAction(
  input: {
    db: Kysely<Database>;
    orderId: string;
    provider: string;
    authorizationId: string;
    nextActionUrl: string;
    card: CardSummary;
  } & Trail,
): Promise<boolean> {
  return input.db.transaction().execute(async (trx) => {
    const order = await OrderRepository.findOrderForUpdate(trx, input.orderId);
    if (!order) throw new AppError("NOT_FOUND", "No such order", { orderId: input.orderId });
    if (order.status !== "pending_payment") return false;
    const existing = await PaymentRepository.findLatestPaymentOfOrder(trx, order.id);
    if (existing?.provider_reference === input.authorizationId) return false;
    const payment = await PaymentRepository.insertPayment(trx, {
      id: randomUUID(),
      order_id: order.id,
      provider: input.provider,
      provider_reference: input.authorizationId,
      status: "requires_action",
      amount: order.total,
      currency: order.currency,
      card_brand: input.card.brand,
      card_last4: input.card.last4,
      next_action_url: input.nextActionUrl,
    });
    await Audit.record(trx, {
      entity: "payment",
      entityId: payment.id,
      action: "payment.requires_action",
      actor: input.actor,
      data: { orderId: order.id, amount: order.total, authorizationId: input.authorizationId },
    });
    return true;
  });
}

/** Marks a pending order's payment as failed and gives its stock and promo-code use back, in one transaction. */
export async function recordFailed(input: { db: Kysely<Database>; orderId: string; provider: string; code: string; card: CardSummary | null } & Trail): Promise<boolean> {
  return input.db.transaction().execute(async (trx) => {
    const order = await OrderRepository.findOrder(trx, input.orderId);
    if (!order) return false;
    if (!(await OrderModule.transition({ db: trx, orderId: order.id, from: "pending_payment", to: "payment_failed" }))) return false;
    await Inventory.release(trx, { orderId: order.id, actor: input.actor });
    await PromotionService.releaseRedemption(trx, order.id);
    const existing = await PaymentRepository.findLatestPaymentOfOrder(trx, order.id);
    let paymentId: string;
    if (existing && existing.status === "requires_action") {
      paymentId = existing.id;
      await PaymentRepository.updatePayment(trx, existing, { status: "declined", decline_code: input.code, next_action_url: null });
    } else {
      const payment = await PaymentRepository.insertPayment(trx, {
        id: randomUUID(),
        order_id: order.id,
        provider: input.provider,
        status: "declined",
        amount: order.total,
        currency: order.currency,
        card_brand: input.card?.brand ?? null,
        card_last4: input.card?.last4 ?? null,
        decline_code: input.code,
      });
      paymentId = payment.id;
    }
    await Audit.recordMany(trx, [
      { entity: "payment", entityId: paymentId, action: "payment.declined", actor: input.actor, outcome: "failure", data: { orderId: order.id, code: input.code } },
      { entity: "order", entityId: order.id, action: "order.payment_failed", actor: input.actor, data: { from: "pending_payment", to: "payment_failed" } },
    ]);
    return true;
  });
}

/**
 * Captures an authorised order's payment in full (order authorised → captured). Safe to call again:
 * the provider call carries the order's capture key, and the transition only happens once.
 */
export async function capture(input: { db: Kysely<Database>; payments: PaymentProvider; orderId: string } & Trail): Promise<boolean> {
  const order = await OrderRepository.findOrder(input.db, input.orderId);
  if (!order) throw new AppError("NOT_FOUND", "No such order", { orderId: input.orderId });
  if (order.status !== "authorised") return false;
  const payment = await PaymentRepository.findLatestPaymentOfOrder(input.db, order.id);
  // Someone else (a webhook, the shopper's confirmPayment, the reconciler) captured it first.
  if (payment?.status === "captured") return false;
  if (!payment?.provider_reference || payment.status !== "authorised") {
    throw new AppError("ILLEGAL_TRANSITION", "This order has no authorised payment to capture", { orderId: order.id });
  }
  await input.payments.capture({ authorizationId: payment.provider_reference, amount: order.total, idempotencyKey: providerKeys.capture(order.id) });
  return input.db.transaction().execute(async (trx) => {
    if (!(await OrderModule.transition({ db: trx, orderId: order.id, from: "authorised", to: "captured" }))) return false;
    await PaymentRepository.updatePayment(trx, payment, { status: "captured", captured_amount: order.total });
    await Audit.recordMany(trx, [
      { entity: "payment", entityId: payment.id, action: "payment.captured", actor: input.actor, data: { orderId: order.id, amount: order.total } },
      { entity: "order", entityId: order.id, action: "order.captured", actor: input.actor, data: { from: "authorised", to: "captured" } },
    ]);
    await Outbox.enqueue(trx, { type: "order.captured", aggregateId: order.id, payload: { orderId: order.id, amount: order.total, currency: order.currency } });
    return true;
  });
}
