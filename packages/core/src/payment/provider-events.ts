// What the payment provider tells us after the fact (a signed webhook, or the answer to a lookup), applied to our orders.
import type { Kysely } from "kysely";
import { z } from "zod";
import type { Database } from "../db/database.ts";
import { CurrencySchema } from "../schemas.ts";
import { AppError, isAppError } from "../error.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as PaymentRepository from "./payment.repository.ts";
import type * as PaymentOutcome from "./payment-outcome.ts";
import * as WebhookEventRepository from "./webhook-event.repository.ts";
import type { AuthorizationState, PaymentProvider } from "./payment-provider.ts";
import { settle, type SettleOutcome } from "./settle.ts";

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

export type ReceiveResult = { isDuplicate: true } | { isDuplicate: false; outcome: SettleOutcome | "acknowledged" | "ignored"; reason?: string };

/** What acting on an event needs. */
interface Receiving {
  db: Kysely<Database>;
  payments: PaymentProvider;
  captureMode: PaymentOutcome.CaptureMode;
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
  input: Receiving,
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
    const settled = await settle({ ...input, order, state, actor: "provider" });
    return { isDuplicate: false, outcome: settled.outcome };
  } catch (error) {
    // A signed event that contradicts the order (another amount or currency) is audited by settle and kept for a
    // person, never retried into a loop.
    if (!isAppError(error) || error.code !== "AMOUNT_MISMATCH") throw error;
    return { isDuplicate: false, outcome: "ignored", reason: error.message };
  }
}

/**
 * Takes one provider event whose signature the caller has verified. Each event id is acted on once:
 * a redelivery of an event already processed is reported as a duplicate and changes nothing; one
 * whose first processing failed half way is processed again (every step is idempotent).
 */
export async function receive(input: Receiving & { event: unknown }): Promise<ReceiveResult> {
  const { event, authorization } = parseEvent(input.event);
  const isNew = await WebhookEventRepository.insertEventIfNew(input.db, { id: event.id, type: event.type, payload: event });
  if (!isNew && (await WebhookEventRepository.findEvent(input.db, event.id))?.processed_at) return { isDuplicate: true };
  const result: ReceiveResult =
    authorization && isOutcomeEvent(event.type) ? await applyOutcomeEvent(input, event.type, authorization) : { isDuplicate: false, outcome: "acknowledged" };
  await WebhookEventRepository.markProcessed(input.db, event.id);
  return result;
}
