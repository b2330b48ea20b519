// The reconciler against real PostgreSQL and the real payment sandbox: orders left half way by a
// provider timeout, a request lost before the provider, an abandoned 3-D Secure challenge, a
// capture that never happened, and a provider that cannot be reached. A second run changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Audit,
  Checkout,
  Inventory,
  Outbox,
  PaymentProviderUnavailableError,
  Reconciler,
  type PaymentProvider,
} from "@checkout/core";
import { SANDBOX_SECRET_KEY } from "../src/app.ts";
import { SandboxPaymentProvider } from "../src/payments/sandbox-payment-provider.ts";
import { CARDS, readyCart, startTestApp, type TestApp } from "./support/app.ts";
import { paymentsOf } from "./support/orders.ts";
import { waitUntil } from "./support/wait.ts";

const SLOW_CARD = "4000000000000259";
const THREE_D_SECURE_CARD = "4000002760003184";
const SKU = "TEE-BLA-M";

let t: TestApp;
let payments: PaymentProvider;

beforeAll(async () => {
  t = await startTestApp();
  payments = t.app.services.payments;
});

afterAll(async () => {
  await t?.close();
});

/** The real sandbox, except for how authorise behaves. */
function withAuthorize(authorize: PaymentProvider["authorize"]): PaymentProvider {
  return {
    name: payments.name,
    authorize,
    capture: (input) => payments.capture(input),
    void: (input) => payments.void(input),
    refund: (input) => payments.refund(input),
    findAuthorization: (input) => payments.findAuthorization(input),
  };
}

/** Places an order straight through the domain with the given provider; returns the order row, whatever happened. */
async function placeOrder(provider: PaymentProvider, card: string, captureMode: "immediate" | "on_fulfilment" = "immediate") {
  const cartId = await readyCart(t.client);
  const quote = await t.client.checkout.quote.mutate({ cartId });
  const error = await Checkout.placeOrder({
    db: t.app.services.db,
    payments: provider,
    captureMode,
    cartId,
    quoteId: quote.id,
    paymentToken: await t.tokenize(card),
  }).then(
    () => null,
    (caught: unknown) => caught,
  );
  const order = await t.app.services.db.selectFrom("order").selectAll().where("cart_id", "=", cartId).executeTakeFirstOrThrow();
  return { order, error };
}

function reconcile(overrides: Partial<Reconciler.ReconcileOptions> = {}) {
  return Reconciler.reconcile({ db: t.app.services.db, payments, captureMode: "immediate", graceMs: 0, ...overrides });
}

async function reconcileActions(orderId: string) {
  const trail = await Audit.listForEntity(t.app.services.db, "order", orderId);
  return trail.filter((row) => row.action.startsWith("reconcile.")).map((row) => ({ action: row.action, actor: row.actor }));
}

const counts = (summary: Reconciler.ReconcileSummary) => {
  const { orders: _orders, ...rest } = summary;
  return rest;
};

describe("Reconciler.reconcile", () => {
  it("confirms and captures an order whose authorisation timed out although the provider authorised it", async () => {
    const stockBefore = await Inventory.available(t.app.services.db, SKU);
    // The sandbox authorises the slow card at once but answers after 15 s; this client gives up after 300 ms.
    const impatient = new SandboxPaymentProvider({ baseUrl: t.app.paymentUrl, secretKey: SANDBOX_SECRET_KEY, timeoutMs: 300 });
    const { order, error } = await placeOrder(impatient, SLOW_CARD);
    expect(error).toMatchObject({ code: "PAYMENT_UNAVAILABLE" });
    expect(order.status).toBe("pending_payment");
    expect(await paymentsOf(t.app.services.db, order.id)).toEqual([]);

    // Within the grace period the reconciler leaves it alone: placeOrder may still be waiting.
    expect(counts(await reconcile({ graceMs: 60_000 }))).toMatchObject({ examined: 0 });

    const summary = await reconcile();
    expect(counts(summary)).toEqual({ examined: 1, confirmed: 1, captured: 1, released: 0, voided: 0, skipped: 0 });
    expect(summary.orders).toEqual([{ orderId: order.id, number: order.number, outcome: "captured-and-confirmed" }]);

    const after = await t.client.order.get.query({ orderId: order.id });
    expect(after.status).toBe("captured");
    const rows = await paymentsOf(t.app.services.db, order.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "captured", amount: order.total, captured_amount: order.total, card_last4: "0259" });
    const atProvider = await payments.findAuthorization({ reference: order.number });
    expect(atProvider).toMatchObject({ authorizationId: rows[0]!.provider_reference, status: "captured", capturedAmount: order.total });
    const events = await Outbox.listEventsOfAggregate(t.app.services.db, order.id);
    expect(events.map((event) => event.type)).toEqual(["order.placed", "order.captured"]);
    expect(await reconcileActions(order.id)).toEqual([{ action: "reconcile.captured_and_confirmed", actor: "reconciler" }]);
    expect(await Inventory.available(t.app.services.db, SKU)).toBe(stockBefore - 2);

    // A second run finds nothing to do and writes nothing.
    expect(counts(await reconcile())).toEqual({ examined: 0, confirmed: 0, captured: 0, released: 0, voided: 0, skipped: 0 });
    expect(await paymentsOf(t.app.services.db, order.id)).toHaveLength(1);
    expect(await reconcileActions(order.id)).toHaveLength(1);
    expect(await Inventory.available(t.app.services.db, SKU)).toBe(stockBefore - 2);
  });

  it("releases an order whose authorisation never reached the provider, giving its stock back", async () => {
    const stockBefore = await Inventory.available(t.app.services.db, SKU);
    const lost = withAuthorize(async () => {
      throw new PaymentProviderUnavailableError("connection reset before the request was sent");
    });
    const { order, error } = await placeOrder(lost, CARDS.success);
    expect(error).toMatchObject({ code: "PAYMENT_UNAVAILABLE" });
    expect(await Inventory.available(t.app.services.db, SKU)).toBe(stockBefore - 2);

    const summary = await reconcile();
    expect(counts(summary)).toEqual({ examined: 1, confirmed: 0, captured: 0, released: 1, voided: 0, skipped: 0 });
    const after = await t.client.order.get.query({ orderId: order.id });
    expect(after.status).toBe("payment_failed");
    expect(await paymentsOf(t.app.services.db, order.id)).toMatchObject([{ status: "declined", decline_code: "no_authorization" }]);
    expect(await Inventory.available(t.app.services.db, SKU)).toBe(stockBefore);
    expect(await payments.findAuthorization({ reference: order.number })).toBeNull();
    expect(await reconcileActions(order.id)).toEqual([{ action: "reconcile.released", actor: "reconciler" }]);

    expect(counts(await reconcile())).toMatchObject({ examined: 0 });
    expect(await Inventory.available(t.app.services.db, SKU)).toBe(stockBefore);
  });

  it("releases an order the provider declined when the decline never came back", async () => {
    const stockBefore = await Inventory.available(t.app.services.db, SKU);
    const answerLost = withAuthorize(async (input) => {
      await payments.authorize(input);
      throw new PaymentProviderUnavailableError("the answer was lost");
    });
    const { order } = await placeOrder(answerLost, CARDS.declined);
    expect(order.status).toBe("pending_payment");

    expect(counts(await reconcile())).toMatchObject({ examined: 1, released: 1 });
    expect((await t.client.order.get.query({ orderId: order.id })).status).toBe("payment_failed");
    expect(await Inventory.available(t.app.services.db, SKU)).toBe(stockBefore);
  });

  it("leaves a 3-D Secure order to the shopper until its reservation expires, then voids it and releases the stock", async () => {
    const stockBefore = await Inventory.available(t.app.services.db, SKU);
    const { order } = await placeOrder(payments, THREE_D_SECURE_CARD);
    expect(order.status).toBe("pending_payment");
    expect(await paymentsOf(t.app.services.db, order.id)).toMatchObject([{ status: "requires_action" }]);

    const early = await reconcile();
    expect(counts(early)).toMatchObject({ examined: 1, skipped: 1, voided: 0, released: 0 });
    expect(early.orders[0]?.reason).toMatch(/3-D Secure/);

    const afterExpiry = new Date(order.reservation_expires_at!.getTime() + 1000);
    const summary = await reconcile({ now: afterExpiry });
    expect(counts(summary)).toEqual({ examined: 1, confirmed: 0, captured: 0, released: 1, voided: 1, skipped: 0 });
    expect(summary.orders[0]?.outcome).toBe("voided-and-released");
    expect((await t.client.order.get.query({ orderId: order.id })).status).toBe("payment_failed");
    expect(await payments.findAuthorization({ reference: order.number })).toMatchObject({ status: "voided" });
    expect(await Inventory.available(t.app.services.db, SKU)).toBe(stockBefore);
    expect(await reconcileActions(order.id)).toEqual([{ action: "reconcile.voided_and_released", actor: "reconciler" }]);

    expect(counts(await reconcile({ now: afterExpiry }))).toMatchObject({ examined: 0 });
  });

  it("captures an authorised order left uncaptured in immediate capture mode", async () => {
    const { order } = await placeOrder(payments, CARDS.success, "on_fulfilment");
    expect(order.status).toBe("authorised");

    expect(counts(await reconcile({ captureMode: "on_fulfilment" }))).toMatchObject({ examined: 0 });
    const summary = await reconcile();
    expect(counts(summary)).toEqual({ examined: 1, confirmed: 0, captured: 1, released: 0, voided: 0, skipped: 0 });
    expect((await t.client.order.get.query({ orderId: order.id })).status).toBe("captured");
    expect(await payments.findAuthorization({ reference: order.number })).toMatchObject({ status: "captured" });
    expect(await reconcileActions(order.id)).toEqual([{ action: "reconcile.captured", actor: "reconciler" }]);
    expect(counts(await reconcile())).toMatchObject({ examined: 0 });
  });

  it("voids an authorisation that arrives after the reconciler released its order, and gives the stock back only once", async () => {
    const stockBefore = await Inventory.available(t.app.services.db, SKU);
    let letThrough!: () => void;
    const gate = new Promise<void>((resolve) => (letThrough = resolve));
    // The request is stuck on the way to the provider past the grace period, then gets there after all.
    const late = withAuthorize(async (input) => {
      await gate;
      return payments.authorize(input);
    });
    const cartId = await readyCart(t.client);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    const placing = Checkout.placeOrder({ db: t.app.services.db, payments: late, cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) }).then(
      () => null,
      (caught: unknown) => caught,
    );
    const order = await waitUntil("the order row", () => t.app.services.db.selectFrom("order").selectAll().where("cart_id", "=", cartId).executeTakeFirst());

    // While placeOrder holds the order's authorisation claim the reconciler keeps off; once the claim
    // has run out (a request stuck longer than the provider timeout allows) it steps in.
    expect(order.authorizing_until).not.toBeNull();
    expect(counts(await reconcile())).toMatchObject({ examined: 0 });
    expect(counts(await reconcile({ now: new Date(order.authorizing_until!.getTime() + 1) }))).toMatchObject({ examined: 1, released: 1 });
    expect(await Inventory.available(t.app.services.db, SKU)).toBe(stockBefore);
    letThrough();

    expect(await placing).toMatchObject({ code: "PAYMENT_UNAVAILABLE" });
    expect((await t.client.order.get.query({ orderId: order.id })).status).toBe("payment_failed");
    expect(await payments.findAuthorization({ reference: order.number })).toMatchObject({ status: "voided" });
    expect(await paymentsOf(t.app.services.db, order.id)).toMatchObject([{ status: "declined" }]);
    expect(await Inventory.available(t.app.services.db, SKU)).toBe(stockBefore);
    expect(await reconcileActions(order.id)).toEqual([{ action: "reconcile.released", actor: "reconciler" }]);
    // The late answer is settled where every answer is (Payment.settle), by the path that heard it: the shopper's request.
    const trail = await Audit.listForEntity(t.app.services.db, "order", order.id);
    expect(trail.filter((row) => row.action.startsWith("payment.late_")).map((row) => ({ action: row.action, actor: row.actor }))).toEqual([
      { action: "payment.late_authorization_voided", actor: "shopper" },
    ]);
  });

  it("leaves orders pending while the provider is unreachable, and settles them on a later run", async () => {
    const stockBefore = await Inventory.available(t.app.services.db, SKU);
    const lost = withAuthorize(async () => {
      throw new PaymentProviderUnavailableError("timed out");
    });
    const first = await placeOrder(lost, CARDS.success);
    const second = await placeOrder(lost, CARDS.success);
    let lookups = 0;
    const unreachable: PaymentProvider = {
      ...withAuthorize(lost.authorize),
      findAuthorization: async () => {
        lookups++;
        throw new PaymentProviderUnavailableError("connection refused");
      },
    };

    const down = await reconcile({ payments: unreachable });
    expect(counts(down)).toEqual({ examined: 2, confirmed: 0, captured: 0, released: 0, voided: 0, skipped: 2 });
    expect(down.orders.map((o) => o.reason)).toEqual(["payment provider unreachable", "payment provider unreachable"]);
    for (const { order } of [first, second]) expect((await t.client.order.get.query({ orderId: order.id })).status).toBe("pending_payment");
    expect(await Inventory.available(t.app.services.db, SKU)).toBe(stockBefore - 4);
    expect(lookups).toBe(2);

    expect(counts(await reconcile())).toMatchObject({ examined: 2, released: 2 });
    expect(await Inventory.available(t.app.services.db, SKU)).toBe(stockBefore);
  });
});
