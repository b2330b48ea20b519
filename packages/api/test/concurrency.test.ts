// Stock is enforced by the database: parallel buyers of the last units cannot oversell.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCClientError } from "@trpc/client";
import { CARDS, readyCart, startTestApp, type TestApp } from "./support/app.ts";
import { stockOf } from "./support/stock.ts";

let t: TestApp;
beforeAll(async () => {
  // Admission control is not under test here: a queued buyer waits as long as it takes on a busy machine instead of a 503.
  t = await startTestApp({ DB_POOL_MAX: "20", ADMISSION_QUEUE_TIMEOUT_MS: "60000" });
});
afterAll(async () => {
  await t?.close();
});

describe("placeOrder under concurrency", () => {
  it("sells a SKU with stock 5 to exactly 5 of 50 concurrent buyers", { timeout: 120_000 }, async () => {
    await t.database.db.updateTable("inventory").set({ available: 5 }).where("sku", "=", "LAMP").execute();
    // Ten buyers per unit, all placing at once against a pool of 20: more than enough contention to oversell if the
    // database did not enforce stock.
    const buyers = 50;
    const carts = await Promise.all(Array.from({ length: buyers }, () => readyCart(t.client, [{ sku: "LAMP", quantity: 1 }])));
    const quotes = await Promise.all(carts.map((cartId) => t.client.checkout.quote.mutate({ cartId })));
    const tokens = await Promise.all(carts.map(() => t.tokenize(CARDS.success)));
    const results = await Promise.allSettled(carts.map((cartId, i) => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quotes[i]!.id, paymentToken: tokens[i]! })));
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(5);
    for (const failure of lost) {
      expect(failure.reason).toBeInstanceOf(TRPCClientError);
      expect((failure.reason as TRPCClientError<never>).data).toMatchObject({ appCode: "OUT_OF_STOCK", httpStatus: 409 });
    }
    expect(await stockOf(t.database.db, "LAMP")).toBe(0);
    const sold = await t.database.db
      .selectFrom("order_line")
      .innerJoin("order", "order.id", "order_line.order_id")
      .select((eb) => eb.fn.sum<string>("order_line.quantity").as("n"))
      .where("order_line.sku", "=", "LAMP")
      .where("order.status", "<>", "payment_failed")
      .executeTakeFirstOrThrow();
    expect(Number(sold.n)).toBe(5);
    const charges = await t.database.db
      .selectFrom("payment")
      .innerJoin("order_line", "order_line.order_id", "payment.order_id")
      .select("payment.status")
      .where("order_line.sku", "=", "LAMP")
      .execute();
    expect(charges.filter((c) => c.status === "captured")).toHaveLength(5);
    expect(charges.filter((c) => c.status !== "captured")).toEqual([]);
  });

  it("creates one order when the same cart is submitted twice at once", async () => {
    const cartId = await readyCart(t.client, [{ sku: "TOTE", quantity: 1 }]);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    const [a, b] = await Promise.all([t.tokenize(CARDS.success), t.tokenize(CARDS.success)]);
    const results = await Promise.allSettled([
      t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: a }),
      t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: b }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected")!;
    expect(["CHECKOUT_IN_PROGRESS", "ALREADY_ORDERED"]).toContain((rejected.reason as { data?: { appCode?: string } }).data?.appCode);
    const orders = await t.database.db.selectFrom("order").select("id").where("cart_id", "=", cartId).execute();
    expect(orders).toHaveLength(1);
  });
});
