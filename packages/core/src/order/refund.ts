// Refunding a captured order, in three steps so the provider's key is never guessed:
//  1. In one transaction (the order locked): the state machine allows a refund, the amount fits what is left, and a
//     refund row with a fresh id is stored pending and claimed by this request. Refunds of one order take turns: while
//     another request holds its refund's claim, this one waits. A pending refund whose claim ran out (the provider did
//     not answer, or our last step was lost) is taken over when this request asks for the same amount; one of another
//     amount is refused with REFUND_PENDING until that refund is repeated and finished.
//  2. The provider is called with the refund's id as its idempotency key, outside any transaction: a retry of this
//     refund replays it at the provider, and no other refund can ever present the same key.
//  3. In one transaction: the refund is marked succeeded (once: a conditional update), the payment's refunded amount
//     and the order's status move, audited, and `order.refunded` is enqueued.
import { randomUUID } from "node:crypto";
import { setTimeout } from "node:timers/promises";
import type { Kysely } from "kysely";
import type { Database, OrderRow, RefundRow } from "../db/database.ts";
import type { Order } from "../schemas.ts";
import { AppError } from "../error.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as Outbox from "../outbox/outbox.repository.ts";
import * as PaymentOutcome from "../payment/payment-outcome.ts";
import * as PaymentRepository from "../payment/payment.repository.ts";
import { PaymentProviderUnavailableError, type PaymentProvider } from "../payment/payment-provider.ts";
import { providerClaimMs } from "../payment/provider-call.ts";
import type { Acting } from "./admin-inputs.ts";
import * as OrderModule from "./order.ts";
import * as OrderRepository from "./order.repository.ts";
import * as OrderAdminRepository from "./order-admin.repository.ts";
import * as RefundRepository from "./refund.repository.ts";
import { guard } from "./order-state.ts";

type RefundInput = { db: Kysely<Database>; payments: PaymentProvider; orderId: string; amount: number; reason: string } & Acting;

async function lockRefundable(trx: Kysely<Database>, orderId: string): Promise<{ order: OrderRow }> {
  const order = await OrderRepository.findOrderForUpdate(trx, orderId);
  if (!order) throw new AppError("NOT_FOUND", "No order with that id", { orderId });
  guard("refundPart", order);
  return { order };
}

/** How often a refund waiting its turn looks again. */
const TURN_POLL_MS = 50;

type Claim = { refund: RefundRow } | { waitUntil: Date };

/** Step 1: the refund this call carries out, stored (or taken over) pending and claimed before the provider hears of it. */
async function claimRefund(input: RefundInput): Promise<RefundRow> {
  const claimMs = providerClaimMs(input.payments);
  for (;;) {
    const claim = await input.db.transaction().execute(async (trx): Promise<Claim> => {
      const now = new Date();
      const { order } = await lockRefundable(trx, input.orderId);
      const payment = await OrderAdminRepository.findCapturedPaymentForUpdate(trx, order.id);
      if (!payment?.provider_reference) throw new AppError("ILLEGAL_TRANSITION", "This order has no captured payment to refund", { orderId: order.id });
      const pending = await RefundRepository.findPendingRefund(trx, order.id);
      if (pending) {
        // Another request is at the provider with it right now: wait for its turn to end.
        if (pending.claimed_until && pending.claimed_until > now) return { waitUntil: pending.claimed_until };
        if (pending.amount !== input.amount) {
          throw new AppError(
            "REFUND_PENDING",
            `A refund of ${pending.amount} (minor units) of order ${order.number} never got the payment processor's answer; repeat that refund to finish it before refunding another amount`,
            { orderId: order.id, pendingRefundId: pending.id, pendingAmount: pending.amount, requested: input.amount },
          );
        }
        const until = new Date(now.getTime() + claimMs);
        return (await RefundRepository.reclaimRefund(trx, { id: pending.id, now, until })) ? { refund: pending } : { waitUntil: until };
      }
      const refundable = payment.captured_amount - payment.refunded_amount;
      if (input.amount > refundable) {
        throw new AppError("REFUND_TOO_LARGE", `At most ${refundable} (minor units) of order ${order.number} can still be refunded`, {
          orderId: order.id,
          requested: input.amount,
          refundable,
          captured: payment.captured_amount,
          refunded: payment.refunded_amount,
        });
      }
      const refund = await RefundRepository.insertRefund(trx, {
        id: randomUUID(),
        order_id: order.id,
        payment_id: payment.id,
        amount: input.amount,
        reason: input.reason,
        actor: input.actor,
        claimed_until: new Date(now.getTime() + claimMs),
      });
      await Audit.record(trx, {
        entity: "payment",
        entityId: payment.id,
        action: "payment.refund_requested",
        actor: input.actor,
        origin: input.origin,
        data: { orderId: order.id, refundId: refund.id, amount: input.amount, reason: input.reason },
      });
      return { refund };
    });
    if ("refund" in claim) return claim.refund;
    // Refunds of one order take turns, so each sees what the previous ones refunded.
    await setTimeout(TURN_POLL_MS);
  }
}

/** Step 3: records the provider's refund once; a second caller finds it already recorded and changes nothing. */
async function recordRefund(input: RefundInput, refund: RefundRow, providerRefundId: string): Promise<void> {
  await input.db.transaction().execute(async (trx) => {
    const order = await OrderRepository.findOrderForUpdate(trx, refund.order_id);
    const payment = await OrderAdminRepository.findCapturedPaymentForUpdate(trx, refund.order_id);
    if (!order || !payment) throw new AppError("NOT_FOUND", "The refunded order or its payment is gone", { orderId: refund.order_id });
    // Another call carrying the same refund recorded it first.
    if (!(await RefundRepository.settleRefund(trx, { id: refund.id, status: "succeeded", providerRefundId }))) return;
    const refundedTotal = payment.refunded_amount + refund.amount;
    const isFull = refundedTotal === payment.captured_amount;
    await PaymentRepository.updatePayment(trx, payment, { refunded_amount: refundedTotal, ...(isFull ? { status: "refunded" } : {}) });
    const from = order.status;
    const to = guard(isFull ? "refundAll" : "refundPart", order);
    if (!(await OrderModule.transition({ db: trx, orderId: order.id, from, to }))) {
      throw new AppError("ILLEGAL_TRANSITION", "The order changed while it was being refunded; look at it again", { orderId: order.id });
    }
    const data = { orderId: order.id, amount: refund.amount, refundedTotal, captured: payment.captured_amount, refundId: refund.id, providerRefundId, reason: refund.reason };
    await Audit.record(trx, { entity: "payment", entityId: payment.id, action: "payment.refunded", actor: input.actor, origin: input.origin, data });
    await Audit.record(trx, {
      entity: "order",
      entityId: order.id,
      action: `order.${to}`,
      actor: input.actor,
      origin: input.origin,
      data: { orderId: order.id, from, to, amount: refund.amount, reason: refund.reason },
    });
    await Outbox.enqueue(trx, {
      type: "order.refunded",
      aggregateId: order.id,
      payload: { orderId: order.id, number: order.number, email: order.email, amount: refund.amount, refundedTotal, currency: order.currency, isFull },
    });
  });
}

/**
 * Refunds `amount` of a captured order. The total refunded never exceeds what was captured (and the
 * payment_amounts_consistent check would refuse it if code ever tried); retrying a refund whose answer was lost
 * replays it at the provider instead of refunding twice.
 */
export async function refund(input: RefundInput): Promise<Order> {
  const pending = await claimRefund(input);
  const payment = await PaymentRepository.findPaymentById(input.db, pending.payment_id);
  const authorizationId = payment?.provider_reference;
  if (!authorizationId) throw new AppError("ILLEGAL_TRANSITION", "This order has no captured payment to refund", { orderId: pending.order_id });
  let providerRefundId: string;
  try {
    ({ refundId: providerRefundId } = await input.payments.refund({
      authorizationId,
      amount: pending.amount,
      idempotencyKey: PaymentOutcome.providerKeys.refund(pending.id),
    }));
  } catch (error) {
    if (error instanceof PaymentProviderUnavailableError) {
      // Still pending: repeating this refund (same amount) replays it with the same key, at once.
      await RefundRepository.releaseRefundClaim(input.db, pending.id);
      throw new AppError("PAYMENT_UNAVAILABLE", "The payment processor did not answer; repeating this refund is safe", {
        orderId: pending.order_id,
        refundId: pending.id,
      });
    }
    // The provider refused it: the refund is over (failed), and another may be asked for.
    await RefundRepository.settleRefund(input.db, { id: pending.id, status: "failed", providerRefundId: null });
    throw error;
  }
  await recordRefund(input, pending, providerRefundId);
  return OrderModule.get({ db: input.db, orderId: pending.order_id });
}
