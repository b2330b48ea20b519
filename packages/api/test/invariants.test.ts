// admin.invariants over HTTP against real PostgreSQL and the payment sandbox: a clean shop passes,
// each kind of corruption (made with SQL, as a bug or a hand edit would) is named, a snapshot taken
// while orders are being placed is consistent, and only admins may ask.
import { randomBytes, randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARDS, createAdminClient, expectTrpcError, readyCart, startTestApp, type TestApp } from "./support/app.ts";

const ADMIN_TOKEN = `alice_${randomBytes(24).toString("hex")}`;

let t: TestApp;
let admin: ReturnType<typeof adminClient>;
beforeAll(async () => {
  t = await startTestApp({ ADMIN_API_TOKENS: `alice:${ADMIN_TOKEN}`, DB_POOL_MAX: "20" });
  admin = adminClient(ADMIN_TOKEN);
});
afterAll(async () => {
  await t?.close();
});

function adminClient(token: string | null) {
  return createAdminClient(t.app.url, token);
}

async function placeOrder(lines: { sku: string; quantity: number }[], card = CARDS.success) {
  const cartId = await readyCart(t.client, lines);
  const quote = await t.client.checkout.quote.mutate({ cartId });
  return t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(card) });
}

async function capturedPaymentOf(orderId: string) {
  return t.database.db.selectFrom("payment").selectAll().where("order_id", "=", orderId).where("status", "=", "captured").executeTakeFirstOrThrow();
}

/** Runs `corrupt`, checks, then `repair`s so the next test starts from a consistent shop again. */
async function checkCorrupted(corrupt: () => Promise<unknown>, repair: () => Promise<unknown>) {
  await corrupt();
  try {
    return await admin.admin.invariants.query();
  } finally {
    await repair();
    expect((await admin.admin.invariants.query()).passed).toBe(true);
  }
}

describe("admin.invariants on a consistent shop", () => {
  it("passes after captured, declined and refunded checkouts, with counts that match the orders", async () => {
    const before = await admin.admin.invariants.query();
    expect(before).toMatchObject({ passed: true, violations: [], orders: { total: 0 }, charges: { total: 0 } });
    expect(before.stock.unitsHeld).toBe(0);
    expect(before.stock.unitsAvailable).toBe(before.stock.unitsReceived);

    const first = await placeOrder([{ sku: "TEE-BLA-M", quantity: 2 }]);
    const second = await placeOrder([
      { sku: "MUG-SAN", quantity: 1 },
      { sku: "TOTE", quantity: 3 },
    ]);
    const refunded = await placeOrder([{ sku: "SOCK-M", quantity: 1 }]);
    await admin.admin.orders.refund.mutate({ orderId: refunded.id, amount: 100, reason: "scuffed box" });
    const declined = await expectTrpcError(() => placeOrder([{ sku: "LAMP", quantity: 1 }], CARDS.declined));
    expect(declined.data?.httpStatus).toBe(402);

    const report = await admin.admin.invariants.query();
    expect(report.passed).toBe(true);
    expect(report.violations).toEqual([]);
    expect(report.checks).toEqual([
      { invariant: "stock", passed: true, violations: 0, byKind: {} },
      { invariant: "charges", passed: true, violations: 0, byKind: {} },
    ]);
    expect(report.orders).toEqual({ total: 4, byStatus: { captured: 2, partially_refunded: 1, payment_failed: 1 } });
    // The declined order gave its lamp back: only the live orders' 2 + 1 + 3 + 1 units are held.
    expect(report.stock.unitsHeld).toBe(7);
    expect(report.stock.unitsReceived).toBe(before.stock.unitsReceived);
    expect(report.stock.unitsAvailable).toBe(before.stock.unitsAvailable - 7);
    expect(report.charges).toMatchObject({ total: 3, authorised: 0, captured: 3 });
    expect(report.charges.byCurrency).toEqual([{ currency: "USD", authorisedAmount: 0, capturedAmount: first.total + second.total + refunded.total, refundedAmount: 100 }]);
  });

  it("sees stock, orders and payments at one instant while orders are being placed", async () => {
    const placing = Array.from({ length: 12 }, () => placeOrder([{ sku: "BOTL-500", quantity: 1 }]));
    const reports = [];
    let isPlacing = true;
    const settled = Promise.allSettled(placing).finally(() => (isPlacing = false));
    while (isPlacing) reports.push(await admin.admin.invariants.query());
    const results = await settled;
    expect(results.every((r) => r.status === "fulfilled")).toBe(true);
    expect(reports.length).toBeGreaterThan(0);
    for (const report of reports) {
      expect(report.violations).toEqual([]);
      // Payments and orders are counted by separate queries: equal only if both saw the same instant.
      const { byStatus } = report.orders;
      expect(report.charges.authorised).toBe(byStatus.authorised ?? 0);
      expect(report.charges.captured).toBe((byStatus.captured ?? 0) + (byStatus.partially_refunded ?? 0));
    }
  });

  it("records who asked, from where and what it found", async () => {
    await admin.admin.invariants.query();
    const row = await t.database.db.selectFrom("audit_log").selectAll().where("action", "=", "admin.invariants_checked").orderBy("id", "desc").executeTakeFirstOrThrow();
    expect(row).toMatchObject({ entity: "admin", entity_id: "admin:alice", actor: "admin:alice", outcome: "success" });
    expect(row.data).toEqual({ passed: true, violations: { stock: 0, charges: 0 }, orderNumbersChecked: 0 });
    expect(row.origin).toMatchObject({ ip: "127.0.0.1" });
  });
});

describe("admin.invariants on a corrupted database", () => {
  it("names a second captured payment on an order as a duplicate charge", async () => {
    const order = await placeOrder([{ sku: "NOTE-A5", quantity: 1 }]);
    const payment = await capturedPaymentOf(order.id);
    const secondId = randomUUID();
    const report = await checkCorrupted(
      () =>
        t.database.db
          .insertInto("payment")
          .values({ ...payment, id: secondId, provider_reference: `auth_${randomUUID()}` })
          .execute(),
      () => t.database.db.deleteFrom("payment").where("id", "=", secondId).execute(),
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
    const order = await placeOrder([{ sku: "LAMP", quantity: 1 }]);
    const { stock_received: received, available } = await t.database.db
      .selectFrom("inventory")
      .select(["stock_received", "available"])
      .where("sku", "=", "LAMP")
      .executeTakeFirstOrThrow();
    const extra = received; // one on the order already + this many = one more than there ever was
    let lineId = "";
    const report = await checkCorrupted(
      async () => {
        const line = await t.database.db
          .insertInto("order_line")
          .values({ order_id: order.id, position: 1, sku: "LAMP", product_name: "Desk Lamp", variant_name: "Default", unit_price: 0, quantity: extra, line_total: 0, tax: 0 })
          .returning("id")
          .executeTakeFirstOrThrow();
        lineId = line.id;
      },
      () => t.database.db.deleteFrom("order_line").where("id", "=", lineId).execute(),
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

  it("names stock that appeared without being received, and stock released twice", async () => {
    const report = await checkCorrupted(
      () => sql`update inventory set available = available + 5 where sku = 'SUN'`.execute(t.database.db),
      () => sql`update inventory set available = available - 5 where sku = 'SUN'`.execute(t.database.db),
    );
    expect(report.violations).toMatchObject([{ kind: "stock_unbalanced", subject: "SUN" }]);
    expect(report.violations[0]!.detail).toMatch(/5 more than the 40 received$/);
  });

  it("accepts a restock that raises what was received with what is available", async () => {
    await sql`update inventory set available = available + 10, stock_received = stock_received + 10 where sku = 'SUN'`.execute(t.database.db);
    const report = await admin.admin.invariants.query();
    expect(report.passed).toBe(true);
  });

  it("names money taken for a failed order, a capture of the wrong amount and a captured order without its capture", async () => {
    const failed = await expectTrpcError(() => placeOrder([{ sku: "BEAN-WHOLE", quantity: 1 }], CARDS.declined));
    const failedOrderId = (failed.data as { details?: { orderId?: string } } | undefined)?.details?.orderId;
    expect(failedOrderId).toBeTypeOf("string");
    const failedOrder = await t.database.db.selectFrom("order").selectAll().where("id", "=", failedOrderId!).executeTakeFirstOrThrow();
    const wrongAmount = await placeOrder([{ sku: "BEAN-GROUND", quantity: 1 }]);
    const uncaptured = await placeOrder([{ sku: "NOTE-A6", quantity: 1 }]);
    const wrongPayment = await capturedPaymentOf(wrongAmount.id);
    const uncapturedPayment = await capturedPaymentOf(uncaptured.id);
    const strayId = randomUUID();

    const report = await checkCorrupted(
      async () => {
        await t.database.db
          .insertInto("payment")
          .values({
            id: strayId,
            order_id: failedOrder.id,
            provider: "sandbox",
            provider_reference: `auth_${randomUUID()}`,
            status: "captured",
            amount: failedOrder.total,
            currency: "USD",
            captured_amount: failedOrder.total,
          })
          .execute();
        await t.database.db
          .updateTable("payment")
          .set({ amount: wrongAmount.total - 1, captured_amount: wrongAmount.total - 1 })
          .where("id", "=", wrongPayment.id)
          .execute();
        await t.database.db.updateTable("payment").set({ status: "authorised", captured_amount: 0 }).where("id", "=", uncapturedPayment.id).execute();
      },
      async () => {
        await t.database.db.deleteFrom("payment").where("id", "=", strayId).execute();
        await t.database.db.updateTable("payment").set({ amount: wrongAmount.total, captured_amount: wrongAmount.total }).where("id", "=", wrongPayment.id).execute();
        await t.database.db.updateTable("payment").set({ status: "captured", captured_amount: uncaptured.total }).where("id", "=", uncapturedPayment.id).execute();
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
    const audit = await t.database.db
      .selectFrom("audit_log")
      .select("data")
      .where("action", "=", "admin.invariants_checked")
      .orderBy("id", "desc")
      .offset(1)
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(audit.data).toMatchObject({ passed: false, violations: { stock: 0, charges: 3 } });
  });
});

describe("admin.invariants with acknowledged order numbers", () => {
  it("confirms each acknowledged order exists once and names the ones that do not", async () => {
    const order = await placeOrder([{ sku: "TEE-WHI-S", quantity: 1 }]);
    const report = await admin.admin.invariants.query({ orderNumbers: [order.number, order.number, "999999999"] });
    expect(report.orderNumbersChecked).toBe(2);
    expect(report.checks[2]).toEqual({ invariant: "orders", passed: false, violations: 1, byKind: { order_missing: 1 } });
    expect(report.violations).toEqual([
      { invariant: "orders", kind: "order_missing", subject: "999999999", detail: "order 999999999 was acknowledged but is not in the database" },
    ]);
    expect((await admin.admin.invariants.query({ orderNumbers: [order.number] })).passed).toBe(true);
  });

  it("takes thousands of order numbers in a POST body, as the load tester sends them", async () => {
    const order = await placeOrder([{ sku: "TEE-WHI-S", quantity: 1 }]);
    const missing = Array.from({ length: 3999 }, (_, i) => String(900_000_001 + i));
    const response = await fetch(`${t.app.url}/trpc/admin.invariants`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ orderNumbers: [order.number, ...missing] }),
    });
    expect(response.status).toBe(200);
    const report = ((await response.json()) as { result: { data: { orderNumbersChecked: number; checks: { invariant: string; byKind: object }[] } } }).result.data;
    expect(report.orderNumbersChecked).toBe(4000);
    expect(report.checks.find((c) => c.invariant === "orders")?.byKind).toEqual({ order_missing: 3999 });
  });

  it("refuses malformed or too many order numbers with a typed 400", async () => {
    const malformed = await expectTrpcError(() => admin.admin.invariants.query({ orderNumbers: ["100001; drop table"] }));
    expect(malformed.data).toMatchObject({ httpStatus: 400, appCode: "BAD_INPUT" });
    const tooMany = await fetch(`${t.app.url}/trpc/admin.invariants`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ orderNumbers: Array.from({ length: 4001 }, (_, i) => String(100001 + i)) }),
    });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { error: { data: unknown } }).error.data).toMatchObject({ appCode: "BAD_INPUT" });
    const unknownKey = await fetch(`${t.app.url}/trpc/admin.invariants?input=${encodeURIComponent('{"orders":[]}')}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(unknownKey.status).toBe(400);
  });
});

describe("admin.invariants access", () => {
  it("answers 401 to anonymous callers, shoppers' clients and wrong tokens, and reveals nothing", async () => {
    for (const client of [adminClient(null), t.client, adminClient(`eve_${randomBytes(24).toString("hex")}`)]) {
      const error = await expectTrpcError(() => client.admin.invariants.query());
      expect(error.data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    }
    const raw = await fetch(`${t.app.url}/trpc/admin.invariants`);
    expect(raw.status).toBe(401);
    expect(await raw.text()).not.toContain("stock");
  });
});
