// What the payment provider tells us after the fact (a signed webhook, or the answer to a lookup), applied to our orders.
import type { Kysely } from "kysely";
import { z } from "zod";
import type { Database } from "../db/database.ts";
import { CurrencySchema } from "../schemas.ts";
import { AppError, isAppError } from "../error.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as PaymentRepository from "./payment.repository.ts";
import * as PaymentOutcome from "./payment-outcome.ts";
import * as WebhookEventRepository from "./webhook-event.repository.ts";
import { PaymentProviderUnavailableError, type AuthorizationState, type PaymentProvider } from "./payment-provider.ts";

const amount = z.number().int().nonnegative();

/** The authorisation as the provider describes it inside an event. */
const AuthorizationPayloadSchema = z.object({
  id: z.string().min(1).max(255),
  status: z.enum(["requires_action", "authorized", "failed", "captured", "voided"]),
  amount,
  currency: CurrencySchema,
  reference: z.string().min(1).max(255),
  capturedAmount: amount.default(0),
  refundedAmount: amount.default(0),
  card: z.object({ brand: z.string().max(32), last4: z.string().max(4) }),
  failureCode: z.string().max(100).nullable().default(null),
});

export const ProviderEventSchema = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(100),
  /** Unix seconds. */
  created: z.number().int().positive(),
  data: z.record(z.string(), z.unknown()),
});

export type ProviderEvent = z.infer<typeof ProviderEventSchema>;

/** Event types that move an order; every other type is stored and acknowledged. */
const AUTHORIZATION_OUTCOMES = {
  "authorization.succeeded": "authorized",
  "authorization.failed": "failed",
} as const satisfies Record<string, AuthorizationState["status"]>;

type OutcomeEventType = keyof typeof AUTHORIZATION_OUTCOMES;

function isOutcomeEvent(type: string): type is OutcomeEventType {
  return Object.hasOwn(AUTHORIZATION_OUTCOMES, type);
}

export type SettleOutcome = "authorised" | "failed" | "unchanged";

export type ReceiveResult =
  | { isDuplicate: true }
  | { isDuplicate: false; outcome: SettleOutcome | "acknowledged" | "ignored"; reason?: string };

interface Settlement {
  db: Kysely<Database>;
  payments: PaymentProvider;
  captureMode: PaymentOutcome.CaptureMode;
}

/** Captures an authorised order; an unreachable provider leaves it authorised for the reconciler. */
export async function captureIfReachable(input: { db: Kysely<Database>; payments: PaymentProvider; orderId: string }): Promise<boolean> {
  try {
    return await PaymentOutcome.capture(input);
  } catch (error) {
    if (error instanceof PaymentProviderUnavailableError) return false;
    throw error;
  }
}

/**
 * Brings a pending order in line with the provider's view of its authorisation: authorised (and
 * captured when capture is immediate), failed with its stock released, or left alone while the
 * shopper still owes the challenge. Safe to run from several places at once (webhook, the shopper's
 * confirmPayment, the reconciler): the outcome functions move the order with conditional updates.
 */
export async function settleOrder(input: Settlement & { orderId: string; state: AuthorizationState }): Promise<SettleOutcome> {
  const { db, payments, orderId, state } = input;
  switch (state.status) {
    case "requires_action":
      return "unchanged";
    case "failed":
    case "voided": {
      const code = state.status === "voided" ? "authorization_voided" : (state.failureCode ?? "authentication_failed");
      const isRecorded = await PaymentOutcome.recordFailed({ db, orderId, provider: payments.name, code, card: state.card });
      return isRecorded ? "failed" : "unchanged";
    }
    case "authorized":
    case "captured": {
      const isRecorded = await PaymentOutcome.recordAuthorized({
        db,
        orderId,
        provider: payments.name,
        authorizationId: state.authorizationId,
        card: state.card,
        amount: state.amount,
      });
      // Also when another caller recorded it: a capture it could not finish is finished here (same key).
      if (input.captureMode === "immediate" || state.status === "captured") await captureIfReachable({ db, payments, orderId });
      return isRecorded ? "authorised" : "unchanged";
    }
  }
}

function parseEvent(raw: unknown): { event: ProviderEvent; authorization: z.infer<typeof AuthorizationPayloadSchema> | null } {
  const parsed = ProviderEventSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError("BAD_INPUT", "This is not a payment provider event", { issues: parsed.error.issues.map((issue) => issue.message) });
  }
  const event = parsed.data;
  if (!isOutcomeEvent(event.type)) return { event, authorization: null };
  const authorization = AuthorizationPayloadSchema.safeParse(event.data.authorization);
  if (!authorization.success) {
    throw new AppError("BAD_INPUT", `A ${event.type} event must describe the authorisation`, {
      issues: authorization.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`),
    });
  }
  return { event, authorization: authorization.data };
}

async function applyOutcomeEvent(
  input: Settlement,
  type: OutcomeEventType,
  authorization: z.infer<typeof AuthorizationPayloadSchema>,
): Promise<Exclude<ReceiveResult, { isDuplicate: true }>> {
  const order = await OrderRepository.findOrderByNumber(input.db, authorization.reference);
  if (!order) return { isDuplicate: false, outcome: "ignored", reason: "no order has this reference" };
  const payment = await PaymentRepository.findLatestPaymentOfOrder(input.db, order.id);
  if (payment?.provider_reference && payment.provider_reference !== authorization.id) {
    return { isDuplicate: false, outcome: "ignored", reason: "the authorisation is not this order's payment" };
  }
  const state: AuthorizationState = {
    authorizationId: authorization.id,
    status: AUTHORIZATION_OUTCOMES[type],
    amount: authorization.amount,
    currency: authorization.currency,
    capturedAmount: authorization.capturedAmount,
    refundedAmount: authorization.refundedAmount,
    card: authorization.card,
    failureCode: authorization.failureCode,
  };
  try {
    return { isDuplicate: false, outcome: await settleOrder({ ...input, orderId: order.id, state }) };
  } catch (error) {
    // A signed event that contradicts the order (say, another amount) is kept for a person, never retried into a loop.
    if (!isAppError(error) || error.code !== "ILLEGAL_TRANSITION") throw error;
    await Audit.record(input.db, {
      entity: "order",
      entityId: order.id,
      action: "payment.event_rejected",
      actor: "provider",
      outcome: "failure",
      data: { type, authorizationId: authorization.id, authorised: authorization.amount, total: order.total, reason: error.message },
    });
    return { isDuplicate: false, outcome: "ignored", reason: error.message };
  }
}

/**
 * Takes one provider event whose signature the caller has verified. Each event id is acted on once:
 * a redelivery of an event already processed is reported as a duplicate and changes nothing; one
 * whose first processing failed half way is processed again (every step is idempotent).
 */
export async function receive(input: Settlement & { event: unknown }): Promise<ReceiveResult> {
  const { event, authorization } = parseEvent(input.event);
  const isNew = await WebhookEventRepository.insertEventIfNew(input.db, { id: event.id, type: event.type, payload: event });
  if (!isNew && (await WebhookEventRepository.findEvent(input.db, event.id))?.processed_at) return { isDuplicate: true };
  const result: ReceiveResult =
    authorization && isOutcomeEvent(event.type)
      ? await applyOutcomeEvent(input, event.type, authorization)
      : { isDuplicate: false, outcome: "acknowledged" };
  await WebhookEventRepository.markProcessed(input.db, event.id);
  return result;
}
