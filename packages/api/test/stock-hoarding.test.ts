// Stock hoarding, against real PostgreSQL and the real payment sandbox: the caps on units per order
// (per item, per order, share of a scarce SKU) and the ways around them, the short hold of an order
// waiting on 3-D Secure, and the hold-sweep job that gives expired holds back on time whatever the backlog.
// The sweep's own rules (HoldExpiry.releaseExpired: batches, time budget, several sweepers, what it leaves alone)
// are tested directly in packages/core/test/hold-expiry.test.ts.
import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Audit, HoldExpiry, OrderInvariants, Reconciler, type Database, type OrderStatus } from "@checkout/core";
import { startJob } from "../src/jobs/job-runner.ts";
import { createLogger } from "../src/logger.ts";
import { CARDS, expectTrpcError, readyCart, startTestApp, type TestApp } from "./support/app.ts";
import { placeOrder } from "./support/orders.ts";
import { setStock, stockLevelsOf } from "./support/stock.ts";
import { answerChallenge } from "./support/three-d-secure.ts";

const HOLD_MS = 7 * 60 * 1000;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ MAX_UNITS_PER_SKU: "8", MAX_UNITS_PER_ORDER: "20", MAX_STOCK_SHARE_PERCENT: "50", STOCK_HOLD_MS: String(HOLD_MS) });
});
afterAll(async () => {
  await t?.close();
});

async function refusal(fn: () => Promise<unknown>) {
  const error = await expectTrpcError(fn);
  return { status: error.data?.httpStatus, appCode: error.data?.appCode, message: error.message, details: (error.data as { details?: unknown }).details };
}

describe("units per order", () => {
  it("refuses more than MAX_UNITS_PER_SKU of one item, whether in one call, several calls or an update", async () => {
    const cart = await t.client.cart.create.mutate({ currency: "USD" });
    expect(await refusal(() => t.client.cart.addLine.mutate({ cartId: cart.id, sku: "TEE-BLA-S", quantity: 9 }))).toEqual({
      status: 422,
      appCode: "QUANTITY_LIMIT",
      message: "You can buy at most 8 of Everyday Tee (Black / S) per order",
      details: { sku: "TEE-BLA-S", requested: 9, maxAllowed: 8, limit: "per_item" },
    });
    const added = await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "TEE-BLA-S", quantity: 5 });
    // A second addLine of the same SKU raises the one line: it cannot open a second line past the cap.
    expect(await refusal(() => t.client.cart.addLine.mutate({ cartId: cart.id, sku: "TEE-BLA-S", quantity: 4 }))).toMatchObject({
      appCode: "QUANTITY_LIMIT",
      details: { requested: 9, maxAllowed: 8 },
    });
    const lineId = added.lines[0]!.id;
    expect(await refusal(() => t.client.cart.updateLine.mutate({ cartId: cart.id, lineId, quantity: 9 }))).toMatchObject({ appCode: "QUANTITY_LIMIT" });
    const after = await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "TEE-BLA-S", quantity: 3 });
    expect(after.lines).toMatchObject([{ sku: "TEE-BLA-S", quantity: 8 }]);
  });

  it("tells the shop the limits before they are hit: each variant's maxPerOrder, each cart line's maxQuantity", async () => {
    const tee = await t.client.catalog.get.query({ productId: "everyday-tee", currency: "USD" });
    const variant = tee.variants.find((candidate) => candidate.sku === "TEE-BLA-S")!;
    expect(variant.available).toBeGreaterThanOrEqual(16);
    // MAX_UNITS_PER_SKU of this app (8), not the default 10: the catalogue applies the shop's configuration.
    expect(variant.maxPerOrder).toBe(8);

    const cart = await t.client.cart.create.mutate({ currency: "USD" });
    await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "SOCK-S", quantity: 8 });
    const two = await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "SOCK-M", quantity: 8 });
    expect(two.lines.map((line) => [line.sku, line.maxQuantity])).toEqual([
      ["SOCK-S", 8],
      ["SOCK-M", 8],
    ]);
    // 16 of MAX_UNITS_PER_ORDER's 20 taken: a third line may hold 4, which is what the cart then says of it.
    const three = await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "SOCK-L", quantity: 1 });
    expect(three.lines.find((line) => line.sku === "SOCK-L")?.maxQuantity).toBe(4);
    expect((await t.client.cart.get.query({ cartId: cart.id })).lines.map((line) => line.maxQuantity)).toEqual([8, 8, 4]);
    // Asking for exactly what the cart offers is accepted; one more is refused.
    const lineId = three.lines.find((line) => line.sku === "SOCK-L")!.id;
    expect((await t.client.cart.updateLine.mutate({ cartId: cart.id, lineId, quantity: 4 })).itemCount).toBe(20);
    await setStock(t.database.db, "LAMP", 6);
    const lamp = await t.client.cart.addLine.mutate({ cartId: (await t.client.cart.create.mutate({ currency: "USD" })).id, sku: "LAMP", quantity: 1 });
    expect(lamp.lines[0]).toMatchObject({ available: 6, maxQuantity: 3 });
  });

  it("refuses more than MAX_UNITS_PER_ORDER spread over many items, saying how many more fit", async () => {
    const cart = await t.client.cart.create.mutate({ currency: "USD" });
    await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "SOCK-S", quantity: 8 });
    await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "SOCK-M", quantity: 8 });
    expect(await refusal(() => t.client.cart.addLine.mutate({ cartId: cart.id, sku: "SOCK-L", quantity: 5 }))).toMatchObject({
      status: 422,
      appCode: "QUANTITY_LIMIT",
      details: { sku: "SOCK-L", requested: 5, maxAllowed: 4, maxUnitsPerCart: 20, limit: "per_order" },
    });
    const full = await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "SOCK-L", quantity: 4 });
    expect(full.itemCount).toBe(20);
    // Raising one line through updateLine is judged against the rest of the cart too.
    expect(await refusal(() => t.client.cart.addLine.mutate({ cartId: cart.id, sku: "TOTE", quantity: 1 }))).toMatchObject({ details: { maxAllowed: 0 } });
    const lineOf = (sku: string) => full.lines.find((line) => line.sku === sku)!.id;
    await t.client.cart.updateLine.mutate({ cartId: cart.id, lineId: lineOf("SOCK-S"), quantity: 6 });
    expect(await refusal(() => t.client.cart.updateLine.mutate({ cartId: cart.id, lineId: lineOf("SOCK-L"), quantity: 7 }))).toMatchObject({
      appCode: "QUANTITY_LIMIT",
      details: { sku: "SOCK-L", requested: 7, maxAllowed: 6, limit: "per_order" },
    });
  });

  it("lets one order take at most half of a scarce SKU's available stock, never less than one unit", async () => {
    await setStock(t.database.db, "LAMP", 6);
    const cart = await t.client.cart.create.mutate({ currency: "USD" });
    expect(await refusal(() => t.client.cart.addLine.mutate({ cartId: cart.id, sku: "LAMP", quantity: 4 }))).toEqual({
      status: 422,
      appCode: "QUANTITY_LIMIT",
      message: "Only 6 of Desk Lamp (Default) are left, so one order can take at most 3",
      details: { sku: "LAMP", requested: 4, maxAllowed: 3, limit: "stock_share" },
    });
    expect((await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "LAMP", quantity: 3 })).itemCount).toBe(3);
    await setStock(t.database.db, "LAMP", 1);
    const last = await t.client.cart.create.mutate({ currency: "USD" });
    expect((await t.client.cart.addLine.mutate({ cartId: last.id, sku: "LAMP", quantity: 1 })).itemCount).toBe(1);
    // More than there is stays OUT_OF_STOCK, checked first.
    expect(await refusal(() => t.client.cart.addLine.mutate({ cartId: last.id, sku: "LAMP", quantity: 1 }))).toMatchObject({ appCode: "OUT_OF_STOCK" });
  });

  it("judges the stock share again where placeOrder takes the stock: of two carts filled at once, the second gets QUANTITY_LIMIT", async () => {
    await setStock(t.database.db, "SUN", 6);
    const carts = [await readyCart(t.client, [{ sku: "SUN", quantity: 3 }]), await readyCart(t.client, [{ sku: "SUN", quantity: 3 }])];
    const quotes = await Promise.all(carts.map((cartId) => t.client.checkout.quote.mutate({ cartId })));
    const tokens = await Promise.all(carts.map(() => t.tokenize(CARDS.success)));
    const results = await Promise.allSettled(carts.map((cartId, i) => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quotes[i]!.id, paymentToken: tokens[i]! })));
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const loser = results.find((result): result is PromiseRejectedResult => result.status === "rejected")!;
    expect((loser.reason as { data?: unknown }).data).toMatchObject({ appCode: "QUANTITY_LIMIT", details: { sku: "SUN", requested: 3, maxAllowed: 1 } });
    expect(await stockLevelsOf(t.database.db, "SUN")).toEqual({ available: 3, stock_received: 6 });
    const loserCart = carts[results.indexOf(loser)]!;
    expect(await t.database.db.selectFrom("order").select("id").where("cart_id", "=", loserCart).execute()).toEqual([]);
  });

  it("refuses at placeOrder a cart that holds more than the caps however it got there (a cart filled before the limits changed)", async () => {
    const cartId = await readyCart(t.client, [{ sku: "MUG-SAN", quantity: 8 }]);
    await t.database.db.updateTable("cart_line").set({ quantity: 12 }).where("cart_id", "=", cartId).execute();
    const quote = await t.client.checkout.quote.mutate({ cartId });
    const before = await stockLevelsOf(t.database.db, "MUG-SAN");
    expect(await refusal(async () => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) }))).toMatchObject({
      status: 422,
      appCode: "QUANTITY_LIMIT",
      details: { sku: "MUG-SAN", requested: 12, maxAllowed: 8 },
    });
    expect(await t.database.db.selectFrom("order").select("id").where("cart_id", "=", cartId).execute()).toEqual([]);
    expect(await stockLevelsOf(t.database.db, "MUG-SAN")).toEqual(before);
  });
});

/** Places an order with the 3-D Secure card: it waits on the challenge, holding its stock. */
async function placeThreeDSecureOrder(sku: string, quantity: number) {
  const { order } = await placeOrder(t, { lines: [{ sku, quantity }], card: CARDS.threeDSecure });
  const row = await t.database.db.selectFrom("order").selectAll().where("id", "=", order.id).executeTakeFirstOrThrow();
  return { order, row };
}

function paymentOf(orderId: string) {
  return t.database.db.selectFrom("payment").select(["status", "decline_code", "provider_reference", "next_action_url"]).where("order_id", "=", orderId).executeTakeFirstOrThrow();
}

async function reconcileActions(orderId: string) {
  return (await Audit.listForEntity(t.database.db, "order", orderId)).map((row) => row.action).filter((action) => action.startsWith("reconcile."));
}

describe("an order waiting on 3-D Secure", () => {
  it("holds its stock for STOCK_HOLD_MS, then the hold sweep gives it back and the reconciler voids the challenge", async () => {
    await setStock(t.database.db, "BEAN-RUS", 40);
    const { order, row } = await placeThreeDSecureOrder("BEAN-RUS", 2);
    expect(order.status).toBe("pending_payment");
    expect(row.reservation_expires_at!.getTime() - row.created_at.getTime()).toBeGreaterThan(HOLD_MS - 5000);
    expect(row.reservation_expires_at!.getTime() - row.created_at.getTime()).toBeLessThan(HOLD_MS + 5000);
    expect(await stockLevelsOf(t.database.db, "BEAN-RUS")).toEqual({ available: 38, stock_received: 40 });

    // Before the hold runs out the sweep leaves it alone.
    expect(await HoldExpiry.releaseExpired({ db: t.database.db, now: new Date(row.reservation_expires_at!.getTime() - 1000) })).toMatchObject({ released: 0 });
    const afterExpiry = new Date(row.reservation_expires_at!.getTime() + 1000);
    expect(await HoldExpiry.releaseExpired({ db: t.database.db, now: afterExpiry })).toEqual({ released: 1, units: 2, batches: 1, hasMore: false });
    expect(await HoldExpiry.releaseExpired({ db: t.database.db, now: afterExpiry })).toEqual({ released: 0, units: 0, batches: 0, hasMore: false });
    expect(await stockLevelsOf(t.database.db, "BEAN-RUS")).toEqual({ available: 40, stock_received: 40 });
    expect((await t.client.order.get.query({ orderId: order.id })).status).toBe("payment_failed");
    const payment = await paymentOf(order.id);
    expect(payment).toMatchObject({ status: "declined", decline_code: "hold_expired", next_action_url: null });

    // The provider part of the reconciler voids the challenge, so it can no longer succeed.
    const summary = await Reconciler.reconcile({ db: t.database.db, payments: t.app.services.payments, captureMode: "immediate", graceMs: 0 });
    expect(summary.orders).toEqual([{ orderId: order.id, number: order.number, outcome: "hold-authorization-closed" }]);
    expect(summary.voided).toBe(1);
    expect(await t.app.services.payments.findAuthorization({ reference: order.number })).toMatchObject({ status: "voided" });
    expect(await paymentOf(order.id)).toMatchObject({ status: "voided", decline_code: "hold_expired" });
    expect(await reconcileActions(order.id)).toEqual(["reconcile.hold_expired", "reconcile.hold_authorization_closed"]);
    expect((await Reconciler.reconcile({ db: t.database.db, payments: t.app.services.payments, captureMode: "immediate", graceMs: 0 })).examined).toBe(0);
  });

  it("voids a challenge the shopper completes after the hold ran out: no money stays held for a released order", async () => {
    await setStock(t.database.db, "BEAN-GRE", 40);
    const { order, row } = await placeThreeDSecureOrder("BEAN-GRE", 1);
    expect(await HoldExpiry.releaseExpired({ db: t.database.db, now: new Date(row.reservation_expires_at!.getTime() + 1000) })).toMatchObject({ released: 1 });
    expect(await answerChallenge(t, order.payment!.nextActionUrl!, "authenticated")).toMatchObject({ status: "authorized" });
    // The provider's webhook arrives: the order stays failed, nothing is captured.
    await vi.waitFor(async () => {
      const processed = await t.database.db
        .selectFrom("payment_webhook_event")
        .select("id")
        .where("processed_at", "is not", null)
        .where("type", "=", "authorization.succeeded")
        .execute();
      expect(processed.length).toBeGreaterThan(0);
    });
    expect((await t.client.order.get.query({ orderId: order.id })).status).toBe("payment_failed");

    await Reconciler.reconcile({ db: t.database.db, payments: t.app.services.payments, captureMode: "immediate", graceMs: 0 });
    expect(await t.app.services.payments.findAuthorization({ reference: order.number })).toMatchObject({ status: "voided", capturedAmount: 0 });
    expect(await paymentOf(order.id)).toMatchObject({ status: "voided" });
    expect(await stockLevelsOf(t.database.db, "BEAN-GRE")).toEqual({ available: 40, stock_received: 40 });
    const report = await OrderInvariants.check({ db: t.database.db, actor: "admin:test", origin: {} });
    expect(report.violations).toEqual([]);
  });
});

/**
 * Writes `count` pending orders waiting on 3-D Secure straight into the database, each holding
 * `quantity` units of `sku` (taken from its stock as placeOrder would), their holds expired at `expiresAt`.
 */
async function seedHolds(db: Kysely<Database>, input: { sku: string; count: number; quantity: number; expiresAt: Date; waitingOn3ds?: boolean; authorizingUntil?: Date }) {
  const { sku, count, quantity } = input;
  await sql`
    with carts as (
      insert into cart (id, currency, status) select gen_random_uuid(), 'USD', 'open' from generate_series(1, ${count}) returning id
    ), quotes as (
      insert into quote (id, cart_id, currency, subtotal, shipping, tax, total, snapshot, expires_at)
      select gen_random_uuid(), id, 'USD', ${2400 * quantity}::int8, 0, 0, ${2400 * quantity}::int8, '{}', now() from carts returning id, cart_id
    ), orders as (
      insert into "order" (id, cart_id, quote_id, status, email, shipping_address, shipping_option, currency, subtotal, shipping, tax, total,
        reservation_expires_at, authorizing_until)
      select gen_random_uuid(), cart_id, id, 'pending_payment', 'hoarder@example.com', '{}', '{}', 'USD', ${2400 * quantity}::int8, 0, 0, ${2400 * quantity}::int8,
        ${input.expiresAt}::timestamptz, ${input.authorizingUntil ?? null}::timestamptz
      from quotes returning id, total
    ), lines as (
      insert into order_line (order_id, position, sku, product_name, variant_name, unit_price, quantity, line_total, tax)
      select id, 0, ${sku}::text, 'Seeded', 'Hold', 2400, ${quantity}::int, total, 0 from orders
    ), payments as (
      insert into payment (id, order_id, provider, provider_reference, status, amount, currency, next_action_url)
      select gen_random_uuid(), id, 'sandbox', 'auth_seeded_' || id, 'requires_action', total, 'USD', 'https://sandbox.invalid/3ds' from orders
      where ${input.waitingOn3ds ?? true}::boolean
    )
    update inventory set available = available - ${count * quantity}::int where sku = ${sku}::text`.execute(db);
}

async function countOrders(db: Kysely<Database>, sku: string, status: OrderStatus): Promise<number> {
  const row = await db
    .selectFrom("order as o")
    .innerJoin("order_line as l", "l.order_id", "o.id")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("l.sku", "=", sku)
    .where("o.status", "=", status)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("the hold-sweep background job", () => {
  it("releases a backlog of expired holds by itself, every HOLD_SWEEP_INTERVAL_MS and at once while a run ends with work left", { timeout: 120_000 }, async () => {
    const jobs = await startTestApp({ JOBS: "on", HOLD_SWEEP_INTERVAL_MS: "500", RECONCILE_INTERVAL_MS: "3600000", RETENTION_INTERVAL_MS: "3600000" });
    try {
      const db = jobs.database.db;
      await setStock(db, "RAIN-OLI-M", 3000);
      await seedHolds(db, { sku: "RAIN-OLI-M", count: 1000, quantity: 2, expiresAt: new Date(Date.now() - 60_000) });
      await vi.waitFor(async () => expect(await stockLevelsOf(db, "RAIN-OLI-M")).toEqual({ available: 3000, stock_received: 3000 }), { timeout: 90_000, interval: 200 });
      expect(await countOrders(db, "RAIN-OLI-M", "payment_failed")).toBe(1000);
    } finally {
      await jobs.close();
    }
  });

  it("runs again at once, without waiting its interval, when a run reports work left", async () => {
    let runs = 0;
    const job = startJob({
      name: "test",
      intervalMs: 3_600_000,
      log: createLogger({ level: "silent" }),
      run: async () => ({ hasMore: ++runs < 3 }),
    });
    try {
      await vi.waitFor(() => expect(runs).toBe(3), { timeout: 10_000 });
    } finally {
      await job.stop();
    }
    expect(runs).toBe(3);
  });
});

describe("inventory stays whole", () => {
  it("after everything above, stock never went negative and never exceeded what was received", async () => {
    const report = await OrderInvariants.check({ db: t.database.db, actor: "admin:test", origin: {} });
    expect(report.checks.find((check) => check.invariant === "stock")).toMatchObject({ passed: true, violations: 0 });
  });
});
