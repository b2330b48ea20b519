// The hold sweep's queries: pending orders whose stock hold ran out while they waited on 3-D Secure,
// claimed a batch at a time with FOR UPDATE SKIP LOCKED, and the set-based writes that release them.
import { sql } from "kysely";
import type { Db } from "../db/database.ts";
import type { OrderStatus } from "../schemas.ts";

/**
 * Locks up to `limit` pending orders waiting on 3-D Secure (a requires_action payment) whose hold
 * expired by `now`, oldest expiry first, skipping rows another sweeper or a request has locked and
 * orders a request is authorising right now. The locks last until the caller's transaction ends.
 */
export function lockExpiredHolds(db: Db, input: { now: Date; limit: number }) {
  return db
    .selectFrom("order as o")
    .select(["o.id", "o.number", "o.promo_code"])
    .where("o.status", "=", "pending_payment")
    .where("o.reservation_expires_at", "<=", input.now)
    .where((eb) => eb.or([eb("o.authorizing_until", "is", null), eb("o.authorizing_until", "<=", input.now)]))
    .where(({ exists, selectFrom }) => exists(selectFrom("payment as p").select("p.id").whereRef("p.order_id", "=", "o.id").where("p.status", "=", "requires_action")))
    .orderBy("o.reservation_expires_at")
    .limit(input.limit)
    .forUpdate("o")
    .skipLocked()
    .execute();
}

/** `move.from` → `move.to` (pending_payment → payment_failed) for the locked orders still in `from`; returns those it moved. */
export function failPendingOrders(db: Db, orderIds: readonly string[], move: { from: OrderStatus; to: OrderStatus }) {
  return db
    .updateTable("order")
    .set({ status: move.to, authorizing_until: null, updated_at: sql<Date>`now()` })
    .where("id", "in", orderIds)
    .where("status", "=", move.from)
    .returning(["id", "number"])
    .execute();
}

export function listLinesOfOrders(db: Db, orderIds: readonly string[]) {
  return db.selectFrom("order_line").select(["order_id", "sku", "quantity"]).where("order_id", "in", orderIds).orderBy("order_id").orderBy("position").execute();
}

/** The challenge is over: each order's requires_action payment is declined as hold_expired (its provider reference kept, to void). */
export function declineWaitingPayments(db: Db, orderIds: readonly string[]) {
  return db
    .updateTable("payment")
    .set({ status: "declined", decline_code: "hold_expired", next_action_url: null, updated_at: sql<Date>`now()` })
    .where("order_id", "in", orderIds)
    .where("status", "=", "requires_action")
    .returning(["id", "order_id", "provider_reference"])
    .execute();
}
