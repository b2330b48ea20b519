// The card number and CVC never reach our API, database or logs: place orders, then search everything.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { CARDS, readyCart, startTestApp, type TestApp } from "./support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ LOG_LEVEL: "debug" });
});
afterAll(async () => {
  await t?.close();
});

describe("card data", () => {
  it("is found in no table and no log line after successful and declined orders", async () => {
    const cvc = "987";
    for (const number of [CARDS.declined, CARDS.success]) {
      const cartId = await readyCart(t.client);
      const quote = await t.client.checkout.quote.mutate({ cartId });
      const paymentToken = await t.tokenize(number, { cvc });
      await t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken }).catch(() => undefined);
    }
    const orders = await t.database.db.selectFrom("payment").select(["status", "card_last4"]).execute();
    expect(orders.map((o) => o.status).sort()).toEqual(["captured", "declined"]);

    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(t.database.db);
    let dump = "";
    for (const { table_name } of tables.rows) {
      const rows = await sql<{ row: unknown }>`select row_to_json(x) as row from ${sql.table(table_name)} x`.execute(t.database.db);
      dump += JSON.stringify(rows.rows);
    }
    expect(dump.length).toBeGreaterThan(1000);
    expect(dump).toContain("4242");
    const logs = t.logs.join("\n");
    expect(logs).toContain("order.placed");
    for (const haystack of [dump, logs]) {
      for (const number of [CARDS.success, CARDS.declined]) {
        expect(haystack).not.toContain(number);
        expect(haystack.replace(/\D/g, "")).not.toContain(number);
      }
      expect(haystack).not.toMatch(new RegExp(`"cvc"\\s*:\\s*"${cvc}"`));
    }
  });
});
