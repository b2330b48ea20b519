// The app's queries are named prepared statements on their connection (planned once, not on every call), bounded per
// connection, and a table changed under a prepared statement (a rolling deploy's migration) does not fail a request.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cart, createDb } from "../src/index.ts";
import { MAX_PREPARED_PER_CONNECTION, statementName } from "../src/db/prepared-statements.ts";
import { createTestDatabase, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

/** One connection, so what it prepared is what pg_prepared_statements shows. */
function oneConnection(preparedStatements?: boolean) {
  return createDb({ connectionString: database.url, max: 1, preparedStatements });
}

async function preparedOnConnection(db: ReturnType<typeof oneConnection>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(db);
  return rows.map((row) => row.name);
}

describe("prepared statements", () => {
  it("sends the cart read as a named statement, prepared once and reused, with the same answer as unprepared", async () => {
    const db = oneConnection();
    const plain = oneConnection(false);
    try {
      const cart = await Cart.create({ db, currency: "USD" });
      await Cart.addLine({ db, cartId: cart.id, sku: "TEE-BLA-M", quantity: 2 });
      const first = await Cart.get({ db, cartId: cart.id });
      const before = await preparedOnConnection(db);
      const second = await Cart.get({ db, cartId: cart.id });
      const after = await preparedOnConnection(db);

      // The cart read is among the statements, and reading again prepared nothing new.
      expect(before.length).toBeGreaterThan(1);
      expect(after).toEqual(before);
      expect(second).toEqual(first);
      expect(await Cart.get({ db: plain, cartId: cart.id })).toEqual(first);
      // A text of several statements (no parameters) is sent as it is: it cannot be prepared.
      await sql`select 1; select 2`.execute(db);
      expect(await preparedOnConnection(db)).toEqual(after);
      // The unprepared pool prepared nothing.
      expect(await preparedOnConnection(plain)).toEqual([]);
      // Each name is the digest of its text: the listing query names itself.
      const listing = "select name from pg_prepared_statements order by name";
      expect(after).toContain(statementName(listing));
    } finally {
      await db.destroy();
      await plain.destroy();
    }
  });

  it("keeps at most the cap on one connection; further shapes are answered unnamed", async () => {
    const db = oneConnection();
    try {
      const shapes = MAX_PREPARED_PER_CONNECTION + 20;
      for (let width = 1; width <= shapes; width += 1) {
        // A query shape built from input: an IN list as long as the input.
        const values = Array.from({ length: width }, (_, at) => at);
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from generate_series(1, ${width}) as g(v) where g.v - 1 in (${sql.join(values)})`.execute(db);
        expect(rows[0]?.n).toBe(width);
      }
      const prepared = await preparedOnConnection(db);
      expect(prepared.length).toBe(MAX_PREPARED_PER_CONNECTION);
    } finally {
      await db.destroy();
    }
  });

  it("answers after a column is added under a prepared statement, outside a transaction; inside one only that transaction fails", async () => {
    const db = oneConnection();
    const admin = oneConnection(false);
    try {
      await sql`create table prepared_probe (id int primary key, label text)`.execute(admin);
      await sql`insert into prepared_probe values (1, 'one')`.execute(admin);
      const read = () =>
        db
          .selectFrom("prepared_probe" as never)
          .selectAll()
          .where(sql.ref("id"), "=", 1)
          .execute();
      expect(await read()).toEqual([{ id: 1, label: "one" }]);

      await sql`alter table prepared_probe add column note text`.execute(admin);
      // Same statement, new result type: sent again unnamed, answered with the new column.
      expect(await read()).toEqual([{ id: 1, label: "one", note: null }]);

      await sql`alter table prepared_probe add column extra int`.execute(admin);
      const other = () =>
        db
          .selectFrom("prepared_probe" as never)
          .select(sql.ref("label").as("label"))
          .where(sql.ref("id"), "=", 1)
          .execute();
      expect(await other()).toEqual([{ label: "one" }]); // prepared now, before the next change
      await sql`alter table prepared_probe alter column label type varchar(20)`.execute(admin);
      const failed = await db
        .transaction()
        .execute(async (trx) =>
          trx
            .selectFrom("prepared_probe" as never)
            .select(sql.ref("label").as("label"))
            .where(sql.ref("id"), "=", 1)
            .execute(),
        )
        .then(
          () => null,
          (error: unknown) => error as { code?: string },
        );
      expect(failed?.code).toBe("0A000");
      // The connection is healthy and the statement goes unnamed from then on.
      expect(await other()).toEqual([{ label: "one" }]);
    } finally {
      await sql`drop table if exists prepared_probe`.execute(admin);
      await db.destroy();
      await admin.destroy();
    }
  });
});
