// Refund rows: stored pending (and claimed by the request calling the provider) before the provider is called, then
// marked succeeded or failed.
import { sql } from "kysely";
import type { Db, RefundRow } from "../db/database.ts";

/** The order's refund still waiting on the provider's answer (at most one exists). */
export function findPendingRefund(db: Db, orderId: string): Promise<RefundRow | undefined> {
  return db.selectFrom("refund").selectAll().where("order_id", "=", orderId).where("status", "=", "pending").executeTakeFirst();
}

export function insertRefund(db: Db, refund: { id: string; order_id: string; payment_id: string; amount: number; reason: string; actor: string; claimed_until: Date }) {
  return db.insertInto("refund").values(refund).returningAll().executeTakeFirstOrThrow();
}

/** Takes over a pending refund whose claim ran out (its request crashed or lost its last step); false if another did first. */
export async function reclaimRefund(db: Db, input: { id: string; now: Date; until: Date }): Promise<boolean> {
  const result = await db
    .updateTable("refund")
    .set({ claimed_until: input.until, updated_at: sql<Date>`now()` })
    .where("id", "=", input.id)
    .where("status", "=", "pending")
    .where((eb) => eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<=", input.now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** pending → succeeded or failed; false when another call already settled this refund. */
export async function settleRefund(db: Db, input: { id: string; status: "succeeded" | "failed"; providerRefundId: string | null }): Promise<boolean> {
  const result = await db
    .updateTable("refund")
    .set({ status: input.status, provider_refund_id: input.providerRefundId, claimed_until: null, updated_at: sql<Date>`now()` })
    .where("id", "=", input.id)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Lets go of a refund's claim when its provider call did not get an answer, so a retry need not wait for it to run out. */
export function releaseRefundClaim(db: Db, id: string) {
  return db.updateTable("refund").set({ claimed_until: null }).where("id", "=", id).where("status", "=", "pending").execute();
}
