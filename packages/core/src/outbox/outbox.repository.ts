// The transactional outbox: events are inserted in the same transaction as the state change they
// announce, and delivered afterwards by the dispatcher, at least once.
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { Db } from "../db/database.ts";

export type OutboxEventType = "order.placed" | "order.captured" | "order.cancelled" | "order.refunded" | "order.payment_failed";

export interface OutboxEvent {
  id: string;
  type: OutboxEventType;
  aggregateId: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/** A delivery claimed by one dispatcher: its attempt counter already includes this attempt. */
export interface ClaimedDelivery {
  id: string;
  target: string;
  attempts: number;
  event: OutboxEvent;
}

export function enqueue(db: Db, event: { type: OutboxEventType; aggregateId: string; payload: Record<string, unknown> }) {
  return db
    .insertInto("outbox_event")
    .values({ id: randomUUID(), type: event.type, aggregate_id: event.aggregateId, payload: JSON.stringify(event.payload) })
    .execute();
}

/**
 * Locks up to `limit` undispatched events that have no deliveries yet, oldest first. SKIP LOCKED
 * lets several dispatchers run at once: each takes different events. Call inside a transaction.
 */
export async function claimEventsToFanOut(trx: Db, limit: number): Promise<OutboxEvent[]> {
  const rows = await trx
    .selectFrom("outbox_event as e")
    .select(["e.id", "e.type", "e.aggregate_id", "e.payload", "e.created_at"])
    .where("e.dispatched_at", "is", null)
    .where((eb) => eb.not(eb.exists(eb.selectFrom("outbox_delivery as d").select("d.id").whereRef("d.event_id", "=", "e.id"))))
    .orderBy("e.created_at")
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  return rows.map((row) => ({
    id: row.id,
    type: row.type as OutboxEventType,
    aggregateId: row.aggregate_id,
    payload: row.payload,
    createdAt: row.created_at,
  }));
}

/** One pending delivery per target; a second dispatcher fanning out the same event adds nothing. */
export async function insertDeliveries(db: Db, eventId: string, targets: readonly string[]): Promise<void> {
  if (targets.length === 0) return;
  await db
    .insertInto("outbox_delivery")
    .values(targets.map((target) => ({ event_id: eventId, target, status: "pending" as const })))
    .onConflict((oc) => oc.columns(["event_id", "target"]).doNothing())
    .execute();
}

/**
 * Claims up to `limit` due deliveries in one statement: counts the attempt and pushes
 * next_attempt_at a lease into the future, so no other dispatcher takes them while this one
 * delivers (outside any transaction). If this process dies mid-delivery, the lease runs out and
 * another dispatcher tries again: at least once.
 */
export async function claimDueDeliveries(db: Db, input: { limit: number; leaseMs: number }): Promise<ClaimedDelivery[]> {
  const result = await sql<{
    id: string;
    target: string;
    attempts: number;
    event_id: string;
    type: string;
    aggregate_id: string;
    payload: Record<string, unknown>;
    created_at: Date;
  }>`
    with due as (
      select id from outbox_delivery
      where status = 'pending' and next_attempt_at <= now()
      order by next_attempt_at
      limit ${input.limit}
      for update skip locked
    )
    update outbox_delivery d
    set attempts = d.attempts + 1, next_attempt_at = now() + ${input.leaseMs} * interval '1 millisecond'
    from due, outbox_event e
    where d.id = due.id and e.id = d.event_id
    returning d.id, d.target, d.attempts, e.id as event_id, e.type, e.aggregate_id, e.payload, e.created_at
  `.execute(db);
  return result.rows.map((row) => ({
    id: String(row.id),
    target: row.target,
    attempts: row.attempts,
    event: {
      id: row.event_id,
      type: row.type as OutboxEventType,
      aggregateId: row.aggregate_id,
      payload: row.payload,
      createdAt: row.created_at,
    },
  }));
}

export function recordDelivered(db: Db, deliveryId: string) {
  return db
    .updateTable("outbox_delivery")
    .set({ status: "delivered", delivered_at: sql<Date>`now()`, last_error: null })
    .where("id", "=", deliveryId)
    .where("status", "=", "pending")
    .execute();
}

/** Records a failed attempt: try again after `retryInMs`, or give up for good when it is null. */
export function recordAttemptFailed(db: Db, input: { deliveryId: string; error: string; retryInMs: number | null }) {
  const retry = input.retryInMs === null ? { status: "failed" as const } : { next_attempt_at: sql<Date>`now() + ${input.retryInMs} * interval '1 millisecond'` };
  return db
    .updateTable("outbox_delivery")
    .set({ ...retry, last_error: input.error.slice(0, 2000) })
    .where("id", "=", input.deliveryId)
    .where("status", "=", "pending")
    .execute();
}

/**
 * Marks events dispatched once none of their deliveries is pending (all delivered or failed for good). An event another
 * dispatcher holds (fanning it out, or marking it at this moment) is skipped rather than waited for: two dispatchers
 * locking overlapping events in different orders deadlocked. A skipped event is marked by its holder or, failing that,
 * by the next run's `markSettledEventsDispatched`.
 */
export async function markDispatched(db: Db, eventIds: readonly string[]): Promise<number> {
  if (eventIds.length === 0) return 0;
  const result = await db
    .updateTable("outbox_event")
    .set({ dispatched_at: sql<Date>`now()` })
    .where("id", "in", (eb) =>
      eb
        .selectFrom("outbox_event as e")
        .select("e.id")
        .where("e.id", "in", [...eventIds])
        .where("e.dispatched_at", "is", null)
        .where((inner) => inner.not(inner.exists(inner.selectFrom("outbox_delivery as d").select("d.id").whereRef("d.event_id", "=", "e.id").where("d.status", "=", "pending"))))
        .orderBy("e.id")
        .forUpdate()
        .skipLocked(),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Marks dispatched any event whose deliveries are all settled but which was never marked (its
 * dispatcher died between recording the last delivery and marking the event).
 */
export async function markSettledEventsDispatched(db: Db, limit: number): Promise<number> {
  const result = await sql`
    update outbox_event set dispatched_at = now()
    where id in (
      select e.id from outbox_event e
      where e.dispatched_at is null
        and exists (select 1 from outbox_delivery d where d.event_id = e.id)
        and not exists (select 1 from outbox_delivery d where d.event_id = e.id and d.status = 'pending')
      order by e.created_at
      limit ${limit}
      for update skip locked
    )
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export function listDeliveriesOfEvent(db: Db, eventId: string) {
  return db.selectFrom("outbox_delivery").selectAll().where("event_id", "=", eventId).orderBy("target").execute();
}

/**
 * The latest event of a type about one aggregate, with its delivery to `target` (null columns when it has none), and
 * whether the event has any delivery at all (it was fanned out).
 */
export function findEventDelivery(db: Db, input: { aggregateId: string; type: OutboxEventType; target: string }) {
  return db
    .selectFrom("outbox_event as e")
    .leftJoin("outbox_delivery as d", (join) => join.onRef("d.event_id", "=", "e.id").on("d.target", "=", input.target))
    .select(["e.id", "e.dispatched_at", "d.status as delivery_status"])
    .select((eb) => eb.exists(eb.selectFrom("outbox_delivery as any_d").select("any_d.id").whereRef("any_d.event_id", "=", "e.id")).as("is_fanned_out"))
    .where("e.aggregate_id", "=", input.aggregateId)
    .where("e.type", "=", input.type)
    .orderBy("e.created_at", "desc")
    .limit(1)
    .executeTakeFirst();
}

export function listEventsOfAggregate(db: Db, aggregateId: string) {
  return db.selectFrom("outbox_event").selectAll().where("aggregate_id", "=", aggregateId).orderBy("created_at").execute();
}
