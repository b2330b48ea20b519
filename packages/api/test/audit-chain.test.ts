// The audit log's hash chain on real PostgreSQL: one unbroken chain under concurrent writers,
// append-only, and every kind of tampering by someone with database rights found at its first broken link.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sql, type Transaction } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Audit, createDb, type Database, type Db } from "@checkout/core";
import { CARDS, readyCart, startTestApp, type TestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);

let t: TestApp;
beforeAll(async () => {
  // 40 orders at once from one test shopper (one email): more payment attempts in flight than card-testing
  // limits let one shopper have; those limits are tested in card-testing.test.ts.
  t = await startTestApp({ DB_POOL_MAX: "20", PAYMENT_ATTEMPTS_IN_FLIGHT: "1000" });
});
afterAll(async () => {
  await t?.close();
});

class Rollback extends Error {}

/** Runs `fn` in a transaction that is always rolled back: each tampering scenario leaves the log as it found it. */
async function inRolledBackTransaction(fn: (trx: Transaction<Database>) => Promise<void>): Promise<void> {
  await t.database.db
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

async function linkAt(db: Db, seq: number) {
  return db.selectFrom("audit_log").select(["id", "seq", "prev_hash", "hash"]).where("seq", "=", seq).executeTakeFirstOrThrow();
}

async function placeOrders(count: number, skus: string[][]): Promise<PromiseSettledResult<unknown>[]> {
  const prepared = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const cartId = await readyCart(t.client, (skus[i % skus.length] ?? []).map((sku) => ({ sku, quantity: 1 })));
      const quote = await t.client.checkout.quote.mutate({ cartId });
      return { cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) };
    }),
  );
  return Promise.allSettled(prepared.map((input) => t.client.checkout.placeOrder.mutate(input)));
}

describe("the hash chain", () => {
  it("links every row, from the genesis value, as orders are placed", async () => {
    const results = await placeOrders(3, [["TEE-BLA-M"]]);
    expect(results.every((r) => r.status === "fulfilled")).toBe(true);
    const first = await linkAt(t.database.db, 1);
    expect(first.prev_hash).toBe(Audit.GENESIS_HASH);
    const second = await linkAt(t.database.db, 2);
    expect(second.prev_hash).toBe(first.hash);
    const verdict = await Audit.verifyChain(t.database.db);
    expect(verdict).toMatchObject({ ok: true });
    expect(verdict.ok && verdict.rows).toBeGreaterThanOrEqual(3 * 6);
  });

  it("stays one unbroken chain under concurrent writers on separate connection pools, with no deadlock", async () => {
    await t.database.db.updateTable("inventory").set({ available: 10_000 }).where("sku", "in", ["MUG-SLA", "TOTE", "NOTE-A5", "LAMP"]).execute();
    const other = createDb({ connectionString: t.database.url, max: 10, applicationName: "second-process" });
    try {
      const [orders] = await Promise.all([
        // Overlapping multi-SKU carts: each transaction holds stock row locks while it writes audit rows.
        placeOrders(40, [["LAMP", "MUG-SLA"], ["MUG-SLA", "TOTE"], ["LAMP", "TOTE", "NOTE-A5"], ["NOTE-A5"]]),
        Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            other.transaction().execute(async (trx) => {
              await Audit.record(trx, { entity: "cart", entityId: `c${i}`, action: "test.a", actor: "system" });
              await Audit.record(trx, { entity: "cart", entityId: `c${i}`, action: "test.b", actor: "system" });
            }),
          ),
        ),
      ]);
      expect(orders.filter((r) => r.status === "rejected")).toEqual([]);
    } finally {
      await other.destroy();
    }
    const verdict = await Audit.verifyChain(t.database.db);
    expect(verdict).toMatchObject({ ok: true });
    const { n, max } = await t.database.db
      .selectFrom("audit_log")
      .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.max("seq").as("max")])
      .executeTakeFirstOrThrow();
    expect(Number(max)).toBe(Number(n));
    expect(verdict.ok && verdict.rows).toBe(Number(n));
  });

  it("refuses a writer in a REPEATABLE READ transaction, whose old snapshot could fork the chain", async () => {
    const attempt = t.database.db
      .transaction()
      .setIsolationLevel("repeatable read")
      .execute((trx) => Audit.record(trx, { entity: "order", entityId: "x", action: "test" }));
    await expect(attempt).rejects.toThrow(/READ COMMITTED/);
  });
});

describe("append-only", () => {
  it("rejects UPDATE, DELETE and TRUNCATE with a clear error", async () => {
    const db = t.database.db;
    await expect(db.updateTable("audit_log").set({ action: "order.hidden" }).where("seq", "=", 1).execute()).rejects.toThrow(
      /audit_log is append-only: UPDATE is not allowed/,
    );
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
        const verdict = await Audit.verifyChain(trx);
        expect(verdict).toMatchObject({ ok: false, firstBrokenId: Number(target.id) });
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
      const verdict = await Audit.verifyChain(trx);
      expect(verdict).toMatchObject({ ok: false, firstBrokenId: Number(next.id), reason: expect.stringMatching(new RegExp(`does not point at the hash of link ${middle}`)) });
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
    expect(await Audit.verifyChain(t.database.db)).toMatchObject({ ok: true });
  });
});

describe("pnpm audit:verify", () => {
  it("exits 0 on an intact chain and 1 with the first broken row once someone tampers", async () => {
    const database = await createTestDatabase({ seed: false });
    try {
      for (let i = 0; i < 5; i++) await Audit.record(database.db, { entity: "order", entityId: `o${i}`, action: "test.recorded" });
      const cli = () =>
        run(process.execPath, ["--import", "tsx", "src/cli/audit-verify.ts"], {
          cwd: apiDir,
          env: { ...process.env, NODE_ENV: "test", DATABASE_URL: database.url },
        });
      const intact = await cli();
      expect(intact.stdout).toMatch(/audit chain intact: 5 rows verified/);

      const third = await linkAt(database.db, 3);
      await disableTriggers(database.db);
      await sql`update audit_log set data = '{"amount": 0}' where id = ${third.id}`.execute(database.db);
      const broken = await cli().then(
        () => {
          throw new Error("expected exit code 1");
        },
        (error: { code: number; stdout: string }) => error,
      );
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(new RegExp(`audit chain BROKEN at audit_log id ${third.id}: .*does not match its hash`));
    } finally {
      await database.drop();
    }
  }, 90_000);
});
