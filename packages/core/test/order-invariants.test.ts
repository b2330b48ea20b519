// OrderInvariants.check against real PostgreSQL: a shop whose orders were placed with the fake provider passes, and
// each kind of corruption someone with database rights could cause (a duplicate charge, an oversold SKU, stock from
// nowhere, money for a failed order, a capture of the wrong amount, a captured order without its capture) is named.
// (The admin endpoint, its access and acknowledged order numbers over HTTP: the API's invariants.test.ts.)
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderInvariants } from "../src/index.ts";
import { checkout, createFakePaymentProvider, createTestDatabase, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;
const fake = createFakePaymentProvider();
const ALICE = { actor: "admin:alice", origin: { ip: "127.0.0.1" } };
const check = () => OrderInvariants.check({ db: db(), ...ALICE });

async function placed(sku: string, outcome: "paid" | "declined" = "paid") {
  if (outcome === "declined") fake.willAuthorize({ status: "declined" });
  const { row } = await checkout(db(), fake, { lines: [{ sku, quantity: 1 }] });
  return row!;
}

function capturedPaymentOf(orderId: string) {
  return db().selectFrom("payment").selectAll().where("order_id", "=", orderId).where("status", "=", "captured").executeTakeFirstOrThrow();
}

/** Runs `corrupt`, checks, then `repair`s so the next test starts from a consistent shop again. */
async function checkCorrupted(corrupt: () => Promise<unknown>, repair: () => Promise<unknown>) {
  await corrupt();
  try {
    return await check();
  } finally {
    await repair();
    expect((await check()).passed).toBe(true);
  }
}

describe("OrderInvariants.check", () => {
  it("passes a consistent shop and records who asked and what it found", async () => {
    await placed("TOTE");
    await placed("TOTE", "declined");
    const report = await check();
    expect(report.passed).toBe(true);
    expect(report.violations).toEqual([]);
    const audit = await db().selectFrom("audit_log").select(["actor", "data"]).where("action", "=", "admin.invariants_checked").orderBy("id", "desc").executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ actor: "admin:alice", data: { passed: true } });
  });

  it("names a second captured payment on an order as a duplicate charge", async () => {
    const order = await placed("NOTE-A5");
    const payment = await capturedPaymentOf(order.id);
    const secondId = randomUUID();
    const report = await checkCorrupted(
      () =>
        db()
          .insertInto("payment")
          .values({ ...payment, id: secondId, provider_reference: `auth_${randomUUID()}` })
          .execute(),
      () => db().deleteFrom("payment").where("id", "=", secondId).execute(),
    );
    expect(report.passed).toBe(false);
    expect(report.checks).toEqual([
      { invariant: "stock", passed: true, violations: 0, byKind: {} },
      { invariant: "charges", passed: false, violations: 1, byKind: { duplicate_charge: 1 } },
    ]);
    expect(report.violations).toEqual([
      {
        invariant: "charges",
        kind: "duplicate_charge",
        subject: order.number,
        detail: `order ${order.number} (captured, total ${order.total} USD) has 2 charges (2 captures); expected at most one`,
      },
    ]);
  });

  it("names an order line beyond the stock ever received as oversold", async () => {
    const order = await placed("LAMP");
    const { stock_received: received, available } = await db().selectFrom("inventory").select(["stock_received", "available"]).where("sku", "=", "LAMP").executeTakeFirstOrThrow();
    let lineId = "";
    const report = await checkCorrupted(
      async () => {
        const line = await db()
          .insertInto("order_line")
          .values({ order_id: order.id, position: 1, sku: "LAMP", product_name: "Desk Lamp", variant_name: "Default", unit_price: 0, quantity: received, line_total: 0, tax: 0 })
          .returning("id")
          .executeTakeFirstOrThrow();
        lineId = line.id;
      },
      () => db().deleteFrom("order_line").where("id", "=", lineId).execute(),
    );
    expect(report.checks[0]).toEqual({ invariant: "stock", passed: false, violations: 2, byKind: { oversold: 1, stock_unbalanced: 1 } });
    expect(report.checks[1]).toMatchObject({ invariant: "charges", passed: true });
    expect(report.violations).toEqual([
      { invariant: "stock", kind: "oversold", subject: "LAMP", detail: `SKU LAMP: live orders hold ${received + 1} units but only ${received} were ever received` },
      {
        invariant: "stock",
        kind: "stock_unbalanced",
        subject: "LAMP",
        detail: `SKU LAMP: ${available} available + ${received + 1} held by live orders = ${available + received + 1}, ${available + 1} more than the ${received} received`,
      },
    ]);
  });

  it("names stock that appeared without being received, and accepts a restock that raises both", async () => {
    const { stock_received: received } = await db().selectFrom("inventory").select("stock_received").where("sku", "=", "SUN").executeTakeFirstOrThrow();
    const report = await checkCorrupted(
      () => sql`update inventory set available = available + 5 where sku = 'SUN'`.execute(db()),
      () => sql`update inventory set available = available - 5 where sku = 'SUN'`.execute(db()),
    );
    expect(report.violations).toMatchObject([{ kind: "stock_unbalanced", subject: "SUN" }]);
    expect(report.violations[0]!.detail).toMatch(new RegExp(`5 more than the ${received} received$`));
    await sql`update inventory set available = available + 10, stock_received = stock_received + 10 where sku = 'SUN'`.execute(db());
    expect((await check()).passed).toBe(true);
  });

  it("names money taken for a failed order, a capture of the wrong amount and a captured order without its capture", async () => {
    const failedOrder = await placed("BEAN-WHOLE", "declined");
    expect(failedOrder.status).toBe("payment_failed");
    const wrongAmount = await placed("BEAN-GROUND");
    const uncaptured = await placed("NOTE-A6");
    const wrongPayment = await capturedPaymentOf(wrongAmount.id);
    const uncapturedPayment = await capturedPaymentOf(uncaptured.id);
    const strayId = randomUUID();

    const report = await checkCorrupted(
      async () => {
        await db()
          .insertInto("payment")
          .values({
            id: strayId,
            order_id: failedOrder.id,
            provider: "fake",
            provider_reference: `auth_${randomUUID()}`,
            status: "captured",
            amount: failedOrder.total,
            currency: "USD",
            captured_amount: failedOrder.total,
          })
          .execute();
        await db()
          .updateTable("payment")
          .set({ amount: wrongAmount.total - 1, captured_amount: wrongAmount.total - 1 })
          .where("id", "=", wrongPayment.id)
          .execute();
        await db().updateTable("payment").set({ status: "authorised", captured_amount: 0 }).where("id", "=", uncapturedPayment.id).execute();
      },
      async () => {
        await db().deleteFrom("payment").where("id", "=", strayId).execute();
        await db().updateTable("payment").set({ amount: wrongAmount.total, captured_amount: wrongAmount.total }).where("id", "=", wrongPayment.id).execute();
        await db().updateTable("payment").set({ status: "captured", captured_amount: uncaptured.total }).where("id", "=", uncapturedPayment.id).execute();
      },
    );
    expect(report.checks[1]).toEqual({
      invariant: "charges",
      passed: false,
      violations: 3,
      byKind: { charge_without_paid_order: 1, charge_amount_mismatch: 1, missing_charge: 1 },
    });
    const bySubject = Object.fromEntries(report.violations.map((v) => [v.subject, v]));
    expect(bySubject[failedOrder.number]).toMatchObject({ kind: "charge_without_paid_order" });
    expect(bySubject[failedOrder.number]!.detail).toContain("payment_failed");
    expect(bySubject[wrongAmount.number]).toMatchObject({ kind: "charge_amount_mismatch" });
    expect(bySubject[uncaptured.number]).toMatchObject({
      kind: "missing_charge",
      detail: `order ${uncaptured.number} (captured, total ${uncaptured.total} USD) has 1 charge (0 captures); expected 1 charge (1 capture)`,
    });
    const audit = await db()
      .selectFrom("audit_log")
      .select("data")
      .where("action", "=", "admin.invariants_checked")
      .orderBy("id", "desc")
      .offset(1)
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(audit.data).toMatchObject({ passed: false, violations: { stock: 0, charges: 3 } });
  });

  it("confirms each acknowledged order number exists once and names the ones that do not", async () => {
    const order = await placed("TOTE");
    const report = await OrderInvariants.check({ db: db(), orderNumbers: [order.number, "999999999"], ...ALICE });
    expect(report.violations).toMatchObject([{ invariant: "orders", subject: "999999999" }]);
  });
});
