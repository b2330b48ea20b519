// Inventory.reserve and release against real PostgreSQL: the one place overselling is prevented. Reserving is all or
// nothing, refuses beyond the stock (OUT_OF_STOCK) or beyond one order's share (QUANTITY_LIMIT), hands the last units
// to exactly as many concurrent orders as there are units, and never deadlocks orders over the same SKUs.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, Audit, Inventory, StockPolicy } from "../src/index.ts";
import { checkout, createFakePaymentProvider, createTestDatabase, setStock, stockOf, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ poolSize: 30 });
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;
const POLICY = StockPolicy.DEFAULT_STOCK_POLICY;
const line = (sku: string, quantity = 1) => ({ sku, label: `Item ${sku}`, quantity });

function reserve(lines: ReturnType<typeof line>[], policy = POLICY, orderId = randomUUID()) {
  return db()
    .transaction()
    .execute((trx) => Inventory.reserve(trx, { orderId, lines, policy, actor: "shopper" }))
    .then(
      () => null,
      (error: unknown) => error,
    );
}

describe("Inventory.reserve", () => {
  it("takes every line's units in one transaction and audits each line", async () => {
    await setStock(db(), "MUG-SLA", 50);
    await setStock(db(), "TOTE", 50);
    const orderId = randomUUID();
    expect(await reserve([line("TOTE", 2), line("MUG-SLA", 3)], POLICY, orderId)).toBeNull();
    expect(await stockOf(db(), "MUG-SLA")).toBe(47);
    expect(await stockOf(db(), "TOTE")).toBe(48);
    const trail = await Audit.listForOrder(db(), orderId);
    // In SKU order, whatever order the lines came in.
    expect(trail.map((row) => [row.action, row.entityId, row.data])).toEqual([
      ["inventory.reserved", "MUG-SLA", { orderId, quantity: 3 }],
      ["inventory.reserved", "TOTE", { orderId, quantity: 2 }],
    ]);
  });

  it("takes nothing when one line cannot be had: OUT_OF_STOCK names it", async () => {
    await setStock(db(), "NOTE-A5", 10);
    await setStock(db(), "NOTE-A6", 1);
    const error = await reserve([line("NOTE-A5", 2), line("NOTE-A6", 2)]);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "OUT_OF_STOCK", details: { sku: "NOTE-A6", requested: 2, available: 1 } });
    expect((error as AppError).message).toMatch(/Item NOTE-A6 sold out/);
    expect(await stockOf(db(), "NOTE-A5")).toBe(10);
    expect(await stockOf(db(), "NOTE-A6")).toBe(1);
  });

  it("refuses more than one order's share of a scarce SKU with QUANTITY_LIMIT, and the caps before touching stock", async () => {
    await setStock(db(), "LAMP", 6);
    expect(await reserve([line("LAMP", 4)])).toMatchObject({ code: "QUANTITY_LIMIT", details: { sku: "LAMP", requested: 4, maxAllowed: 3 } });
    expect(await stockOf(db(), "LAMP")).toBe(6);
    const tight = { ...POLICY, maxUnitsPerSku: 2, maxUnitsPerCart: 3 };
    expect(await reserve([line("LAMP", 3)], tight)).toMatchObject({ code: "QUANTITY_LIMIT", details: { limit: "per_item" } });
    expect(await reserve([line("LAMP", 2), line("TOTE", 2)], tight)).toMatchObject({ code: "QUANTITY_LIMIT", details: { limit: "per_order" } });
    expect(await stockOf(db(), "LAMP")).toBe(6);
    expect(await reserve([line("LAMP", 3)])).toBeNull();
    expect(await stockOf(db(), "LAMP")).toBe(3);
  });

  it("gives 3 units to exactly 3 of 30 concurrent orders, and stock ends at zero", async () => {
    await setStock(db(), "SUN", 3);
    const results = await Promise.all(Array.from({ length: 30 }, () => reserve([line("SUN")])));
    expect(results.filter((error) => error === null)).toHaveLength(3);
    for (const error of results.filter((e) => e !== null)) expect(error).toMatchObject({ code: "OUT_OF_STOCK" });
    expect(await stockOf(db(), "SUN")).toBe(0);
  });

  it("never deadlocks orders that hold the same SKUs listed in opposite orders", async () => {
    await setStock(db(), "SOCK-S", 1000);
    await setStock(db(), "SOCK-M", 1000);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => reserve(i % 2 === 0 ? [line("SOCK-S"), line("SOCK-M")] : [line("SOCK-M"), line("SOCK-S")])));
    expect(results.filter((error) => error !== null).map(String)).toEqual([]);
    expect(await stockOf(db(), "SOCK-S")).toBe(960);
    expect(await stockOf(db(), "SOCK-M")).toBe(960);
  });
});

describe("Inventory.release and releaseUnits", () => {
  it("gives an order's units back and audits each line", async () => {
    await setStock(db(), "BOTL-500", 20);
    const fake = createFakePaymentProvider();
    const { row } = await checkout(db(), fake, { lines: [{ sku: "BOTL-500", quantity: 2 }], captureMode: "on_fulfilment" });
    expect(await stockOf(db(), "BOTL-500")).toBe(18);
    await db()
      .transaction()
      .execute((trx) => Inventory.release(trx, { orderId: row!.id, actor: "admin:test" }));
    expect(await stockOf(db(), "BOTL-500")).toBe(20);
    const released = (await Audit.listForOrder(db(), row!.id)).filter((entry) => entry.action === "inventory.released");
    expect(released).toMatchObject([{ entityId: "BOTL-500", actor: "admin:test", data: { orderId: row!.id, quantity: 2 } }]);
  });

  it("adds up units per SKU and returns how many it gave back", async () => {
    await setStock(db(), "BOTL-750", 10);
    await setStock(db(), "HOOD-CHA-S", 10);
    const units = await db()
      .transaction()
      .execute((trx) =>
        Inventory.releaseUnits(trx, [
          { sku: "HOOD-CHA-S", quantity: 1 },
          { sku: "BOTL-750", quantity: 2 },
          { sku: "HOOD-CHA-S", quantity: 3 },
        ]),
      );
    expect(units).toBe(6);
    expect(await stockOf(db(), "BOTL-750")).toBe(12);
    expect(await stockOf(db(), "HOOD-CHA-S")).toBe(14);
  });
});
