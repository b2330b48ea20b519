// Settling an order: bringing it in line with what the provider says about its payment. Every path that learns an
// answer calls `settle` — placeOrder with its own authorise call's answer, a provider webhook, the shopper's
// confirmPayment after 3-D Secure, the reconciler's lookup — so the answer means the same thing whoever hears it.
//
// - The provider's answer is read once, by `verdictOf` (payment-state.ts).
// - What the provider authorised must be the order's total in the order's currency; otherwise nothing is recorded or
//   captured, the mismatch is audited and AMOUNT_MISMATCH is raised, and the order waits for a person.
// - A late answer: the provider authorises an order that has already failed or been cancelled (the reconciler gave up
//   on it, an operator cancelled it). Nothing about the order changes; the authorisation is voided so no money stays
//   held for an order that no longer exists (if the provider cannot be reached, a failed audit row says to void it).
// - Recording is race-safe: each transition is a conditional update, so two paths settling one order cannot both win.
import type { Kysely } from "kysely";
import type { Database, OrderRow } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as PaymentOutcome from "./payment-outcome.ts";
import type { AuthorizationState, PaymentProvider } from "./payment-provider.ts";
import { reach } from "./provider-call.ts";
import { verdictOf, type ProviderState } from "./payment-state.ts";

export type SettleOutcome =
  | "authorised"
  /** The shopper owes the 3-D Secure challenge: the payment waits on it, the order keeps its stock. */
  | "awaiting_action"
  /** The order failed and its stock is back. */
  | "failed"
  /** Nothing to record: another path settled it first, or the answer adds nothing to what is recorded. */
  | "unchanged"
  /** A late authorisation of an order that had already failed or been cancelled, voided at the provider (or left to lapse). */
  | "late_voided";

export interface Settlement {
  outcome: SettleOutcome;
  /** Whether this call captured the payment, could not reach the provider to, or had nothing to capture. */
  capture: "captured" | "unreachable" | "none";
}

export interface SettleInput {
  db: Kysely<Database>;
  payments: PaymentProvider;
  captureMode: PaymentOutcome.CaptureMode;
  order: OrderRow;
  state: ProviderState;
  /** Who learned the answer, for the audit trail: "shopper", "provider", "reconciler" or an operator. */
  actor: string;
}

/** Settles one order with the provider's answer. Raises AMOUNT_MISMATCH when the provider holds another amount or currency. */
export async function settle(input: SettleInput): Promise<Settlement> {
  const { db, payments, order, state } = input;
  const verdict = verdictOf(state);
  switch (verdict.kind) {
    case "failed": {
      const card = state?.card ?? null;
      const isRecorded = await PaymentOutcome.recordFailed({ db, orderId: order.id, provider: payments.name, code: verdict.code, card, actor: input.actor });
      return { outcome: isRecorded ? "failed" : "unchanged", capture: "none" };
    }
    case "awaiting_action": {
      const authorization = state as AuthorizationState & { nextActionUrl?: string };
      await assertAuthorisedAsOrdered(input, authorization);
      // A lookup or a webhook saying "still waiting" adds nothing; only the authorise answer names the challenge page.
      if (!authorization.nextActionUrl) return { outcome: "unchanged", capture: "none" };
      const isRecorded = await PaymentOutcome.recordRequiresAction({
        db,
        orderId: order.id,
        provider: payments.name,
        authorizationId: authorization.authorizationId,
        nextActionUrl: authorization.nextActionUrl,
        card: authorization.card,
        actor: input.actor,
      });
      return { outcome: isRecorded ? "awaiting_action" : "unchanged", capture: "none" };
    }
    case "authorised": {
      const authorization = state as AuthorizationState;
      await assertAuthorisedAsOrdered(input, authorization);
      const isRecorded = await PaymentOutcome.recordAuthorized({
        db,
        orderId: order.id,
        provider: payments.name,
        authorizationId: authorization.authorizationId,
        card: authorization.card,
        actor: input.actor,
      });
      if (!isRecorded && (await voidIfLate(input, authorization))) return { outcome: "late_voided", capture: "none" };
      // Also when another path recorded it: a capture it could not finish is finished here (the same key).
      const capture = input.captureMode === "immediate" || verdict.isCaptured ? await captureIfReachable(input) : "none";
      return { outcome: isRecorded ? "authorised" : "unchanged", capture };
    }
  }
}

/** Captures an authorised order in full; an unreachable provider leaves it authorised for the reconciler. */
export async function captureIfReachable(input: { db: Kysely<Database>; payments: PaymentProvider; order: { id: string }; actor?: string }): Promise<Settlement["capture"]> {
  const captured = await reach(() => PaymentOutcome.capture({ db: input.db, payments: input.payments, orderId: input.order.id, actor: input.actor }));
  if (!captured.isReached) return "unreachable";
  return captured.value ? "captured" : "none";
}

async function assertAuthorisedAsOrdered(input: SettleInput, authorization: AuthorizationState): Promise<void> {
  const { order } = input;
  if (authorization.amount === order.total && authorization.currency === order.currency) return;
  const details = {
    orderId: order.id,
    number: order.number,
    authorizationId: authorization.authorizationId,
    authorised: { amount: authorization.amount, currency: authorization.currency },
    ordered: { amount: order.total, currency: order.currency },
  };
  await Audit.record(input.db, { entity: "order", entityId: order.id, action: "payment.amount_mismatch", actor: input.actor, outcome: "failure", data: details });
  throw new AppError(
    "AMOUNT_MISMATCH",
    `The payment processor authorised ${authorization.amount} ${authorization.currency} for order ${order.number}, whose total is ${order.total} ${order.currency}; nothing was captured and the order is held for review`,
    details,
  );
}

/** Voids an authorisation that arrived for an order already failed or cancelled; false when the order is not such an order. */
async function voidIfLate(input: SettleInput, authorization: AuthorizationState): Promise<boolean> {
  const order = await OrderRepository.findOrder(input.db, input.order.id);
  if (!order || (order.status !== "payment_failed" && order.status !== "cancelled")) return false;
  if (authorization.status === "captured") {
    // Taken already: only a refund gives it back, and that is an operator's decision.
    const data = { number: order.number, authorizationId: authorization.authorizationId, status: order.status };
    await Audit.record(input.db, { entity: "order", entityId: order.id, action: "payment.late_capture_needs_refund", actor: input.actor, outcome: "failure", data });
    return true;
  }
  const key = PaymentOutcome.providerKeys.void(order.id);
  const voided = await reach(() => input.payments.void({ authorizationId: authorization.authorizationId, idempotencyKey: key }));
  await Audit.record(input.db, {
    entity: "order",
    entityId: order.id,
    action: voided.isReached ? "payment.late_authorization_voided" : "payment.late_authorization_void_failed",
    actor: input.actor,
    outcome: voided.isReached ? "success" : "failure",
    data: { number: order.number, authorizationId: authorization.authorizationId, status: order.status },
  });
  return true;
}
