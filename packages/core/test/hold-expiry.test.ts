// The hold sweep against real PostgreSQL: orders whose 3-D Secure challenge outlived their hold give their stock back,
// on time whatever the backlog, shared between sweepers, never a unit twice, and only the orders it may release.
import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, HoldExpiry, type Database, type OrderStatus } from "../src/index.ts";
import { createTestDatabase, setStock, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

function stockLevelsOf(db: Kysely<Database>, sku: string) {
  return db.selectFrom("inventory").select(["available", "stock_received"]).where("sku", "=", sku).executeTakeFirstOrThrow();
}

/**
 * Writes `count` pending orders waiting on 3-D Secure straight into the database, each holding `quantity` units of
 * `sku` (taken from its stock as placeOrder would), their holds expired at `expiresAt`.
 */
async function seedHolds(db: Kysely<Database>, input: { sku: string; count: number; quantity: number; expiresAt: Date; waitingOn3ds?: boolean; authorizingUntil?: Date }) {
  const { sku, count, quantity } = input;
  await sql`
    with carts as (
      insert into cart (id, currency, status) select gen_random_uuid(), 'USD', 'open' from generate_series(1, ${count}) returning id
    ), quotes as (
      insert into quote (id, cart_id, currency, subtotal, shipping, tax, total, snapshot, expires_at)
      select gen_random_uuid(), id, 'USD', ${2400 * quantity}::int8, 0, 0, ${2400 * quantity}::int8, '{}', now() from carts returning id, cart_id
    ), orders as (
      insert into "order" (id, cart_id, quote_id, status, email, shipping_address, shipping_option, currency, subtotal, shipping, tax, total,
        reservation_expires_at, authorizing_until)
      select gen_random_uuid(), cart_id, id, 'pending_payment', 'hoarder@example.com', '{}', '{}', 'USD', ${2400 * quantity}::int8, 0, 0, ${2400 * quantity}::int8,
        ${input.expiresAt}::timestamptz, ${input.authorizingUntil ?? null}::timestamptz
      from quotes returning id, total
    ), lines as (
      insert into order_line (order_id, position, sku, product_name, variant_name, unit_price, quantity, line_total, tax)
      select id, 0, ${sku}::text, 'Seeded', 'Hold', 2400, ${quantity}::int, total, 0 from orders
    ), payments as (
      insert into payment (id, order_id, provider, provider_reference, status, amount, currency, next_action_url)
      select gen_random_uuid(), id, 'fake', 'auth_seeded_' || id, 'requires_action', total, 'USD', 'https://fake-provider.test/3ds' from orders
      where ${input.waitingOn3ds ?? true}::boolean
    )
    update inventory set available = available - ${count * quantity}::int where sku = ${sku}::text`.execute(db);
}

async function countOrders(db: Kysely<Database>, sku: string, status: OrderStatus): Promise<number> {
  const row = await db
    .selectFrom("order as o")
    .innerJoin("order_line as l", "l.order_id", "o.id")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("l.sku", "=", sku)
    .where("o.status", "=", status)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("HoldExpiry.releaseExpired", () => {
  it("releases 1,000 expired holds in one run and gives back exactly the units they held", { timeout: 120_000 }, async () => {
    const db = database.db;
    await setStock(db, "HOOD-CHA-M", 5000);
    await seedHolds(db, { sku: "HOOD-CHA-M", count: 1000, quantity: 3, expiresAt: new Date(Date.now() - 60_000) });
    expect(await stockLevelsOf(db, "HOOD-CHA-M")).toEqual({ available: 2000, stock_received: 5000 });

    expect(await HoldExpiry.releaseExpired({ db })).toEqual({ released: 1000, units: 3000, batches: 10, hasMore: false });
    expect(await stockLevelsOf(db, "HOOD-CHA-M")).toEqual({ available: 5000, stock_received: 5000 });
    expect(await countOrders(db, "HOOD-CHA-M", "payment_failed")).toBe(1000);
    expect(await countOrders(db, "HOOD-CHA-M", "pending_payment")).toBe(0);
    const declined = await sql<{ n: string }>`select count(*) as n from payment p join order_line l on l.order_id = p.order_id
      where l.sku = 'HOOD-CHA-M' and p.status = 'declined' and p.decline_code = ${HoldExpiry.HOLD_EXPIRED}`.execute(db);
    expect(Number(declined.rows[0]!.n)).toBe(1000);
    const audits = await sql<{ n: string }>`select count(*) as n from audit_log where action = 'reconcile.hold_expired'
      and entity_id in (select o.id::text from "order" o join order_line l on l.order_id = o.id where l.sku = 'HOOD-CHA-M')`.execute(db);
    expect(Number(audits.rows[0]!.n)).toBe(1000);
    expect(await HoldExpiry.releaseExpired({ db })).toEqual({ released: 0, units: 0, batches: 0, hasMore: false });
  });

  it("leaves a hold alone until its expiry, judged by the `now` it is given", async () => {
    const db = database.db;
    await setStock(db, "BEAN-RUS", 40);
    const expiresAt = new Date(Date.now() + 10 * 60_000);
    await seedHolds(db, { sku: "BEAN-RUS", count: 1, quantity: 2, expiresAt });
    expect(await HoldExpiry.releaseExpired({ db, now: new Date(expiresAt.getTime() - 1000) })).toMatchObject({ released: 0 });
    expect(await stockLevelsOf(db, "BEAN-RUS")).toEqual({ available: 38, stock_received: 40 });
    expect(await HoldExpiry.releaseExpired({ db, now: new Date(expiresAt.getTime() + 1000) })).toEqual({ released: 1, units: 2, batches: 1, hasMore: false });
    expect(await stockLevelsOf(db, "BEAN-RUS")).toEqual({ available: 40, stock_received: 40 });
  });

  it("with a time budget stops between batches and says so; run again, it finishes the rest", async () => {
    const db = database.db;
    await setStock(db, "HOOD-CHA-L", 1000);
    await seedHolds(db, { sku: "HOOD-CHA-L", count: 250, quantity: 1, expiresAt: new Date(Date.now() - 60_000) });
    const first = await HoldExpiry.releaseExpired({ db, batchSize: 100, timeBudgetMs: 0 });
    expect(first).toEqual({ released: 100, units: 100, batches: 1, hasMore: true });
    let runs = 1;
    let last = first;
    while (last.hasMore) {
      last = await HoldExpiry.releaseExpired({ db, batchSize: 100, timeBudgetMs: 0 });
      runs++;
    }
    expect(runs).toBe(3);
    expect(await stockLevelsOf(db, "HOOD-CHA-L")).toEqual({ available: 1000, stock_received: 1000 });
  });

  it("shares the work between four sweepers on their own pools and never gives a unit back twice", { timeout: 120_000 }, async () => {
    const db = database.db;
    await setStock(db, "HOOD-FOR-M", 4000);
    await seedHolds(db, { sku: "HOOD-FOR-M", count: 1000, quantity: 2, expiresAt: new Date(Date.now() - 60_000) });
    const pools = Array.from({ length: 4 }, (_, i) => createDb({ connectionString: database.url, max: 2, applicationName: `sweeper-${i}` }));
    try {
      const summaries = await Promise.all(pools.map((pool) => HoldExpiry.releaseExpired({ db: pool, batchSize: 50 })));
      expect(summaries.reduce((sum, summary) => sum + summary.released, 0)).toBe(1000);
      expect(summaries.reduce((sum, summary) => sum + summary.units, 0)).toBe(2000);
    } finally {
      await Promise.all(pools.map((pool) => pool.destroy()));
    }
    expect(await stockLevelsOf(db, "HOOD-FOR-M")).toEqual({ available: 4000, stock_received: 4000 });
    const perOrder = await sql<{ n: string }>`select count(*) as n from audit_log a join order_line l on a.entity_id = l.order_id::text
      where a.action = 'reconcile.hold_expired' and l.sku = 'HOOD-FOR-M' group by a.entity_id having count(*) <> 1`.execute(db);
    expect(perOrder.rows).toEqual([]);
  });

  it("leaves holds not yet expired, orders a request is authorising and orders not waiting on 3-D Secure", async () => {
    const db = database.db;
    await setStock(db, "HOOD-FOR-L", 100);
    const past = new Date(Date.now() - 60_000);
    await seedHolds(db, { sku: "HOOD-FOR-L", count: 3, quantity: 1, expiresAt: new Date(Date.now() + 60_000) });
    await seedHolds(db, { sku: "HOOD-FOR-L", count: 3, quantity: 1, expiresAt: past, authorizingUntil: new Date(Date.now() + 60_000) });
    // No provider answer yet: the reconciler asks the provider about those; the sweep never guesses.
    await seedHolds(db, { sku: "HOOD-FOR-L", count: 3, quantity: 1, expiresAt: past, waitingOn3ds: false });
    await HoldExpiry.releaseExpired({ db });
    expect(await countOrders(db, "HOOD-FOR-L", "pending_payment")).toBe(9);
    expect(await stockLevelsOf(db, "HOOD-FOR-L")).toEqual({ available: 91, stock_received: 100 });
  });
});
