// The reconciler's queries: orders that have sat too long in a state that should be passing, and the
// authorisations of released holds still to void at the provider. Each lists one page, after a keyset
// cursor, so a run walks a backlog of any size without reading a row twice.
import { sql } from "kysely";
import type { Db } from "../db/database.ts";

/** Where the previous page ended: the sort time and id of its last row. */
export interface PageCursor {
  at: Date;
  id: string;
}

/**
 * Pending orders older than `olderThan`, or whose stock reservation has run out, oldest first —
 * except those a request is authorising right now (an unexpired `authorizing_until` claim).
 */
export function listStalePendingOrders(db: Db, input: { olderThan: Date; now: Date; limit: number; after?: PageCursor }) {
  const { after } = input;
  return db
    .selectFrom("order")
    .selectAll()
    .where("status", "=", "pending_payment")
    .where((eb) => eb.or([eb("created_at", "<", input.olderThan), eb("reservation_expires_at", "<=", input.now)]))
    .where((eb) => eb.or([eb("authorizing_until", "is", null), eb("authorizing_until", "<=", input.now)]))
    .$if(after !== undefined, (qb) => qb.where((eb) => eb(eb.refTuple("created_at", "id"), ">", eb.tuple(after!.at, after!.id))))
    .orderBy("created_at")
    .orderBy("id")
    .limit(input.limit)
    .execute();
}

/** Authorised orders whose last change is older than `olderThan`: with immediate capture they should have been captured. */
export function listUncapturedOrders(db: Db, input: { olderThan: Date; limit: number; after?: PageCursor }) {
  const { after } = input;
  return db
    .selectFrom("order")
    .selectAll()
    .where("status", "=", "authorised")
    .where("updated_at", "<", input.olderThan)
    .$if(after !== undefined, (qb) => qb.where((eb) => eb(eb.refTuple("updated_at", "id"), ">", eb.tuple(after!.at, after!.id))))
    .orderBy("updated_at")
    .orderBy("id")
    .limit(input.limit)
    .execute();
}

/** Payments the hold sweep declined as hold_expired that still name an authorisation at the provider, oldest first. */
export function listReleasedHoldAuthorizations(db: Db, input: { limit: number; after?: PageCursor }) {
  const { after } = input;
  return db
    .selectFrom("payment as p")
    .innerJoin("order as o", "o.id", "p.order_id")
    .select(["p.id", "p.order_id", "p.provider_reference", "p.updated_at", "o.number"])
    .where("p.status", "=", "declined")
    .where("p.decline_code", "=", "hold_expired")
    .where("p.provider_reference", "is not", null)
    .$if(after !== undefined, (qb) => qb.where((eb) => eb(eb.refTuple("p.updated_at", "p.id"), ">", eb.tuple(after!.at, after!.id))))
    .orderBy("p.updated_at")
    .orderBy("p.id")
    .limit(input.limit)
    .execute();
}

/** Closes a released hold's payment once the provider holds nothing for it: voided, or failed with the provider's code. */
export async function closeReleasedHoldPayment(db: Db, input: { paymentId: string; status: "voided" | "declined"; declineCode: string }): Promise<boolean> {
  const result = await db
    .updateTable("payment")
    .set({ status: input.status, decline_code: input.declineCode, updated_at: sql<Date>`now()` })
    .where("id", "=", input.paymentId)
    .where("status", "=", "declined")
    .where("decline_code", "=", "hold_expired")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
