// The reconciler against real PostgreSQL with the fake provider: orders left half way by a lost answer, a request
// that never reached the provider, an abandoned 3-D Secure challenge, a capture that never happened, a late
// authorisation, a provider that cannot be reached and one that holds another amount. A second run changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Audit, HoldExpiry, Inventory, Order, Outbox, OrderInvariants, Reconciler, type PaymentProvider } from "../src/index.ts";
import {
  checkout,
  createFakePaymentProvider,
  createTestDatabase,
  paymentsOf,
  placeOrder,
  quotedCart,
  setStock,
  type FakePaymentProvider,
  type TestDatabase,
} from "./support/index.ts";

const SKU = "TEE-BLA-M";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  await setStock(database.db, SKU, 1000);
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;

function reconcile(payments: PaymentProvider, overrides: Partial<Reconciler.ReconcileOptions> = {}) {
  return Reconciler.reconcile({ db: db(), payments, captureMode: "immediate", graceMs: 0, ...overrides });
}

async function reconcileActions(orderId: string) {
  const trail = await Audit.listForEntity(db(), "order", orderId);
  return trail.filter((row) => row.action.startsWith("reconcile.")).map((row) => ({ action: row.action, actor: row.actor }));
}

const counts = (summary: Reconciler.ReconcileSummary) => {
  const { orders: _orders, ...rest } = summary;
  return rest;
};
const NOTHING = { examined: 0, confirmed: 0, captured: 0, released: 0, voided: 0, skipped: 0 };

/** Places an order whose provider answered `answer`; the order is left as placeOrder left it. */
async function orderAfter(fake: FakePaymentProvider, answer: Parameters<FakePaymentProvider["willAuthorize"]>[0], captureMode?: "immediate" | "on_fulfilment") {
  fake.willAuthorize(answer);
  const result = await checkout(db(), fake, { captureMode });
  return { order: result.row!, error: result.error };
}

describe("Reconciler.reconcile", () => {
  it("confirms and captures an order whose authorisation answer was lost although the provider authorised it", async () => {
    const fake = createFakePaymentProvider();
    const stockBefore = await Inventory.available(db(), SKU);
    const { order, error } = await orderAfter(fake, { status: "authorized", answerLost: true });
    expect(error).toMatchObject({ code: "PAYMENT_UNAVAILABLE" });
    expect(order.status).toBe("pending_payment");
    expect(await paymentsOf(db(), order.id)).toEqual([]);

    // Within the grace period the reconciler leaves it alone: placeOrder may still be waiting.
    expect(counts(await reconcile(fake, { graceMs: 60_000 }))).toMatchObject({ examined: 0 });

    const summary = await reconcile(fake);
    expect(counts(summary)).toEqual({ ...NOTHING, examined: 1, confirmed: 1, captured: 1 });
    expect(summary.orders).toEqual([{ orderId: order.id, number: order.number, outcome: "captured-and-confirmed" }]);
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("captured");
    const rows = await paymentsOf(db(), order.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "captured", amount: order.total, captured_amount: order.total, card_last4: "4242" });
    expect(fake.authorizationOf(order.number)).toMatchObject({ authorizationId: rows[0]!.provider_reference, status: "captured", capturedAmount: order.total });
    expect((await Outbox.listEventsOfAggregate(db(), order.id)).map((event) => event.type)).toEqual(["order.placed", "order.captured"]);
    expect(await reconcileActions(order.id)).toEqual([{ action: "reconcile.captured_and_confirmed", actor: "reconciler" }]);
    expect(await Inventory.available(db(), SKU)).toBe(stockBefore - 2);

    // A second run finds nothing to do and writes nothing.
    expect(counts(await reconcile(fake))).toEqual(NOTHING);
    expect(await paymentsOf(db(), order.id)).toHaveLength(1);
    expect(await reconcileActions(order.id)).toHaveLength(1);
    expect(fake.callsTo("capture")).toHaveLength(1);
  });

  it("releases an order whose authorisation never reached the provider, giving its stock back", async () => {
    const fake = createFakePaymentProvider();
    const stockBefore = await Inventory.available(db(), SKU);
    const { order, error } = await orderAfter(fake, { status: "unavailable" });
    expect(error).toMatchObject({ code: "PAYMENT_UNAVAILABLE" });
    expect(await Inventory.available(db(), SKU)).toBe(stockBefore - 2);

    expect(counts(await reconcile(fake))).toEqual({ ...NOTHING, examined: 1, released: 1 });
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("payment_failed");
    expect(await paymentsOf(db(), order.id)).toMatchObject([{ status: "declined", decline_code: "no_authorization" }]);
    expect(await Inventory.available(db(), SKU)).toBe(stockBefore);
    expect(fake.authorizationOf(order.number)).toBeNull();
    expect(await reconcileActions(order.id)).toEqual([{ action: "reconcile.released", actor: "reconciler" }]);

    expect(counts(await reconcile(fake))).toMatchObject({ examined: 0 });
    expect(await Inventory.available(db(), SKU)).toBe(stockBefore);
  });

  it("releases an order the provider declined when the decline never came back", async () => {
    const fake = createFakePaymentProvider();
    const stockBefore = await Inventory.available(db(), SKU);
    const { order } = await orderAfter(fake, { status: "declined", code: "card_declined", answerLost: true });
    expect(order.status).toBe("pending_payment");
    expect(counts(await reconcile(fake))).toMatchObject({ examined: 1, released: 1 });
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("payment_failed");
    expect(await paymentsOf(db(), order.id)).toMatchObject([{ status: "declined", decline_code: "card_declined" }]);
    expect(await Inventory.available(db(), SKU)).toBe(stockBefore);
  });

  it("leaves a 3-D Secure order to the shopper until its reservation expires, then voids it and releases the stock", async () => {
    const fake = createFakePaymentProvider();
    const stockBefore = await Inventory.available(db(), SKU);
    const { order } = await orderAfter(fake, { status: "requires_action" });
    expect(order.status).toBe("pending_payment");
    expect(await paymentsOf(db(), order.id)).toMatchObject([{ status: "requires_action" }]);

    const early = await reconcile(fake);
    expect(counts(early)).toMatchObject({ examined: 1, skipped: 1, voided: 0, released: 0 });
    expect(early.orders[0]?.reason).toMatch(/3-D Secure/);

    const afterExpiry = new Date(order.reservation_expires_at!.getTime() + 1000);
    const summary = await reconcile(fake, { now: afterExpiry });
    expect(counts(summary)).toEqual({ ...NOTHING, examined: 1, released: 1, voided: 1 });
    expect(summary.orders[0]?.outcome).toBe("voided-and-released");
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("payment_failed");
    expect(fake.authorizationOf(order.number)).toMatchObject({ status: "voided" });
    expect(await Inventory.available(db(), SKU)).toBe(stockBefore);
    expect(await reconcileActions(order.id)).toEqual([{ action: "reconcile.voided_and_released", actor: "reconciler" }]);
    expect(counts(await reconcile(fake, { now: afterExpiry }))).toMatchObject({ examined: 0 });
  });

  it("captures an authorised order left uncaptured in immediate capture mode", async () => {
    const fake = createFakePaymentProvider();
    const { order } = await orderAfter(fake, { status: "authorized" }, "on_fulfilment");
    expect(order.status).toBe("authorised");

    expect(counts(await reconcile(fake, { captureMode: "on_fulfilment" }))).toMatchObject({ examined: 0 });
    expect(counts(await reconcile(fake))).toEqual({ ...NOTHING, examined: 1, captured: 1 });
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("captured");
    expect(fake.authorizationOf(order.number)).toMatchObject({ status: "captured" });
    expect(await reconcileActions(order.id)).toEqual([{ action: "reconcile.captured", actor: "reconciler" }]);
    expect(counts(await reconcile(fake))).toMatchObject({ examined: 0 });
  });

  it("leaves an authorised order authorised while its capture cannot reach the provider, and captures it on a later run", async () => {
    const fake = createFakePaymentProvider();
    const { order } = await orderAfter(fake, { status: "authorized" }, "on_fulfilment");
    fake.failNext("capture");
    const down = await reconcile(fake);
    expect(counts(down)).toMatchObject({ examined: 1, captured: 0, skipped: 1 });
    expect(down.orders[0]?.reason).toBe("payment provider unreachable");
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("authorised");
    expect(counts(await reconcile(fake))).toMatchObject({ examined: 1, captured: 1 });
    expect(fake.authorizationOf(order.number)).toMatchObject({ status: "captured", capturedAmount: order.total });
  });

  it("voids an authorisation that arrives after the reconciler released its order, and gives the stock back only once", async () => {
    const fake = createFakePaymentProvider();
    const stockBefore = await Inventory.available(db(), SKU);
    let letThrough!: () => void;
    const gate = new Promise<void>((resolve) => (letThrough = resolve));
    // The request is stuck on the way to the provider past the grace period, then gets there after all.
    const late: PaymentProvider = {
      ...fake,
      authorize: async (input) => {
        await gate;
        return fake.authorize(input);
      },
    };
    const { cartId, quote } = await quotedCart(db());
    const placing = placeOrder(db(), late, { cartId, quoteId: quote.id });
    let order = await db().selectFrom("order").selectAll().where("cart_id", "=", cartId).executeTakeFirst();
    while (!order) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      order = await db().selectFrom("order").selectAll().where("cart_id", "=", cartId).executeTakeFirst();
    }

    // While placeOrder holds the order's authorisation claim the reconciler keeps off; once the claim has run out
    // (a request stuck longer than the provider timeout allows) it steps in.
    expect(order.authorizing_until).not.toBeNull();
    expect(counts(await reconcile(fake))).toMatchObject({ examined: 0 });
    expect(counts(await reconcile(fake, { now: new Date(order.authorizing_until!.getTime() + 1) }))).toMatchObject({ examined: 1, released: 1 });
    expect(await Inventory.available(db(), SKU)).toBe(stockBefore);
    letThrough();

    expect((await placing).error).toMatchObject({ code: "PAYMENT_UNAVAILABLE" });
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("payment_failed");
    expect(fake.authorizationOf(order.number)).toMatchObject({ status: "voided" });
    expect(await paymentsOf(db(), order.id)).toMatchObject([{ status: "declined" }]);
    expect(await Inventory.available(db(), SKU)).toBe(stockBefore);
    expect(await reconcileActions(order.id)).toEqual([{ action: "reconcile.released", actor: "reconciler" }]);
    // The late answer is settled by the path that heard it: the shopper's request voided it.
    const trail = await Audit.listForEntity(db(), "order", order.id);
    expect(trail.filter((row) => row.action.startsWith("payment.late_")).map((row) => ({ action: row.action, actor: row.actor }))).toEqual([
      { action: "payment.late_authorization_voided", actor: "shopper" },
    ]);
  });

  it("leaves orders pending while the provider is unreachable, and settles them on a later run", async () => {
    const fake = createFakePaymentProvider();
    const stockBefore = await Inventory.available(db(), SKU);
    const first = await orderAfter(fake, { status: "unavailable" });
    const second = await orderAfter(fake, { status: "unavailable" });

    fake.isDown = true;
    const down = await reconcile(fake);
    fake.isDown = false;
    expect(counts(down)).toEqual({ ...NOTHING, examined: 2, skipped: 2 });
    expect(down.orders.map((o) => o.reason)).toEqual(["payment provider unreachable", "payment provider unreachable"]);
    for (const { order } of [first, second]) expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("pending_payment");
    expect(await Inventory.available(db(), SKU)).toBe(stockBefore - 4);
    expect(fake.callsTo("findAuthorization")).toHaveLength(2);

    expect(counts(await reconcile(fake))).toMatchObject({ examined: 2, released: 2 });
    expect(await Inventory.available(db(), SKU)).toBe(stockBefore);
  });

  it("stops asking a provider that is down after three unreachable answers in a row", async () => {
    const fake = createFakePaymentProvider();
    const orders = [];
    for (let i = 0; i < 5; i++) orders.push((await orderAfter(fake, { status: "unavailable" })).order);
    fake.isDown = true;
    const down = await reconcile(fake);
    fake.isDown = false;
    expect(counts(down)).toMatchObject({ examined: 5, skipped: 5 });
    expect(fake.callsTo("findAuthorization")).toHaveLength(3);
    expect(counts(await reconcile(fake))).toMatchObject({ examined: 5, released: 5 });
  });

  it("leaves for a person an order the provider authorised for another amount: nothing captured, the mismatch audited", async () => {
    const fake = createFakePaymentProvider();
    const { order } = await orderAfter(fake, { status: "authorized", amount: 1, answerLost: true });
    const summary = await reconcile(fake);
    expect(counts(summary)).toMatchObject({ examined: 1, skipped: 1, confirmed: 0, captured: 0 });
    expect(summary.orders[0]?.reason).toMatch(/authorised 1 USD/);
    expect(fake.callsTo("capture")).toEqual([]);
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("pending_payment");
    expect((await Audit.listForEntity(db(), "order", order.id)).map((row) => row.action)).toContain("payment.amount_mismatch");
  });
});

describe("an order whose hold the sweep released", () => {
  it("has its open 3-D Secure authorisation voided by the reconciler, once", async () => {
    const fake = createFakePaymentProvider();
    await setStock(db(), "BEAN-RUS", 40);
    fake.willAuthorize({ status: "requires_action" });
    const { row: order } = await checkout(db(), fake, { lines: [{ sku: "BEAN-RUS", quantity: 2 }] });
    const afterExpiry = new Date(order!.reservation_expires_at!.getTime() + 1000);
    expect(await HoldExpiry.releaseExpired({ db: db(), now: afterExpiry })).toEqual({ released: 1, units: 2, batches: 1, hasMore: false });
    expect(await paymentsOf(db(), order!.id)).toMatchObject([{ status: "declined", decline_code: "hold_expired", next_action_url: null }]);

    const summary = await reconcile(fake);
    // (Orders earlier tests left for a person are released here too: this provider never heard of them.)
    expect(summary.orders.filter((entry) => entry.orderId === order!.id)).toEqual([{ orderId: order!.id, number: order!.number, outcome: "hold-authorization-closed" }]);
    expect(summary.voided).toBe(1);
    expect(fake.authorizationOf(order!.number)).toMatchObject({ status: "voided" });
    expect(await paymentsOf(db(), order!.id)).toMatchObject([{ status: "voided", decline_code: "hold_expired" }]);
    expect(await reconcileActions(order!.id)).toEqual(["reconcile.hold_expired", "reconcile.hold_authorization_closed"].map((action) => ({ action, actor: "reconciler" })));
    expect(counts(await reconcile(fake))).toMatchObject({ examined: 0 });
    expect(await db().selectFrom("inventory").select(["available", "stock_received"]).where("sku", "=", "BEAN-RUS").executeTakeFirstOrThrow()).toEqual({
      available: 40,
      stock_received: 40,
    });
  });

  it("voids a challenge the shopper completed after the hold ran out: no money stays held for a released order", async () => {
    const fake = createFakePaymentProvider();
    await setStock(db(), "BEAN-GRE", 40);
    fake.willAuthorize({ status: "requires_action" });
    const { row: order } = await checkout(db(), fake, { lines: [{ sku: "BEAN-GRE", quantity: 1 }] });
    await HoldExpiry.releaseExpired({ db: db(), now: new Date(order!.reservation_expires_at!.getTime() + 1000) });
    fake.setState(order!.number, { status: "authorized" });

    await reconcile(fake);
    expect(fake.authorizationOf(order!.number)).toMatchObject({ status: "voided", capturedAmount: 0 });
    expect(await paymentsOf(db(), order!.id)).toMatchObject([{ status: "voided" }]);
    expect((await Order.get({ db: db(), orderId: order!.id })).status).toBe("payment_failed");
    const report = await OrderInvariants.check({ db: db(), actor: "admin:test", origin: {} });
    expect(report.violations).toEqual([]);
  });
});
