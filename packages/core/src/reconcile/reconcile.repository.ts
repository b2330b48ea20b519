// The reconciler's queries: orders that have sat too long in a state that should be passing.
import type { Db } from "../db/database.ts";

/**
 * Pending orders older than `olderThan`, or whose stock reservation has run out, oldest first —
 * except those a request is authorising right now (an unexpired `authorizing_until` claim).
 */
export function listStalePendingOrders(db: Db, input: { olderThan: Date; now: Date; limit: number }) {
  return db
    .selectFrom("order")
    .selectAll()
    .where("status", "=", "pending_payment")
    .where((eb) => eb.or([eb("created_at", "<", input.olderThan), eb("reservation_expires_at", "<=", input.now)]))
    .where((eb) => eb.or([eb("authorizing_until", "is", null), eb("authorizing_until", "<=", input.now)]))
    .orderBy("created_at")
    .limit(input.limit)
    .execute();
}

/** Authorised orders whose last change is older than `olderThan`: with immediate capture they should have been captured. */
export function listUncapturedOrders(db: Db, input: { olderThan: Date; limit: number }) {
  return db
    .selectFrom("order")
    .selectAll()
    .where("status", "=", "authorised")
    .where("updated_at", "<", input.olderThan)
    .orderBy("updated_at")
    .limit(input.limit)
    .execute();
}
