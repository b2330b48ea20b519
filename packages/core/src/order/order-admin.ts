// What operators do to orders: search, inspect (payments and audit trail), cancel and fulfil (refunds: refund.ts).
// Every action is audited with the operator's name and request origin; whether an action is allowed is the order state
// machine's answer (order-state.ts `guard`), and state changes announce themselves in the outbox in the same transaction.
import type { Kysely } from "kysely";
import type { Database, Db } from "../db/database.ts";
import type { Order, OrderStatus } from "../schemas.ts";
import { AppError } from "../error.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as Inventory from "../inventory/inventory.ts";
import * as Outbox from "../outbox/outbox.repository.ts";
import * as PaymentOutcome from "../payment/payment-outcome.ts";
import * as PaymentRepository from "../payment/payment.repository.ts";
import * as PaymentState from "../payment/payment-state.ts";
import type { PaymentProvider } from "../payment/payment-provider.ts";
import { required } from "../payment/provider-call.ts";
import { releaseRedemption } from "../promotion/promotion.service.ts";
import type { Acting } from "./admin-inputs.ts";
import { decodeCursor, encodeCursor, rowToAdminPayment, type OrderSummary } from "./admin-views.ts";
import * as OrderModule from "./order.ts";
import * as OrderRepository from "./order.repository.ts";
import * as OrderAdminRepository from "./order-admin.repository.ts";
import { guard } from "./order-state.ts";

export * from "./admin-inputs.ts";
export type { AdminPayment, OrderSummary } from "./admin-views.ts";
export { refund } from "./refund.ts";

const UNREACHABLE = "The payment processor did not answer; retrying is safe";

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
        status: row.status,
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
  const [payments, audit] = await Promise.all([OrderAdminRepository.listPaymentsOfOrder(input.db, order.id), Audit.listForOrder(input.db, order.id)]);
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
  guard("cancel", order);

  let authorizationId: string | null = null;
  if (order.status === "authorised") {
    authorizationId = (await PaymentRepository.findLatestPaymentOfOrder(input.db, order.id))?.provider_reference ?? null;
  } else {
    // Pending: the outcome may not be recorded yet (provider timeout, 3-D Secure): ask the provider what it holds.
    const state = await required(() => input.payments.findAuthorization({ reference: order.number }), { orderId: order.id, message: UNREACHABLE });
    const verdict = PaymentState.verdictOf(state);
    if (verdict.kind === "authorised" && verdict.isCaptured) {
      throw new AppError("ORDER_NEEDS_REFUND", `Order ${order.number}'s payment was captured at the provider; refund it instead of cancelling`, {
        orderId: order.id,
      });
    }
    if (state && verdict.kind !== "failed" && "authorizationId" in state) authorizationId = state.authorizationId;
  }
  if (authorizationId) {
    const id = authorizationId;
    const key = PaymentOutcome.providerKeys.void(order.id);
    await required(() => input.payments.void({ authorizationId: id, idempotencyKey: key }), { orderId: order.id, message: UNREACHABLE });
  }

  await input.db.transaction().execute(async (trx) => {
    const locked = (await OrderRepository.findOrderForUpdate(trx, order.id)) ?? order;
    const to = guard("cancel", locked);
    if (!(await OrderModule.transition({ db: trx, orderId: order.id, from: locked.status, to }))) {
      throw new AppError("ILLEGAL_TRANSITION", "The order changed while it was being cancelled; look at it again", { orderId: order.id });
    }
    const current = await PaymentRepository.findLatestPaymentOfOrder(trx, order.id);
    if (current && (current.status === "authorised" || current.status === "requires_action")) {
      await PaymentRepository.updatePayment(trx, current, { status: "voided", next_action_url: null });
      await Audit.record(trx, {
        entity: "payment",
        entityId: current.id,
        action: "payment.voided",
        actor: input.actor,
        origin: input.origin,
        data: { orderId: order.id, authorizationId },
      });
    }
    await Inventory.release(trx, { orderId: order.id, actor: input.actor, origin: input.origin });
    await releaseRedemption(trx, order.id);
    await Audit.record(trx, {
      entity: "order",
      entityId: order.id,
      action: "order.cancelled",
      actor: input.actor,
      origin: input.origin,
      data: { orderId: order.id, from: locked.status, to, reason: input.reason, voided: authorizationId !== null },
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
 * Marks an order shipped (→ fulfilled). An order still only authorised (capture on fulfilment, or
 * a capture that failed earlier) is captured first, with the order's capture key.
 */
export async function fulfil(input: { db: Kysely<Database>; payments: PaymentProvider; orderId: string } & Acting): Promise<Order> {
  const order = await OrderRepository.findOrder(input.db, input.orderId);
  if (!order) throw new AppError("NOT_FOUND", "No order with that id", { orderId: input.orderId });
  const wasAuthorised = order.status === "authorised";
  if (wasAuthorised) {
    await required(() => PaymentOutcome.capture({ db: input.db, payments: input.payments, orderId: order.id, actor: input.actor }), { orderId: order.id, message: UNREACHABLE });
  }
  await input.db.transaction().execute(async (trx) => {
    const locked = (await OrderRepository.findOrderForUpdate(trx, order.id)) ?? order;
    const to = guard("fulfil", locked);
    if (!(await OrderModule.transition({ db: trx, orderId: order.id, from: locked.status, to }))) {
      throw new AppError("ILLEGAL_TRANSITION", "The order changed while it was being fulfilled; look at it again", { orderId: order.id });
    }
    await Audit.record(trx, {
      entity: "order",
      entityId: order.id,
      action: "order.fulfilled",
      actor: input.actor,
      origin: input.origin,
      data: { orderId: order.id, from: locked.status, to, capturedNow: wasAuthorised },
    });
  });
  return OrderModule.get({ db: input.db, orderId: order.id });
}
