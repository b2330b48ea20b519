// What operators do to orders: search, inspect (payments and audit trail), cancel, refund, fulfil.
// Every action is audited with the operator's name and request origin; state changes go through
// the order state machine and announce themselves in the outbox, in the same transaction.
import type { Kysely } from "kysely";
import { z } from "zod";
import type { Database, Db, PaymentRow } from "../db/database.ts";
import { EmailSchema, IdSchema, SINGLE_LINE_TEXT, STORABLE_TEXT, type Order, type OrderStatus } from "../schemas.ts";
import { AppError } from "../error.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as Outbox from "../outbox/outbox.repository.ts";
import * as PaymentOutcome from "../payment/payment-outcome.ts";
import * as PaymentRepository from "../payment/payment.repository.ts";
import { PaymentProviderUnavailableError, type PaymentProvider } from "../payment/payment-provider.ts";
import { releaseRedemption } from "../promotion/promotion.service.ts";
import * as OrderModule from "./order.ts";
import * as OrderRepository from "./order.repository.ts";
import * as OrderAdminRepository from "./order-admin.repository.ts";
import { assertTransition, orderTransitions } from "./order-state.ts";

const statuses = Object.keys(orderTransitions) as [OrderStatus, ...OrderStatus[]];
const reason = z
  .string()
  .trim()
  .min(3, "Give a reason of at least 3 characters")
  .max(500, "A reason is at most 500 characters")
  .regex(STORABLE_TEXT, "A reason cannot contain a NUL character or half of a surrogate pair");

export const ListInput = z.strictObject({
  query: z.string().trim().min(1).max(254).regex(SINGLE_LINE_TEXT, "Search for an order number or part of an email address").optional(),
  status: z.enum(statuses).optional(),
  email: EmailSchema.optional(),
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
export const GetInput = z.strictObject({ orderId: IdSchema });
export const CancelInput = z.strictObject({ orderId: IdSchema, reason });
export const RefundInput = z.strictObject({
  orderId: IdSchema,
  amount: z.number().int("amount is in minor units (cents), a whole number").positive("amount must be positive").max(Number.MAX_SAFE_INTEGER),
  reason,
});
export const FulfilInput = z.strictObject({ orderId: IdSchema });

/** Who is acting and from where, for the audit record. */
export interface Acting {
  actor: string;
  origin: { ip?: string; userAgent?: string };
}

export interface OrderSummary {
  id: string;
  number: string;
  status: OrderStatus;
  email: string;
  currency: string;
  total: number;
  placedAt: string;
}

export interface AdminPayment {
  id: string;
  provider: string;
  providerReference: string | null;
  status: string;
  amount: number;
  currency: string;
  capturedAmount: number;
  refundedAmount: number;
  cardBrand: string | null;
  cardLast4: string | null;
  declineCode: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Statuses whose money was taken: such an order is refunded, never cancelled. */
const CAPTURED_STATUSES: readonly OrderStatus[] = ["captured", "fulfilled", "partially_refunded"];

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (typeof createdAt === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(createdAt) && IdSchema.safeParse(id).success) {
      return { createdAt, id: id as string };
    }
  } catch {
    // Falls through to the error below.
  }
  throw new AppError("BAD_INPUT", "cursor: pass back the nextCursor of the previous page unchanged");
}

function rowToAdminPayment(row: PaymentRow): AdminPayment {
  return {
    id: row.id,
    provider: row.provider,
    providerReference: row.provider_reference,
    status: row.status,
    amount: row.amount,
    currency: row.currency,
    capturedAmount: row.captured_amount,
    refundedAmount: row.refunded_amount,
    cardBrand: row.card_brand,
    cardLast4: row.card_last4,
    declineCode: row.decline_code,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** An outcome the provider may or may not have reached becomes a typed 503; the provider-derived key makes the retry safe. */
async function atProvider<T>(call: () => Promise<T>, orderId: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof PaymentProviderUnavailableError) {
      throw new AppError("PAYMENT_UNAVAILABLE", "The payment processor did not answer; retrying is safe", { orderId });
    }
    throw error;
  }
}

/** Orders newest first, filtered by number or email text, status and exact email; keyset-paginated. */
export async function list(input: { db: Db; query?: string; status?: OrderStatus; email?: string; limit: number; cursor?: string } & Acting) {
  const before = input.cursor ? decodeCursor(input.cursor) : undefined;
  await Audit.record(input.db, {
    entity: "admin",
    entityId: input.actor,
    action: "admin.orders_listed",
    actor: input.actor,
    origin: input.origin,
    data: { query: input.query ?? null, status: input.status ?? null, email: input.email ?? null, cursor: input.cursor ?? null },
  });
  const rows = await OrderAdminRepository.searchOrders(input.db, {
    query: input.query,
    status: input.status,
    email: input.email,
    limit: input.limit,
    before,
  });
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    orders: page.map(
      (row): OrderSummary => ({
        id: row.id,
        number: row.number,
        status: row.status as OrderStatus,
        email: row.email,
        currency: row.currency,
        total: row.total,
        placedAt: row.created_at.toISOString(),
      }),
    ),
    nextCursor: rows.length > input.limit && last ? encodeCursor(last.created_at_exact, last.id) : null,
  };
}

/** One order with every payment row and its whole audit trail (this view included). */
export async function get(input: { db: Db; orderId: string } & Acting) {
  const order = await OrderModule.get({ db: input.db, orderId: input.orderId });
  await Audit.record(input.db, {
    entity: "admin",
    entityId: input.actor,
    action: "admin.order_viewed",
    actor: input.actor,
    origin: input.origin,
    data: { orderId: order.id },
  });
  const [payments, audit] = await Promise.all([
    OrderAdminRepository.listPaymentsOfOrder(input.db, order.id),
    Audit.listForOrder(input.db, order.id),
  ]);
  return { order, payments: payments.map(rowToAdminPayment), audit };
}

/**
 * Cancels an order whose money was not taken (pending_payment or authorised): voids the
 * authorisation at the provider (key derived from the order, so a retry is harmless), then in one
 * transaction moves the order to cancelled, marks the payment voided, gives the stock and any promo
 * use back, audits and enqueues `order.cancelled`. A captured order must be refunded instead.
 */
export async function cancel(input: { db: Kysely<Database>; payments: PaymentProvider; orderId: string; reason: string } & Acting): Promise<Order> {
  const order = await OrderRepository.findOrder(input.db, input.orderId);
  if (!order) throw new AppError("NOT_FOUND", "No order with that id", { orderId: input.orderId });
  const status = order.status as OrderStatus;
  if (CAPTURED_STATUSES.includes(status)) {
    throw new AppError("ORDER_NEEDS_REFUND", `Order ${order.number} is ${status}: its payment was captured, so refund it instead of cancelling`, {
      orderId: order.id,
      status,
    });
  }
  assertTransition(status, "cancelled");

  let authorizationId: string | null = null;
  const payment = await PaymentRepository.findLatestPaymentOfOrder(input.db, order.id);
  if (status === "authorised" && payment?.provider_reference) {
    authorizationId = payment.provider_reference;
  } else if (status === "pending_payment") {
    // The outcome may not be recorded yet (provider timeout, 3-D Secure): ask the provider what it holds.
    const state = await atProvider(() => input.payments.findAuthorization({ reference: order.number }), order.id);
    if (state?.status === "captured") {
      throw new AppError("ORDER_NEEDS_REFUND", `Order ${order.number}'s payment was captured at the provider; refund it instead of cancelling`, {
        orderId: order.id,
      });
    }
    if (state && (state.status === "authorized" || state.status === "requires_action")) authorizationId = state.authorizationId;
  }
  if (authorizationId) {
    const id = authorizationId;
    await atProvider(() => input.payments.void({ authorizationId: id, idempotencyKey: PaymentOutcome.providerKeys.void(order.id) }), order.id);
  }

  await input.db.transaction().execute(async (trx) => {
    const locked = await OrderRepository.findOrderForUpdate(trx, order.id);
    const from = (locked?.status ?? status) as OrderStatus;
    if (from !== "pending_payment" && from !== "authorised") assertTransition(from, "cancelled");
    if (!(await OrderModule.transition({ db: trx, orderId: order.id, from, to: "cancelled" }))) {
      throw new AppError("ILLEGAL_TRANSITION", "The order changed while it was being cancelled; look at it again", { orderId: order.id });
    }
    const current = await PaymentRepository.findLatestPaymentOfOrder(trx, order.id);
    if (current && (current.status === "authorised" || current.status === "requires_action")) {
      await PaymentRepository.updatePayment(trx, current.id, { status: "voided", next_action_url: null });
      await Audit.record(trx, {
        entity: "payment",
        entityId: current.id,
        action: "payment.voided",
        actor: input.actor,
        origin: input.origin,
        data: { orderId: order.id, authorizationId },
      });
    }
    await PaymentOutcome.releaseStock(trx, order.id);
    await releaseRedemption(trx, order.id);
    await Audit.record(trx, {
      entity: "order",
      entityId: order.id,
      action: "order.cancelled",
      actor: input.actor,
      origin: input.origin,
      data: { orderId: order.id, from, to: "cancelled", reason: input.reason, voided: authorizationId !== null },
    });
    await Outbox.enqueue(trx, {
      type: "order.cancelled",
      aggregateId: order.id,
      payload: { orderId: order.id, number: order.number, email: order.email, reason: input.reason },
    });
  });
  return OrderModule.get({ db: input.db, orderId: order.id });
}

/**
 * Refunds `amount` of a captured order. The order and its captured payment are locked for the
 * whole refund, so concurrent refunds take turns and each sees what the previous ones refunded: the
 * total never exceeds what was captured (and the payment_amounts_consistent check would refuse it
 * if code ever tried). The provider call carries a key made of the order and the refund's number, so
 * retrying a refund that failed in flight replays it instead of refunding twice. The provider is
 * called with the row locks held: refunds are rare operator actions, and this is what makes them safe.
 */
export async function refund(input: { db: Kysely<Database>; payments: PaymentProvider; orderId: string; amount: number; reason: string } & Acting): Promise<Order> {
  await input.db.transaction().execute(async (trx) => {
    const order = await OrderRepository.findOrderForUpdate(trx, input.orderId);
    if (!order) throw new AppError("NOT_FOUND", "No order with that id", { orderId: input.orderId });
    const from = order.status as OrderStatus;
    if (from === "pending_payment" || from === "authorised") {
      throw new AppError("ILLEGAL_TRANSITION", `Order ${order.number} is ${from}: nothing was captured, so cancel it instead of refunding`, {
        orderId: order.id,
        from,
      });
    }
    if (!CAPTURED_STATUSES.includes(from)) assertTransition(from, "refunded");
    const payment = await OrderAdminRepository.findCapturedPaymentForUpdate(trx, order.id);
    if (!payment?.provider_reference) throw new AppError("ILLEGAL_TRANSITION", "This order has no captured payment to refund", { orderId: order.id });
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
    const refundNumber = (await OrderAdminRepository.countRefunds(trx, payment.id)) + 1;
    const authorizationId = payment.provider_reference;
    const { refundId } = await atProvider(
      () => input.payments.refund({ authorizationId, amount: input.amount, idempotencyKey: PaymentOutcome.providerKeys.refund(order.id, refundNumber) }),
      order.id,
    );
    const refundedTotal = payment.refunded_amount + input.amount;
    const isFull = refundedTotal === payment.captured_amount;
    await PaymentRepository.updatePayment(trx, payment.id, { refunded_amount: refundedTotal, ...(isFull ? { status: "refunded" } : {}) });
    const to: OrderStatus = isFull ? "refunded" : "partially_refunded";
    if (!(await OrderModule.transition({ db: trx, orderId: order.id, from, to }))) {
      throw new AppError("ILLEGAL_TRANSITION", "The order changed while it was being refunded; look at it again", { orderId: order.id });
    }
    const data = { orderId: order.id, amount: input.amount, refundedTotal, captured: payment.captured_amount, refundNumber, refundId, reason: input.reason };
    await Audit.record(trx, { entity: "payment", entityId: payment.id, action: "payment.refunded", actor: input.actor, origin: input.origin, data });
    await Audit.record(trx, {
      entity: "order",
      entityId: order.id,
      action: `order.${to}`,
      actor: input.actor,
      origin: input.origin,
      data: { orderId: order.id, from, to, amount: input.amount, reason: input.reason },
    });
    await Outbox.enqueue(trx, {
      type: "order.refunded",
      aggregateId: order.id,
      payload: { orderId: order.id, number: order.number, email: order.email, amount: input.amount, refundedTotal, currency: order.currency, isFull },
    });
  });
  return OrderModule.get({ db: input.db, orderId: input.orderId });
}

/**
 * Marks an order shipped (→ fulfilled). An order still only authorised (capture on fulfilment, or
 * a capture that failed earlier) is captured first, with the order's capture key.
 */
export async function fulfil(input: { db: Kysely<Database>; payments: PaymentProvider; orderId: string } & Acting): Promise<Order> {
  const order = await OrderRepository.findOrder(input.db, input.orderId);
  if (!order) throw new AppError("NOT_FOUND", "No order with that id", { orderId: input.orderId });
  const wasAuthorised = order.status === "authorised";
  if (wasAuthorised) await atProvider(() => PaymentOutcome.capture({ db: input.db, payments: input.payments, orderId: order.id }), order.id);
  await input.db.transaction().execute(async (trx) => {
    const locked = await OrderRepository.findOrderForUpdate(trx, order.id);
    const from = (locked?.status ?? order.status) as OrderStatus;
    if (!(await OrderModule.transition({ db: trx, orderId: order.id, from, to: "fulfilled" }))) {
      throw new AppError("ILLEGAL_TRANSITION", "The order changed while it was being fulfilled; look at it again", { orderId: order.id });
    }
    await Audit.record(trx, {
      entity: "order",
      entityId: order.id,
      action: "order.fulfilled",
      actor: input.actor,
      origin: input.origin,
      data: { orderId: order.id, from, to: "fulfilled", capturedNow: wasAuthorised },
    });
  });
  return OrderModule.get({ db: input.db, orderId: order.id });
}
