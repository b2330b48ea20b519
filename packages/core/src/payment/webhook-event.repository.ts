// Provider webhook events as received: one row per event id, so a redelivery is recognised and not acted on twice.
import { sql } from "kysely";
import type { Db } from "../db/database.ts";

/** Inserts the event unless its id is already known; returns whether this call inserted it. */
export async function insertEventIfNew(db: Db, event: { id: string; type: string; payload: Record<string, unknown> }): Promise<boolean> {
  const inserted = await db
    .insertInto("payment_webhook_event")
    .values({ id: event.id, type: event.type, payload: JSON.stringify(event.payload) })
    .onConflict((conflict) => conflict.column("id").doNothing())
    .returning("id")
    .executeTakeFirst();
  return inserted !== undefined;
}

export function findEvent(db: Db, eventId: string) {
  return db.selectFrom("payment_webhook_event").selectAll().where("id", "=", eventId).executeTakeFirst();
}

export function markProcessed(db: Db, eventId: string) {
  return db.updateTable("payment_webhook_event").set({ processed_at: sql<Date>`now()` }).where("id", "=", eventId).execute();
}
