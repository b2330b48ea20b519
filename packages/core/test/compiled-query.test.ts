// A query compiled once runs with each call's values, inside or outside a transaction, and refuses at definition a
// parameter its query does not use.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../src/index.ts";
import { compileOnce } from "../src/db/compiled-query.ts";
import { createTestDatabase, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
let db: ReturnType<typeof createDb>;
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ connectionString: database.url, max: 2 });
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const priceOf = compileOnce(["sku", "currency"], (qb, { sku, currency }: { sku: string; currency: string }) =>
  qb.selectFrom("price").select(["sku", "currency", "amount"]).where("sku", "=", sku).where("currency", "=", currency).where("amount", ">", 0),
);

describe("compileOnce", () => {
  it("compiles the SQL once, with a placeholder per parameter and the query's own constants kept", () => {
    expect(priceOf.sql).toBe('select "sku", "currency", "amount" from "price" where "sku" = $1 and "currency" = $2 and "amount" > $3');
  });

  it("runs with each call's values, giving what the same query built per call gives", async () => {
    const pairs = [
      ["TEE-BLA-M", "USD"],
      ["TEE-BLA-M", "EUR"],
      ["MUG-WHI", "USD"],
      ["NO-SUCH-SKU", "USD"],
    ] as const;
    for (const [sku, currency] of pairs) {
      const compiled = await priceOf.execute(db, { sku, currency });
      const built = await db.selectFrom("price").select(["sku", "currency", "amount"]).where("sku", "=", sku).where("currency", "=", currency).where("amount", ">", 0).execute();
      expect(compiled).toEqual(built);
    }
    expect(await priceOf.execute(db, { sku: "TEE-BLA-M", currency: "USD" })).toHaveLength(1);
  });

  it("runs inside a transaction on that transaction's connection", async () => {
    const seen = await db
      .transaction()
      .execute(async (trx) => {
        await trx.updateTable("price").set({ amount: 1234 }).where("sku", "=", "TEE-BLA-M").where("currency", "=", "USD").execute();
        const [inside] = await priceOf.execute(trx, { sku: "TEE-BLA-M", currency: "USD" });
        throw Object.assign(new Error("roll back"), { inside });
      })
      .catch((error: { inside?: { amount: number } }) => error.inside);
    expect(seen?.amount).toBe(1234);
    const [after] = await priceOf.execute(db, { sku: "TEE-BLA-M", currency: "USD" });
    expect(after?.amount).not.toBe(1234);
  });

  it("refuses a parameter the query does not use", () => {
    expect(() => compileOnce(["sku", "unused"], (qb, { sku }: { sku: string; unused: string }) => qb.selectFrom("price").selectAll().where("sku", "=", sku))).toThrow(
      'parameter "unused" is not used',
    );
  });
});
