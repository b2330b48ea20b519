// The transactional outbox against real PostgreSQL: an event exists only if its transaction committed, and the
// dispatcher delivers each to every target that wants it at least once, retrying with backoff, giving up after its
// last attempt, and sharing the work between dispatchers without delivering twice while a lease holds.
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, Outbox, OutboxDispatcher } from "../src/index.ts";
import { createTestDatabase, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ seed: false });
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;

async function enqueue(type: Outbox.OutboxEventType = "order.placed"): Promise<string> {
  const aggregateId = randomUUID();
  await Outbox.enqueue(db(), { type, aggregateId, payload: { orderId: aggregateId } });
  const [event] = await Outbox.listEventsOfAggregate(db(), aggregateId);
  return event!.id;
}

async function dispatchedAt(eventId: string): Promise<Date | null> {
  return (await db().selectFrom("outbox_event").select("dispatched_at").where("id", "=", eventId).executeTakeFirstOrThrow()).dispatched_at;
}

/** A target that records each delivery and fails while `failing` says so. */
function recordingTarget(name: string, options: { accepts?: (event: Outbox.OutboxEvent) => boolean; failing?: (attempt: number) => boolean } = {}) {
  const delivered: Outbox.OutboxEvent[] = [];
  let attempts = 0;
  const target: OutboxDispatcher.OutboxTarget = {
    name,
    accepts: options.accepts ?? (() => true),
    async deliver(event) {
      attempts++;
      if (options.failing?.(attempts)) throw new Error(`receiver answered 503 (attempt ${attempts})`);
      delivered.push(event);
    },
  };
  return { target, delivered, attempts: () => attempts };
}

/** Makes a pending delivery due now, as if its retry delay had passed. */
const makeDue = (eventId: string) => db().updateTable("outbox_delivery").set({ next_attempt_at: sql<Date>`now()` }).where("event_id", "=", eventId).execute();

describe("Outbox.enqueue", () => {
  it("writes the event with the transaction it belongs to, and not at all if that rolls back", async () => {
    const kept = randomUUID();
    const lost = randomUUID();
    await db()
      .transaction()
      .execute((trx) => Outbox.enqueue(trx, { type: "order.placed", aggregateId: kept, payload: { n: 1 } }));
    await db()
      .transaction()
      .execute(async (trx) => {
        await Outbox.enqueue(trx, { type: "order.placed", aggregateId: lost, payload: { n: 2 } });
        throw new Error("the order's transaction failed");
      })
      .catch(() => {});
    expect(await Outbox.listEventsOfAggregate(db(), kept)).toMatchObject([{ type: "order.placed", payload: { n: 1 }, dispatched_at: null }]);
    expect(await Outbox.listEventsOfAggregate(db(), lost)).toEqual([]);
  });
});

describe("OutboxDispatcher.dispatch", () => {
  it("delivers an event once to each target that accepts it and marks it dispatched", async () => {
    await OutboxDispatcher.dispatch({ db: db(), targets: [] }); // events earlier tests left: dispatched to nobody
    const eventId = await enqueue("order.placed");
    const email = recordingTarget("email:test", { accepts: (event) => event.type === "order.placed" });
    const hook = recordingTarget("webhook:test");
    const summary = await OutboxDispatcher.dispatch({ db: db(), targets: [email.target, hook.target] });
    expect(summary).toMatchObject({ fannedOut: 1, delivered: 2, retrying: 0, failed: 0, dispatched: 1 });
    expect(email.delivered.map((event) => event.id)).toEqual([eventId]);
    expect(hook.delivered.map((event) => event.id)).toEqual([eventId]);
    expect((await Outbox.listDeliveriesOfEvent(db(), eventId)).map((d) => [d.target, d.status, d.attempts])).toEqual([
      ["email:test", "delivered", 1],
      ["webhook:test", "delivered", 1],
    ]);
    expect(await dispatchedAt(eventId)).toBeInstanceOf(Date);
    expect(await OutboxDispatcher.dispatch({ db: db(), targets: [email.target, hook.target] })).toMatchObject({ fannedOut: 0, delivered: 0 });
  });

  it("retries a failing target after its backoff, doubling it, and records the delivery on the third attempt", async () => {
    const eventId = await enqueue();
    const flaky = recordingTarget("webhook:flaky", { failing: (attempt) => attempt <= 2 });
    const options = { db: db(), targets: [flaky.target], retryBaseMs: 60_000, retryMaxMs: 3_600_000 };
    const nextAttemptIn = async () => {
      const row = await sql<{ ms: number }>`select extract(epoch from (next_attempt_at - now())) * 1000 as ms from outbox_delivery where event_id = ${eventId}`.execute(db());
      return Number(row.rows[0]!.ms);
    };

    expect(await OutboxDispatcher.dispatch(options)).toMatchObject({ retrying: 1, delivered: 0 });
    // Scheduled a base delay away (±20 % jitter): a dispatch before then leaves it alone.
    expect(await nextAttemptIn()).toBeGreaterThan(0.8 * 60_000 - 5_000);
    expect(await OutboxDispatcher.dispatch(options)).toMatchObject({ retrying: 0, delivered: 0 });
    expect(flaky.attempts()).toBe(1);

    await makeDue(eventId);
    expect(await OutboxDispatcher.dispatch(options)).toMatchObject({ retrying: 1 });
    expect(await nextAttemptIn()).toBeGreaterThan(0.8 * 120_000 - 5_000);
    const [retrying] = await Outbox.listDeliveriesOfEvent(db(), eventId);
    expect(retrying).toMatchObject({ status: "pending", attempts: 2, last_error: "receiver answered 503 (attempt 2)" });

    await makeDue(eventId);
    expect(await OutboxDispatcher.dispatch(options)).toMatchObject({ delivered: 1, dispatched: 1 });
    const [delivery] = await Outbox.listDeliveriesOfEvent(db(), eventId);
    expect(delivery).toMatchObject({ status: "delivered", attempts: 3, last_error: null });
    expect(delivery!.delivered_at).toBeInstanceOf(Date);
    expect(flaky.delivered.map((event) => event.id)).toEqual([eventId]);
  });

  it("gives up after maxAttempts, keeps the last error, and still marks the event dispatched", async () => {
    const eventId = await enqueue();
    const dead = recordingTarget("webhook:dead", { failing: () => true });
    for (let attempt = 1; attempt <= 3; attempt++) {
      await makeDue(eventId);
      await OutboxDispatcher.dispatch({ db: db(), targets: [dead.target], maxAttempts: 3 });
    }
    expect(dead.attempts()).toBe(3);
    const [delivery] = await Outbox.listDeliveriesOfEvent(db(), eventId);
    expect(delivery).toMatchObject({ status: "failed", attempts: 3, delivered_at: null, last_error: "receiver answered 503 (attempt 3)" });
    expect(await dispatchedAt(eventId)).toBeInstanceOf(Date);
    await makeDue(eventId);
    await OutboxDispatcher.dispatch({ db: db(), targets: [dead.target], maxAttempts: 3 });
    expect(dead.attempts()).toBe(3);
  });

  it("marks an event dispatched later if its dispatcher died before marking it", async () => {
    const eventId = await enqueue("order.captured");
    await Outbox.insertDeliveries(db(), eventId, ["webhook:https://example.invalid/hook"]);
    await db().updateTable("outbox_delivery").set({ status: "delivered", attempts: 1 }).where("event_id", "=", eventId).execute();
    const summary = await OutboxDispatcher.dispatch({ db: db(), targets: [] });
    expect(summary.dispatched).toBeGreaterThanOrEqual(1);
    expect(await dispatchedAt(eventId)).toBeInstanceOf(Date);
  });

  it("marks an event that no target wants dispatched, with no deliveries", async () => {
    const eventId = await enqueue("order.refunded");
    const emailOnly = recordingTarget("email:test", { accepts: (event) => event.type === "order.placed" });
    await OutboxDispatcher.dispatch({ db: db(), targets: [emailOnly.target] });
    expect(await dispatchedAt(eventId)).toBeInstanceOf(Date);
    expect(await Outbox.listDeliveriesOfEvent(db(), eventId)).toEqual([]);
    expect(emailOnly.attempts()).toBe(0);
  });

  it("with two dispatchers on separate pools running at once, delivers every event once per target and loses none", async () => {
    const other = createDb({ connectionString: database.url, max: 5, applicationName: "checkout-test-dispatcher-2" });
    try {
      const eventIds = await Promise.all(Array.from({ length: 40 }, () => enqueue("order.placed")));
      const counts = new Map<string, number>();
      const counting = (name: string): OutboxDispatcher.OutboxTarget => ({
        name,
        accepts: () => true,
        async deliver(event) {
          await new Promise((resolve) => setTimeout(resolve, 3));
          counts.set(`${name} ${event.id}`, (counts.get(`${name} ${event.id}`) ?? 0) + 1);
        },
      });
      const run = (pool: typeof other) =>
        OutboxDispatcher.dispatch({ db: pool, targets: [counting("email:order-confirmation"), counting("webhook:test")], batchSize: 7, concurrency: 3 });
      const summaries = await Promise.all([run(db()), run(other), run(db()), run(other)]);

      expect(summaries.reduce((sum, s) => sum + s.delivered, 0)).toBe(80);
      expect(summaries.filter((summary) => summary.delivered > 0).length).toBeGreaterThanOrEqual(2);
      for (const eventId of eventIds) {
        expect(counts.get(`email:order-confirmation ${eventId}`)).toBe(1);
        expect(counts.get(`webhook:test ${eventId}`)).toBe(1);
      }
      const deliveries = await db().selectFrom("outbox_delivery").select(["status", "attempts"]).where("event_id", "in", eventIds).execute();
      expect(deliveries).toHaveLength(80);
      expect(deliveries.every((d) => d.status === "delivered" && d.attempts === 1)).toBe(true);
      expect(await db().selectFrom("outbox_event").select("id").where("id", "in", eventIds).where("dispatched_at", "is", null).execute()).toEqual([]);
    } finally {
      await other.destroy();
    }
  });

  it("delivers again when a dispatcher dies mid-delivery: its lease runs out (at least once)", async () => {
    const eventId = await enqueue("order.captured");
    const received: string[] = [];
    let sent!: () => void;
    const isSent = new Promise<void>((resolve) => (sent = resolve));
    const webhook: OutboxDispatcher.OutboxTarget = { name: "webhook:test", accepts: () => true, deliver: async (event) => void received.push(event.id) };
    // This "process" sends the event and then hangs forever before recording it, as if killed.
    const dying: OutboxDispatcher.OutboxTarget = {
      ...webhook,
      deliver: async (event) => {
        await webhook.deliver(event);
        sent();
        await new Promise<never>(() => {});
      },
    };
    void OutboxDispatcher.dispatch({ db: db(), targets: [dying], leaseMs: 60_000 });
    await isSent;

    // Within the lease another dispatcher leaves it alone; once the lease has run out, the event goes out again.
    await OutboxDispatcher.dispatch({ db: db(), targets: [webhook] });
    expect(received).toEqual([eventId]);
    await makeDue(eventId);
    await OutboxDispatcher.dispatch({ db: db(), targets: [webhook] });
    expect(received).toEqual([eventId, eventId]);
    const [delivery] = await Outbox.listDeliveriesOfEvent(db(), eventId);
    expect(delivery).toMatchObject({ status: "delivered", attempts: 2 });
  });
});
