// Stock under concurrent orders, against real PostgreSQL with the fake provider: the database's conditional update
// decides who gets the last units, so no SKU is oversold and stock never goes negative, whatever the interleaving.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, Checkout, OrderInvariants, StockPolicy } from "../src/index.ts";
import { createFakePaymentProvider, createTestDatabase, placeOrder, quotedCart, readyCart, setStock, stockOf, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ poolSize: 30 });
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;
const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));

async function unitsSold(sku: string): Promise<number> {
  const row = await db()
    .selectFrom("order_line")
    .innerJoin("order", "order.id", "order_line.order_id")
    .select((eb) => eb.fn.sum<string>("order_line.quantity").as("n"))
    .where("order_line.sku", "=", sku)
    .where("order.status", "<>", "payment_failed")
    .executeTakeFirstOrThrow();
  return Number(row.n ?? 0);
}

/** `buyers` carts of one unit of `sku` each, quoted, then all placed at once. */
async function race(sku: string, buyers: number) {
  const fake = createFakePaymentProvider();
  const carts = await Promise.all(Array.from({ length: buyers }, () => quotedCart(db(), { lines: [{ sku, quantity: 1 }] })));
  const results = await Promise.all(carts.map(({ cartId, quote }) => placeOrder(db(), fake, { cartId, quoteId: quote.id })));
  return { fake, results, won: results.filter((r) => r.placed), lost: results.filter((r) => r.error) };
}

describe("placeOrder under concurrency", () => {
  it("sells the last unit to exactly one of 25 concurrent buyers; stock ends at zero, never below", async () => {
    await setStock(db(), "LAMP", 1);
    const { fake, won, lost } = await race("LAMP", 25);
    expect(won).toHaveLength(1);
    expect(won[0]!.placed).toMatchObject({ status: "captured" });
    expect(lost).toHaveLength(24);
    for (const failure of lost) expect(codeOf(failure.error)).toBe("OUT_OF_STOCK");
    // The losers wrote no order and asked the provider nothing.
    expect(lost.every((failure) => failure.row === undefined)).toBe(true);
    expect(fake.callsTo("authorize")).toHaveLength(1);
    expect(await stockOf(db(), "LAMP")).toBe(0);
    expect(await unitsSold("LAMP")).toBe(1);
  });

  it("sells a SKU with stock 5 to exactly 5 of 60 concurrent buyers, each charged once", async () => {
    await setStock(db(), "SUN", 5);
    const { fake, won, lost } = await race("SUN", 60);
    expect(won).toHaveLength(5);
    for (const failure of lost) expect(codeOf(failure.error)).toBe("OUT_OF_STOCK");
    expect(await stockOf(db(), "SUN")).toBe(0);
    expect(await unitsSold("SUN")).toBe(5);
    expect(fake.callsTo("capture")).toHaveLength(5);
    const charges = await db()
      .selectFrom("payment")
      .innerJoin("order_line", "order_line.order_id", "payment.order_id")
      .select("payment.status")
      .where("order_line.sku", "=", "SUN")
      .execute();
    expect(charges.map((charge) => charge.status)).toEqual(["captured", "captured", "captured", "captured", "captured"]);
  });

  it("refuses a negative stock in the database itself, whoever writes it", async () => {
    await setStock(db(), "MUG-SAN", 1);
    await expect(sql`update inventory set available = available - 2 where sku = 'MUG-SAN'`.execute(db())).rejects.toThrow(/check constraint/);
    expect(await stockOf(db(), "MUG-SAN")).toBe(1);
  });

  it("creates one order when the same cart is placed twice at once", async () => {
    const fake = createFakePaymentProvider();
    const { cartId, quote } = await quotedCart(db(), { lines: [{ sku: "TOTE", quantity: 1 }] });
    const results = await Promise.all([placeOrder(db(), fake, { cartId, quoteId: quote.id }), placeOrder(db(), fake, { cartId, quoteId: quote.id })]);
    expect(results.filter((r) => r.placed)).toHaveLength(1);
    expect(["CHECKOUT_IN_PROGRESS", "ALREADY_ORDERED"]).toContain(codeOf(results.find((r) => r.error)!.error));
    expect(await db().selectFrom("order").select("id").where("cart_id", "=", cartId).execute()).toHaveLength(1);
  });

  it("judges the stock share again where placeOrder takes the stock: of two carts filled at once, the second gets QUANTITY_LIMIT", async () => {
    const fake = createFakePaymentProvider();
    await setStock(db(), "BOTL-500", 6);
    const carts = [await quotedCart(db(), { lines: [{ sku: "BOTL-500", quantity: 3 }] }), await quotedCart(db(), { lines: [{ sku: "BOTL-500", quantity: 3 }] })];
    const results = await Promise.all(carts.map(({ cartId, quote }) => placeOrder(db(), fake, { cartId, quoteId: quote.id })));
    expect(results.filter((r) => r.placed)).toHaveLength(1);
    const loser = results.find((r) => r.error)!;
    expect(loser.error).toMatchObject({ code: "QUANTITY_LIMIT", details: { sku: "BOTL-500", requested: 3, maxAllowed: 1 } });
    expect(loser.row).toBeUndefined();
    expect(await db().selectFrom("inventory").select(["available", "stock_received"]).where("sku", "=", "BOTL-500").executeTakeFirstOrThrow()).toEqual({
      available: 3,
      stock_received: 6,
    });
  });

  it("refuses at placeOrder a cart that holds more than the caps however it got there (filled before the limits changed)", async () => {
    const fake = createFakePaymentProvider();
    const policy = { ...StockPolicy.DEFAULT_STOCK_POLICY, maxUnitsPerSku: 8 };
    await setStock(db(), "MUG-SLA", 100);
    const cartId = await readyCart(db(), { lines: [{ sku: "MUG-SLA", quantity: 8 }] });
    await db().updateTable("cart_line").set({ quantity: 12 }).where("cart_id", "=", cartId).execute();
    const quote = await Checkout.quote({ db: db(), cartId });
    const { error, row } = await placeOrder(db(), fake, { cartId, quoteId: quote.id, stockPolicy: policy });
    expect(error).toMatchObject({ code: "QUANTITY_LIMIT", details: { sku: "MUG-SLA", requested: 12, maxAllowed: 8 } });
    expect(row).toBeUndefined();
    expect(await stockOf(db(), "MUG-SLA")).toBe(100);
    expect(fake.calls).toEqual([]);
  });

  it("after all of the above, stock never went negative and never exceeded what was received", async () => {
    const report = await OrderInvariants.check({ db: db(), actor: "admin:test", origin: {} });
    expect(report.checks.find((check) => check.invariant === "stock")).toMatchObject({ passed: true, violations: 0 });
  });
});
