// Retention.purge against real PostgreSQL: abandoned carts, unused quotes, expired idempotency records, old outbox
// events and ended card-testing counters are deleted; rows inside their retention are kept; rows live traffic holds
// are skipped, not waited on; a spent time budget stops the purge and says so.
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Audit, Cart, Checkout, Idempotency, Order, Retention } from "../src/index.ts";
import { createFakePaymentProvider, createTestDatabase, placeOrder, quotedCart, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;
const NOTHING = { carts: 0, quotes: 0, idempotencyKeys: 0, outboxEvents: 0, ordersErased: 0, paymentVelocity: 0, hasMore: false };

/** Moves a cart's last change (and its quotes) `days` into the past, as if nobody had touched it since. */
async function ageCart(cartId: string, days: number): Promise<void> {
  const when = sql<Date>`now() - make_interval(days => ${days})`;
  await db().updateTable("cart").set({ updated_at: when, created_at: when }).where("id", "=", cartId).execute();
  await db().updateTable("quote").set({ created_at: when, expires_at: when }).where("cart_id", "=", cartId).execute();
}

async function exists(table: "cart" | "quote" | "idempotency_key" | "outbox_event", id: string): Promise<boolean> {
  return (await db().selectFrom(table).select("id").where("id", "=", id).executeTakeFirst()) !== undefined;
}

async function quoted(): Promise<{ cartId: string; quoteId: string }> {
  const { cartId, quote } = await quotedCart(db(), { lines: [{ sku: "TOTE", quantity: 1 }] });
  return { cartId, quoteId: quote.id };
}

async function ageOrder(orderId: string, days: number): Promise<void> {
  await db()
    .updateTable("order")
    .set({ created_at: sql<Date>`now() - make_interval(days => ${days})` })
    .where("id", "=", orderId)
    .execute();
}

/** An order placed with the fake provider: paid (captured) or declined (payment_failed). */
async function placedOrder(outcome: "paid" | "declined"): Promise<{ cartId: string; orderId: string; quoteId: string }> {
  const { cartId, quoteId } = await quoted();
  const fake = createFakePaymentProvider();
  if (outcome === "declined") fake.willAuthorize({ status: "declined" });
  const { row } = await placeOrder(db(), fake, { cartId, quoteId });
  expect(row?.status).toBe(outcome === "paid" ? "captured" : "payment_failed");
  return { cartId, orderId: row!.id, quoteId };
}

const count = async (table: "order" | "order_line" | "payment" | "audit_log") =>
  Number(
    (
      await db()
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

async function storeIdempotencyKey(): Promise<string> {
  const key = randomUUID();
  await Idempotency.run({
    db: db(),
    scope: "cart:retention",
    key,
    fingerprint: "f",
    execute: async () => ({ status: 200, body: "{}" }),
    shouldStore: () => true,
  });
  return (await db().selectFrom("idempotency_key").select("id").where("key", "=", key).executeTakeFirstOrThrow()).id;
}

describe("Retention.purge", () => {
  it("deletes carts, quotes and idempotency records past their retention, and keeps the rest", async () => {
    // Carts: abandoned 31 days (gone with its lines and quote), 29 days (kept; its quote, expired 29 days ago, goes),
    // old but quoted yesterday (kept, with that quote: expired less than quoteRetentionHours ago).
    const abandoned = await quoted();
    await ageCart(abandoned.cartId, 31);
    const recent = await quoted();
    await ageCart(recent.cartId, 29);
    const requoted = await quoted();
    await ageCart(requoted.cartId, 31);
    await db()
      .updateTable("quote")
      .set({ created_at: sql<Date>`now() - interval '1 day'`, expires_at: sql<Date>`now() - interval '1 day' + interval '15 minutes'` })
      .where("id", "=", requoted.quoteId)
      .execute();
    // Quotes no order used: expired two days ago (gone), an hour ago (kept).
    const spare = await Checkout.quote({ db: db(), cartId: recent.cartId });
    await db().updateTable("quote").set({ expires_at: sql<Date>`now() - interval '2 days'` }).where("id", "=", spare.id).execute();
    const fresh = await Checkout.quote({ db: db(), cartId: recent.cartId });
    await db().updateTable("quote").set({ expires_at: sql<Date>`now() - interval '1 hour'` }).where("id", "=", fresh.id).execute();
    // Idempotency records: one expired (gone), one live (kept).
    const expiredKey = await storeIdempotencyKey();
    await db().updateTable("idempotency_key").set({ expires_at: sql<Date>`now() - interval '1 second'` }).where("id", "=", expiredKey).execute();
    const liveKey = await storeIdempotencyKey();
    const auditBefore = await db().selectFrom("audit_log").selectAll().orderBy("id").execute();

    // Batches of two: every step runs several bounded statements.
    expect(await Retention.purge({ db: db(), batchSize: 2 })).toEqual({ ...NOTHING, carts: 1, quotes: 2, idempotencyKeys: 1 });

    expect(await exists("cart", abandoned.cartId)).toBe(false);
    expect(await exists("quote", abandoned.quoteId)).toBe(false);
    expect(await db().selectFrom("cart_line").select("id").where("cart_id", "=", abandoned.cartId).execute()).toEqual([]);
    for (const kept of [recent, requoted]) expect(await exists("cart", kept.cartId)).toBe(true);
    expect(await exists("quote", requoted.quoteId)).toBe(true);
    expect(await exists("quote", recent.quoteId)).toBe(false);
    expect(await exists("quote", spare.id)).toBe(false);
    expect(await exists("quote", fresh.id)).toBe(true);
    expect(await exists("idempotency_key", expiredKey)).toBe(false);
    expect(await exists("idempotency_key", liveKey)).toBe(true);
    // The audit log is evidence: never touched.
    expect(await db().selectFrom("audit_log").selectAll().orderBy("id").execute()).toEqual(auditBefore);
    expect(await Retention.purge({ db: db() })).toEqual(NOTHING);
  });

  it("keeps every cart and quote an order names, however old, and everything the order needs", async () => {
    // A paid order and a failed one whose carts are 31 days old: the carts and the quotes the orders name stay.
    const paid = await placedOrder("paid");
    await ageCart(paid.cartId, 31);
    const failed = await placedOrder("declined");
    await ageCart(failed.cartId, 31);
    const before = { orders: await count("order"), orderLines: await count("order_line"), payments: await count("payment"), audit: await count("audit_log") };
    expect(await Retention.purge({ db: db(), batchSize: 2 })).toMatchObject({ carts: 0, quotes: 0, ordersErased: 0 });
    for (const kept of [paid, failed]) {
      expect(await exists("cart", kept.cartId)).toBe(true);
      expect(await exists("quote", kept.quoteId)).toBe(true);
    }
    expect({ orders: await count("order"), orderLines: await count("order_line"), payments: await count("payment"), audit: await count("audit_log") }).toEqual(before);
  });

  it("erases the email and address of orders past orderPersonalDataRetentionDays (failed ones past cartRetentionDays), keeping what the books need", async () => {
    const old = await placedOrder("paid");
    await ageOrder(old.orderId, 3651);
    const young = await placedOrder("paid");
    await ageOrder(young.orderId, 3649);
    const oldFailure = await placedOrder("declined");
    await ageOrder(oldFailure.orderId, 31);
    const youngFailure = await placedOrder("declined");
    await ageOrder(youngFailure.orderId, 29);
    const orderBefore = await db().selectFrom("order").selectAll().where("id", "=", old.orderId).executeTakeFirstOrThrow();
    const linesBefore = await db().selectFrom("order_line").selectAll().where("order_id", "=", old.orderId).execute();
    const paymentsBefore = await db().selectFrom("payment").selectAll().where("order_id", "=", old.orderId).execute();
    const auditBefore = await db().selectFrom("audit_log").selectAll().orderBy("id").execute();

    expect(await Retention.purge({ db: db() })).toMatchObject({ ordersErased: 2 });

    const erased = await db().selectFrom("order").selectAll().where("id", "=", old.orderId).executeTakeFirstOrThrow();
    expect(erased).toEqual({
      ...orderBefore,
      email: Retention.ERASED_EMAIL,
      shipping_address: { name: "", line1: "", city: "", postalCode: "", country: "US", region: "CA" },
      personal_data_erased_at: expect.any(Date),
    });
    expect(await db().selectFrom("order_line").selectAll().where("order_id", "=", old.orderId).execute()).toEqual(linesBefore);
    expect(await db().selectFrom("payment").selectAll().where("order_id", "=", old.orderId).execute()).toEqual(paymentsBefore);
    expect(await db().selectFrom("cart").select(["email", "shipping_address"]).where("id", "=", old.cartId).executeTakeFirstOrThrow()).toEqual({
      email: null,
      shipping_address: null,
    });
    expect((await Order.get({ db: db(), orderId: old.orderId })).email).toBe(Retention.ERASED_EMAIL);
    expect(await db().selectFrom("order").select("email").where("id", "=", oldFailure.orderId).executeTakeFirstOrThrow()).toEqual({ email: Retention.ERASED_EMAIL });
    for (const kept of [young, youngFailure]) {
      expect(await db().selectFrom("order").select(["email", "personal_data_erased_at"]).where("id", "=", kept.orderId).executeTakeFirstOrThrow()).toEqual({
        email: "ada@example.com",
        personal_data_erased_at: null,
      });
      expect(await db().selectFrom("cart").select("email").where("id", "=", kept.cartId).executeTakeFirstOrThrow()).toEqual({ email: "ada@example.com" });
    }

    // The audit log: every earlier row exactly as it was, one new row per erased order, the chain intact.
    const auditAfter = await db().selectFrom("audit_log").selectAll().orderBy("id").execute();
    expect(auditAfter.slice(0, auditBefore.length)).toEqual(auditBefore);
    expect(auditAfter.slice(auditBefore.length).map((row) => [row.action, row.entity_id, row.actor])).toEqual(
      expect.arrayContaining([
        ["order.personal_data_erased", old.orderId, "retention"],
        ["order.personal_data_erased", oldFailure.orderId, "retention"],
      ]),
    );
    expect(auditAfter).toHaveLength(auditBefore.length + 2);
    expect(await Audit.verifyChain(db())).toMatchObject({ ok: true });
  });

  it("counts a line edit as a change: a cart edited today is not abandoned, however old it is", async () => {
    const { cartId } = await quoted();
    await ageCart(cartId, 40);
    const cart = await Cart.get({ db: db(), cartId });
    await Cart.updateLine({ db: db(), cartId, lineId: cart.lines[0]!.id, quantity: 2 });
    await Retention.purge({ db: db() });
    expect(await exists("cart", cartId)).toBe(true);
  });

  it("follows the policy it is given", async () => {
    const { cartId } = await quoted();
    await ageCart(cartId, 11);
    expect(await Retention.purge({ db: db(), policy: Retention.DEFAULT_RETENTION_POLICY })).toMatchObject({ carts: 0 });
    expect(await Retention.purge({ db: db(), policy: { ...Retention.DEFAULT_RETENTION_POLICY, cartRetentionDays: 10 } })).toMatchObject({ carts: 1 });
    expect(await exists("cart", cartId)).toBe(false);
  });

  it("deletes outbox events dispatched past outboxRetentionDays with their finished deliveries, and keeps one still being delivered", async () => {
    const ids = { done: randomUUID(), pending: randomUUID(), recent: randomUUID() };
    for (const [name, id] of Object.entries(ids)) {
      const dispatchedAt = name === "recent" ? sql<Date>`now() - interval '29 days'` : sql<Date>`now() - interval '31 days'`;
      await db()
        .insertInto("outbox_event")
        .values({ id, type: "order.placed", aggregate_id: randomUUID(), payload: JSON.stringify({ email: "ada@example.com" }), dispatched_at: dispatchedAt })
        .execute();
      await db()
        .insertInto("outbox_delivery")
        .values({ event_id: id, target: "email", status: name === "pending" ? "pending" : "delivered" })
        .execute();
      await db().insertInto("outbox_delivery").values({ event_id: id, target: "webhook", status: "failed" }).execute();
    }
    expect(await Retention.purge({ db: db() })).toMatchObject({ outboxEvents: 1 });
    expect(await exists("outbox_event", ids.done)).toBe(false);
    expect(await db().selectFrom("outbox_delivery").select("id").where("event_id", "=", ids.done).execute()).toEqual([]);
    expect(await exists("outbox_event", ids.pending)).toBe(true);
    expect(await exists("outbox_event", ids.recent)).toBe(true);
    expect(await db().selectFrom("outbox_delivery").select("id").where("event_id", "in", [ids.pending, ids.recent]).execute()).toHaveLength(4);
  });

  it("skips a cart a request holds instead of waiting for it, and deletes it on a later run", async () => {
    const { cartId } = await quoted();
    await ageCart(cartId, 31);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    // A shopper's edit in progress: the cart row locked until its transaction ends.
    const edit = db()
      .transaction()
      .execute(async (trx) => {
        await trx.selectFrom("cart").select("id").where("id", "=", cartId).forUpdate().execute();
        locked();
        await released;
      });
    await isLocked;
    try {
      expect(await Retention.purge({ db: db() })).toMatchObject({ carts: 0 });
      expect(await exists("cart", cartId)).toBe(true);
    } finally {
      release();
      await edit;
    }
    expect(await Retention.purge({ db: db() })).toMatchObject({ carts: 1 });
    expect(await exists("cart", cartId)).toBe(false);
  });

  it("deletes card-testing counters whose window and lock have ended, and keeps live ones", async () => {
    const endsAt = (ms: number) => new Date(Date.now() + ms);
    await sql`insert into payment_velocity (scope, key_hash, declines, window_ends_at) values
      ('card', 'retention-test-ended', 2, ${endsAt(-60_000)}),
      ('card', 'retention-test-live', 2, ${endsAt(3_600_000)})`.execute(db());
    expect(await Retention.purge({ db: db() })).toMatchObject({ paymentVelocity: 1 });
    const left = await sql<{ key_hash: string }>`select key_hash from payment_velocity where key_hash like 'retention-test-%'`.execute(db());
    expect(left.rows.map((row) => row.key_hash)).toEqual(["retention-test-live"]);
  });

  it("with its time budget spent stops and says so", async () => {
    const { cartId } = await quoted();
    await ageCart(cartId, 31);
    expect(await Retention.purge({ db: db(), timeBudgetMs: 0 })).toEqual({ ...NOTHING, hasMore: true });
    expect(await exists("cart", cartId)).toBe(true);
    expect(await Retention.purge({ db: db() })).toMatchObject({ carts: 1, hasMore: false });
  });
});
