// Data retention against real PostgreSQL: abandoned carts, unused quotes, expired idempotency records
// and old outbox events are deleted, old orders lose their email and address; rows inside their
// retention, and everything an order needs, are kept; the audit log is never touched; rows live
// traffic holds are skipped, not waited on; and `pnpm retention:purge` does the same from the command line.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Audit, Retention } from "@checkout/core";
import { CARDS, readyCart, startTestApp, type TestApp } from "./support/app.ts";

const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const db = () => t.database.db;

/** Moves a cart's last change (and its quotes and lines) `days` into the past, as if nobody had touched it since. */
async function ageCart(cartId: string, days: number): Promise<void> {
  const when = sql<Date>`now() - make_interval(days => ${days})`;
  await db().updateTable("cart").set({ updated_at: when, created_at: when }).where("id", "=", cartId).execute();
  await db().updateTable("quote").set({ created_at: when, expires_at: when }).where("cart_id", "=", cartId).execute();
}

async function ageOrder(orderId: string, days: number): Promise<void> {
  await db().updateTable("order").set({ created_at: sql<Date>`now() - make_interval(days => ${days})` }).where("id", "=", orderId).execute();
}

async function exists(table: "cart" | "quote" | "idempotency_key" | "outbox_event", id: string): Promise<boolean> {
  const row = await db().selectFrom(table).select("id").where("id", "=", id).executeTakeFirst();
  return row !== undefined;
}

async function count(table: "cart" | "cart_line" | "quote" | "order" | "order_line" | "payment" | "audit_log" | "idempotency_key" | "promotion_redemption"): Promise<number> {
  const row = await db().selectFrom(table).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A cart with a line, contact, address and a quote, as a shopper leaves it at the review step. */
async function quotedCart(): Promise<{ cartId: string; quoteId: string }> {
  const cartId = await readyCart(t.client, [{ sku: "TOTE", quantity: 1 }]);
  const quote = await t.client.checkout.quote.mutate({ cartId });
  return { cartId, quoteId: quote.id };
}

async function placedOrder(card: string): Promise<{ cartId: string; orderId: string; quoteId: string }> {
  const { cartId, quoteId } = await quotedCart();
  const placing = await t.client.checkout.placeOrder.mutate({ cartId, quoteId, paymentToken: await t.tokenize(card) }).catch(() => null);
  const order = await db().selectFrom("order").select("id").where("cart_id", "=", cartId).executeTakeFirstOrThrow();
  expect(placing === null).toBe(card !== CARDS.success);
  return { cartId, orderId: order.id, quoteId };
}

describe("Retention.purge", () => {
  it("deletes carts, quotes and idempotency records past their retention, keeps the rest and everything an order needs", { timeout: 60_000 }, async () => {
    // Carts: abandoned 31 days (gone with its lines and quote), 29 days (kept; its quote, expired 29 days ago, goes), old
    // but quoted yesterday (kept, with that quote: expired less than QUOTE_RETENTION_HOURS ago).
    const abandoned = await quotedCart();
    await ageCart(abandoned.cartId, 31);
    const recent = await quotedCart();
    await ageCart(recent.cartId, 29);
    const requoted = await quotedCart();
    await ageCart(requoted.cartId, 31);
    await db()
      .updateTable("quote")
      .set({ created_at: sql<Date>`now() - interval '1 day'`, expires_at: sql<Date>`now() - interval '1 day' + interval '15 minutes'` })
      .where("id", "=", requoted.quoteId)
      .execute();

    // A paid order and a failed one whose carts are 31 days old: the carts and the quotes the orders name stay.
    const paid = await placedOrder(CARDS.success);
    await ageCart(paid.cartId, 31);
    const failed = await placedOrder(CARDS.declined);
    await ageCart(failed.cartId, 31);
    // Quotes no order used: expired two days ago (gone), an hour ago (kept).
    const spare = await t.client.checkout.quote.mutate({ cartId: recent.cartId });
    await db().updateTable("quote").set({ expires_at: sql<Date>`now() - interval '2 days'` }).where("id", "=", spare.id).execute();
    const fresh = await t.client.checkout.quote.mutate({ cartId: recent.cartId });
    await db().updateTable("quote").set({ expires_at: sql<Date>`now() - interval '1 hour'` }).where("id", "=", fresh.id).execute();

    // Idempotency records: one expired (gone), the rest live (kept).
    const expiredKey = await db().selectFrom("idempotency_key").select("id").orderBy("id").executeTakeFirstOrThrow();
    await db().updateTable("idempotency_key").set({ expires_at: sql<Date>`now() - interval '1 second'` }).where("id", "=", expiredKey.id).execute();
    const liveKeys = (await count("idempotency_key")) - 1;

    const before = {
      orders: await count("order"),
      orderLines: await count("order_line"),
      payments: await count("payment"),
      carts: await count("cart"),
      cartLines: await count("cart_line"),
      quotes: await count("quote"),
      audit: await count("audit_log"),
    };
    // Batches of two: every step runs several bounded statements.
    const summary = await Retention.purge({ db: db(), batchSize: 2 });
    expect(summary).toEqual({ carts: 1, quotes: 2, idempotencyKeys: 1, outboxEvents: 0, ordersErased: 0, paymentVelocity: 0, hasMore: false });

    expect(await exists("cart", abandoned.cartId)).toBe(false);
    expect(await exists("quote", abandoned.quoteId)).toBe(false);
    expect(await db().selectFrom("cart_line").select("id").where("cart_id", "=", abandoned.cartId).execute()).toEqual([]);
    for (const kept of [recent, requoted, paid, failed]) expect(await exists("cart", kept.cartId)).toBe(true);
    // The orders' quotes stay however old: an order names its quote.
    for (const kept of [requoted, paid, failed]) expect(await exists("quote", kept.quoteId)).toBe(true);
    expect(await exists("quote", recent.quoteId)).toBe(false);
    expect(await exists("quote", spare.id)).toBe(false);
    expect(await exists("quote", fresh.id)).toBe(true);
    expect(await exists("idempotency_key", expiredKey.id)).toBe(false);
    expect(await count("idempotency_key")).toBe(liveKeys);

    expect(await count("cart")).toBe(before.carts - 1);
    expect(await count("cart_line")).toBe(before.cartLines - 1);
    expect(await count("quote")).toBe(before.quotes - 3);
    expect({ orders: await count("order"), orderLines: await count("order_line"), payments: await count("payment"), audit: await count("audit_log") }).toEqual({
      orders: before.orders,
      orderLines: before.orderLines,
      payments: before.payments,
      audit: before.audit,
    });
    expect(await Retention.purge({ db: db() })).toEqual({ carts: 0, quotes: 0, idempotencyKeys: 0, outboxEvents: 0, ordersErased: 0, paymentVelocity: 0, hasMore: false });
  });

  it("counts a line edit as a change: a cart edited today is not abandoned, however old it is", async () => {
    const { cartId } = await quotedCart();
    await ageCart(cartId, 40);
    const cart = await t.client.cart.get.query({ cartId });
    await t.client.cart.updateLine.mutate({ cartId, lineId: cart.lines[0]!.id, quantity: 2 });
    await Retention.purge({ db: db() });
    expect(await exists("cart", cartId)).toBe(true);
  });

  it("erases the email and address of orders past ORDER_PERSONAL_DATA_RETENTION_DAYS (failed ones past CART_RETENTION_DAYS), keeping what the books need", { timeout: 60_000 }, async () => {
    const old = await placedOrder(CARDS.success);
    await ageOrder(old.orderId, 3651);
    const young = await placedOrder(CARDS.success);
    await ageOrder(young.orderId, 3649);
    const oldFailure = await placedOrder(CARDS.declined);
    await ageOrder(oldFailure.orderId, 31);
    const youngFailure = await placedOrder(CARDS.declined);
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
    expect((await t.client.order.get.query({ orderId: old.orderId })).email).toBe(Retention.ERASED_EMAIL);
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

  it("deletes outbox events dispatched past OUTBOX_RETENTION_DAYS with their finished deliveries, and keeps one still being delivered", async () => {
    const ids = { done: randomUUID(), pending: randomUUID(), recent: randomUUID() };
    for (const [name, id] of Object.entries(ids)) {
      const dispatchedAt = name === "recent" ? sql<Date>`now() - interval '29 days'` : sql<Date>`now() - interval '31 days'`;
      await db()
        .insertInto("outbox_event")
        .values({ id, type: "order.placed", aggregate_id: randomUUID(), payload: JSON.stringify({ email: "ada@example.com" }), dispatched_at: dispatchedAt })
        .execute();
      await db().insertInto("outbox_delivery").values({ event_id: id, target: "email", status: name === "pending" ? "pending" : "delivered" }).execute();
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
    const { cartId } = await quotedCart();
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
    const rows = ["ended", "live"].map((name, i) => ({
      scope: "card",
      key_hash: `retention-test-${name}`,
      declines: 2,
      window_ends_at: new Date(Date.now() + (i === 0 ? -60_000 : 3_600_000)),
    }));
    await sql`insert into payment_velocity (scope, key_hash, declines, window_ends_at) values
      (${rows[0]!.scope}, ${rows[0]!.key_hash}, ${rows[0]!.declines}, ${rows[0]!.window_ends_at}),
      (${rows[1]!.scope}, ${rows[1]!.key_hash}, ${rows[1]!.declines}, ${rows[1]!.window_ends_at})`.execute(db());
    expect(await Retention.purge({ db: db() })).toMatchObject({ paymentVelocity: 1 });
    const left = await sql<{ key_hash: string }>`select key_hash from payment_velocity where key_hash like 'retention-test-%'`.execute(db());
    expect(left.rows.map((row) => row.key_hash)).toEqual(["retention-test-live"]);
  });

  it("with its time budget spent stops and says so", async () => {
    const { cartId } = await quotedCart();
    await ageCart(cartId, 31);
    expect(await Retention.purge({ db: db(), timeBudgetMs: 0 })).toEqual({ carts: 0, quotes: 0, idempotencyKeys: 0, outboxEvents: 0, ordersErased: 0, paymentVelocity: 0, hasMore: true });
    expect(await exists("cart", cartId)).toBe(true);
    expect(await Retention.purge({ db: db() })).toMatchObject({ carts: 1, hasMore: false });
  });
});

describe("pnpm retention:purge", () => {
  it("runs one purge with the configured retention and prints its summary", async () => {
    const { cartId } = await quotedCart();
    await ageCart(cartId, 11);
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "src/cli/retention-purge.ts"],
        { cwd: apiRoot, env: { ...process.env, NODE_ENV: "test", DATABASE_URL: t.database.url, CART_RETENTION_DAYS: "10" }, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split("\n").at(-1)!)).toMatchObject({ carts: 1, hasMore: false });
    expect(await exists("cart", cartId)).toBe(false);
  });

  it("refuses a retention shorter than the settings allow, naming it", async () => {
    const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "src/cli/retention-purge.ts"],
        { cwd: apiRoot, env: { ...process.env, NODE_ENV: "test", DATABASE_URL: t.database.url, ORDER_PERSONAL_DATA_RETENTION_DAYS: "7" }, timeout: 60_000 },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
      );
    });
    expect(run.code).toBe(78);
    expect(run.stderr).toMatch(/ORDER_PERSONAL_DATA_RETENTION_DAYS/);
  });
});
