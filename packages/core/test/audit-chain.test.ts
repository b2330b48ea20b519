// The audit log's hash chain on real PostgreSQL: one unbroken chain under concurrent writers, append-only, and every
// kind of tampering by someone with database rights found at its first broken link.
import { sql, type Transaction } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Audit, createDb, type Database, type Db } from "../src/index.ts";
import { createFakePaymentProvider, createTestDatabase, placeOrder, quotedCart, setStock, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ seed: false });
  // The rows every tampering scenario works on: an order's trail, as a transaction writes it.
  for (let i = 0; i < 4; i++) {
    await database.db.transaction().execute(async (trx) => {
      await Audit.record(trx, { entity: "order", entityId: `order-${i}`, action: "order.created", actor: "shopper", origin: { ip: "127.0.0.1" }, data: { total: 1000 + i } });
      await Audit.record(trx, { entity: "payment", entityId: `payment-${i}`, action: "payment.authorised", data: { orderId: `order-${i}` } });
    });
  }
});
afterAll(async () => {
  await database?.drop();
});

class Rollback extends Error {}

/** Runs `fn` in a transaction that is always rolled back: each tampering scenario leaves the log as it found it. */
async function inRolledBackTransaction(fn: (trx: Transaction<Database>) => Promise<void>): Promise<void> {
  await database.db
    .transaction()
    .execute(async (trx) => {
      await fn(trx);
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
}

/** What an attacker with table-owner rights does first: switch the append-only and chain triggers off. */
const disableTriggers = (db: Db) => sql`alter table audit_log disable trigger user`.execute(db);

function linkAt(db: Db, seq: number) {
  return db.selectFrom("audit_log").select(["id", "seq", "prev_hash", "hash"]).where("seq", "=", seq).executeTakeFirstOrThrow();
}

describe("the hash chain", () => {
  it("links every row from the genesis value, in commit order", async () => {
    const first = await linkAt(database.db, 1);
    expect(first.prev_hash).toBe(Audit.GENESIS_HASH);
    const second = await linkAt(database.db, 2);
    expect(second.prev_hash).toBe(first.hash);
    expect(await Audit.verifyChain(database.db)).toMatchObject({ ok: true, rows: 8 });
  });

  it("stays one unbroken chain under concurrent multi-row writers on separate connection pools", async () => {
    const other = createDb({ connectionString: database.url, max: 10, applicationName: "second-process" });
    try {
      const writer = (db: Db, prefix: string) =>
        Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            (db as typeof other).transaction().execute(async (trx) => {
              await Audit.record(trx, { entity: "cart", entityId: `${prefix}${i}`, action: "test.a" });
              await Audit.recordMany(trx, [
                { entity: "cart", entityId: `${prefix}${i}`, action: "test.b" },
                { entity: "cart", entityId: `${prefix}${i}`, action: "test.c" },
              ]);
            }),
          ),
        );
      await Promise.all([writer(database.db, "a"), writer(other, "b")]);
    } finally {
      await other.destroy();
    }
    const verdict = await Audit.verifyChain(database.db);
    const { n, max } = await database.db
      .selectFrom("audit_log")
      .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.max("seq").as("max")])
      .executeTakeFirstOrThrow();
    expect(Number(n)).toBe(8 + 2 * 40 * 3);
    expect(Number(max)).toBe(Number(n));
    expect(verdict).toMatchObject({ ok: true, rows: Number(n) });
  });

  it("keeps a transaction's rows in the order it wrote them, one after another", async () => {
    await database.db.transaction().execute(async (trx) => {
      for (const action of ["test.first", "test.second", "test.third"]) await Audit.record(trx, { entity: "order", entityId: "ordered", action });
    });
    const rows = await Audit.listForEntity(database.db, "order", "ordered");
    expect(rows.map((row) => row.action)).toEqual(["test.first", "test.second", "test.third"]);
    expect(rows.map((row) => Number(row.seq) - Number(rows[0]!.seq))).toEqual([0, 1, 2]);
  });

  it("refuses a writer in a REPEATABLE READ transaction, whose old snapshot could fork the chain", async () => {
    const attempt = database.db
      .transaction()
      .setIsolationLevel("repeatable read")
      .execute((trx) => Audit.record(trx, { entity: "order", entityId: "x", action: "test" }));
    await expect(attempt).rejects.toThrow(/READ COMMITTED/);
  });
});

describe("append-only", () => {
  it("rejects UPDATE, DELETE and TRUNCATE with a clear error", async () => {
    const db = database.db;
    await expect(db.updateTable("audit_log").set({ action: "order.hidden" }).where("seq", "=", 1).execute()).rejects.toThrow(/audit_log is append-only: UPDATE is not allowed/);
    await expect(db.deleteFrom("audit_log").where("seq", "=", 1).execute()).rejects.toThrow(/audit_log is append-only: DELETE is not allowed/);
    await expect(sql`truncate audit_log`.execute(db)).rejects.toThrow(/audit_log is append-only: TRUNCATE is not allowed/);
    await expect(sql`update audit_log set seq = null, prev_hash = null, hash = null where seq = 1`.execute(db)).rejects.toThrow(/append-only/);
    expect(await Audit.verifyChain(db)).toMatchObject({ ok: true });
  });
});

describe("tamper detection", () => {
  const middle = 5;
  const edits: [string, string][] = [
    ["entity", `entity = entity || '_x'`],
    ["entity_id", `entity_id = entity_id || 'x'`],
    ["action", `action = 'order.nothing_to_see'`],
    ["actor", `actor = 'admin:someone-else'`],
    ["outcome", `outcome = case when outcome = 'success' then 'failure' else 'success' end`],
    ["origin", `origin = '{"ip": "10.9.9.9"}'`],
    ["data", `data = data || '{"tampered": true}'`],
    ["created_at", `created_at = created_at + interval '1 microsecond'`],
    ["hash", `hash = repeat('a', 64)`],
    ["prev_hash", `prev_hash = repeat('b', 64)`],
  ];

  for (const [field, assignment] of edits) {
    it(`finds a changed ${field} at that row`, async () => {
      await inRolledBackTransaction(async (trx) => {
        const target = await linkAt(trx, middle);
        await disableTriggers(trx);
        await sql`update audit_log set ${sql.raw(assignment)} where id = ${target.id}`.execute(trx);
        expect(await Audit.verifyChain(trx)).toMatchObject({ ok: false, firstBrokenId: Number(target.id) });
      });
    });
  }

  it("finds a changed id at the renumbered row", async () => {
    await inRolledBackTransaction(async (trx) => {
      const target = await linkAt(trx, middle);
      await disableTriggers(trx);
      await sql`update audit_log set id = 900000 where id = ${target.id}`.execute(trx);
      expect(await Audit.verifyChain(trx)).toMatchObject({ ok: false, firstBrokenId: 900000, reason: expect.stringMatching(/does not match its hash/) });
    });
  });

  it("finds a row rewritten with a recomputed hash at the link after it", async () => {
    await inRolledBackTransaction(async (trx) => {
      const target = await linkAt(trx, middle);
      const next = await linkAt(trx, middle + 1);
      await disableTriggers(trx);
      await sql`update audit_log set action = 'order.rewritten' where id = ${target.id}`.execute(trx);
      await sql`update audit_log set hash = encode(sha256(convert_to(prev_hash || jsonb_build_array(seq, id, entity, entity_id, action, actor, outcome, origin, data,
        to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text, 'UTF8')), 'hex') where id = ${target.id}`.execute(trx);
      expect(await Audit.verifyChain(trx)).toMatchObject({
        ok: false,
        firstBrokenId: Number(next.id),
        reason: expect.stringMatching(new RegExp(`does not point at the hash of link ${middle}`)),
      });
    });
  });

  it("finds a deleted row at the row after it", async () => {
    await inRolledBackTransaction(async (trx) => {
      const target = await linkAt(trx, middle);
      const next = await linkAt(trx, middle + 1);
      await disableTriggers(trx);
      await trx.deleteFrom("audit_log").where("id", "=", target.id).execute();
      expect(await Audit.verifyChain(trx)).toMatchObject({ ok: false, firstBrokenId: Number(next.id), reason: expect.stringMatching(/missing/) });
    });
  });

  it("finds a forged row inserted with the chain trigger off", async () => {
    await inRolledBackTransaction(async (trx) => {
      await disableTriggers(trx);
      const forged = await trx
        .insertInto("audit_log")
        .values({ entity: "order", entity_id: "forged", action: "order.refunded", data: "{}" })
        .returning("id")
        .executeTakeFirstOrThrow();
      expect(await Audit.verifyChain(trx)).toMatchObject({ ok: false, firstBrokenId: Number(forged.id), reason: expect.stringMatching(/not linked/) });
    });
  });

  it("finds a forged row slipped into the middle of the chain with a well-formed hash", async () => {
    await inRolledBackTransaction(async (trx) => {
      const previous = await linkAt(trx, middle - 1);
      await disableTriggers(trx);
      await sql`drop index audit_log_seq_key`.execute(trx);
      const forged = await sql<{ id: number }>`
        insert into audit_log (entity, entity_id, action, data, seq, prev_hash, hash, created_at)
        values ('order', 'forged', 'order.refunded', '{}', ${middle}, ${previous.hash}, '', now())
        returning id`.execute(trx);
      const id = forged.rows[0]!.id;
      await sql`update audit_log set hash = encode(sha256(convert_to(prev_hash || jsonb_build_array(seq, id, entity, entity_id, action, actor, outcome, origin, data,
        to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text, 'UTF8')), 'hex') where id = ${id}`.execute(trx);
      expect(await Audit.verifyChain(trx)).toMatchObject({ ok: false, firstBrokenId: Number(id), reason: expect.stringMatching(/repeats chain position/) });
    });
  });

  it("leaves the real log intact after the rolled-back attacks", async () => {
    expect(await Audit.verifyChain(database.db)).toMatchObject({ ok: true });
  });
});

describe("the chain as orders are placed", () => {
  let shop: TestDatabase;
  beforeAll(async () => {
    shop = await createTestDatabase({ poolSize: 20 });
  });
  afterAll(async () => {
    await shop?.drop();
  });

  /** Quotes one cart per entry (one unit of each SKU) and places them all at once with the fake provider. */
  async function placeOrders(skus: string[][]) {
    const fake = createFakePaymentProvider();
    const carts = await Promise.all(skus.map((lines) => quotedCart(shop.db, { lines: lines.map((sku) => ({ sku, quantity: 1 })) })));
    return Promise.all(carts.map(({ cartId, quote }) => placeOrder(shop.db, fake, { cartId, quoteId: quote.id })));
  }

  it("links every row an order writes, from the genesis value", async () => {
    const results = await placeOrders([["TEE-BLA-M"], ["TEE-BLA-M"], ["TEE-BLA-M"]]);
    expect(results.every((result) => result.placed?.status === "captured")).toBe(true);
    expect((await linkAt(shop.db, 1)).prev_hash).toBe(Audit.GENESIS_HASH);
    expect((await linkAt(shop.db, 2)).prev_hash).toBe((await linkAt(shop.db, 1)).hash);
    const verdict = await Audit.verifyChain(shop.db);
    expect(verdict).toMatchObject({ ok: true });
    expect(verdict.ok && verdict.rows).toBeGreaterThanOrEqual(3 * 6);
  });

  it("stays one unbroken chain while orders holding stock locks and another pool's writers commit at once, with no deadlock", async () => {
    for (const sku of ["MUG-SLA", "TOTE", "NOTE-A5", "LAMP"]) await setStock(shop.db, sku, 10_000);
    const other = createDb({ connectionString: shop.url, max: 10, applicationName: "second-process" });
    try {
      const overlapping = [["LAMP", "MUG-SLA"], ["MUG-SLA", "TOTE"], ["LAMP", "TOTE", "NOTE-A5"], ["NOTE-A5"]];
      const [orders] = await Promise.all([
        // Overlapping multi-SKU carts: each transaction holds stock row locks while it writes audit rows.
        placeOrders(Array.from({ length: 40 }, (_, i) => overlapping[i % overlapping.length]!)),
        Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            other.transaction().execute(async (trx) => {
              await Audit.record(trx, { entity: "cart", entityId: `c${i}`, action: "test.a" });
              await Audit.record(trx, { entity: "cart", entityId: `c${i}`, action: "test.b" });
            }),
          ),
        ),
      ]);
      expect(orders.filter((result) => result.error !== null).map((result) => String(result.error))).toEqual([]);
    } finally {
      await other.destroy();
    }
    const verdict = await Audit.verifyChain(shop.db);
    const { n, max } = await shop.db
      .selectFrom("audit_log")
      .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.max("seq").as("max")])
      .executeTakeFirstOrThrow();
    expect(Number(max)).toBe(Number(n));
    expect(verdict).toMatchObject({ ok: true, rows: Number(n) });
  });
});
