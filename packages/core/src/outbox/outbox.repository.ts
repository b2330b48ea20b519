// The transactional outbox: events are inserted in the same transaction as the state change they
// announce, and delivered afterwards by the dispatcher, at least once.
import { randomUUID } from "node:crypto";
import type { Db } from "../db/database.ts";

export type OutboxEventType = "order.placed" | "order.captured" | "order.cancelled" | "order.refunded" | "order.payment_failed";

export function enqueue(db: Db, event: { type: OutboxEventType; aggregateId: string; payload: Record<string, unknown> }) {
  return db
    .insertInto("outbox_event")
    .values({ id: randomUUID(), type: event.type, aggregate_id: event.aggregateId, payload: JSON.stringify(event.payload) })
    .execute();
}
