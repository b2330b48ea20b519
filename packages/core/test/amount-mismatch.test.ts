// The provider's answer must be the order's total in the order's currency, on every path that settles an order:
// placeOrder's own authorise call, a webhook, the reconciler's lookup and the shopper's confirmPayment. Whichever
// hears another amount or currency, Payment.settle raises AMOUNT_MISMATCH, audits it, and nothing is captured.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Audit, Checkout, Order, ProviderEvents, Reconciler, type AppError } from "../src/index.ts";
import { createFakePaymentProvider, createTestDatabase, quotedCart, type FakePaymentProvider, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

/** Places an order whose authorisation the provider holds for `held` instead of the order's total; returns the order. */
async function placeWith(payments: FakePaymentProvider, answer: Parameters<FakePaymentProvider["willAuthorize"]>[0]) {
  const { cartId, quote } = await quotedCart(database.db);
  payments.willAuthorize(answer);
  const placing = Checkout.placeOrder({ db: database.db, payments, cartId, quoteId: quote.id, paymentToken: "tok_fake" });
  return { placing, quote, cartId };
}

async function orderOfCart(cartId: string) {
  return database.db.selectFrom("order").selectAll().where("cart_id", "=", cartId).executeTakeFirstOrThrow();
}

async function expectNothingCaptured(payments: FakePaymentProvider, orderId: string) {
  const order = await Order.get({ db: database.db, orderId });
  expect(order.status).toBe("pending_payment");
  expect(payments.callsTo("capture")).toEqual([]);
  const trail = await Audit.listForEntity(database.db, "order", orderId);
  expect(trail.filter((row) => row.action === "payment.amount_mismatch")).toHaveLength(1);
  expect(trail.map((row) => row.action)).not.toContain("order.authorised");
}

describe("Payment.settle refuses an authorisation that is not the order's total in its currency", () => {
  it("on placeOrder: another amount", async () => {
    const payments = createFakePaymentProvider();
    const { placing, quote, cartId } = await placeWith(payments, { status: "authorized", amount: 1 });
    await expect(placing).rejects.toMatchObject({ code: "AMOUNT_MISMATCH" } satisfies Partial<AppError>);
    const order = await orderOfCart(cartId);
    expect(quote.total).not.toBe(1);
    await expectNothingCaptured(payments, order.id);
  });

  it("on placeOrder: another currency", async () => {
    const payments = createFakePaymentProvider();
    const { placing, cartId } = await placeWith(payments, { status: "authorized", currency: "EUR" });
    await expect(placing).rejects.toMatchObject({ code: "AMOUNT_MISMATCH" });
    await expectNothingCaptured(payments, (await orderOfCart(cartId)).id);
  });

  it("on a webhook: the event is acknowledged as ignored, never retried, and nothing is captured", async () => {
    const payments = createFakePaymentProvider();
    const { placing, cartId } = await placeWith(payments, { status: "unavailable" });
    await expect(placing).rejects.toMatchObject({ code: "PAYMENT_UNAVAILABLE" });
    const order = await orderOfCart(cartId);
    for (const [index, wrong] of [
      { amount: order.total + 1, currency: "USD" },
      { amount: order.total, currency: "EUR" },
    ].entries()) {
      const event = {
        id: `evt_mismatch_${order.id}_${index}`,
        type: "authorization.succeeded",
        created: Math.floor(Date.now() / 1000),
        data: { authorization: { id: "auth_elsewhere", status: "authorized", reference: order.number, card: { brand: "visa", last4: "4242" }, ...wrong } },
      };
      const result = await ProviderEvents.receive({ db: database.db, payments, captureMode: "immediate", event });
      expect(result).toMatchObject({ isDuplicate: false, outcome: "ignored" });
    }
    const stored = await Order.get({ db: database.db, orderId: order.id });
    expect(stored.status).toBe("pending_payment");
    expect(payments.callsTo("capture")).toEqual([]);
    const trail = await Audit.listForEntity(database.db, "order", order.id);
    expect(trail.filter((row) => row.action === "payment.amount_mismatch")).toHaveLength(2);
  });

  it("on the reconciler: the order is skipped for a person, and nothing is captured", async () => {
    const payments = createFakePaymentProvider();
    const { placing, cartId } = await placeWith(payments, { status: "unavailable" });
    await expect(placing).rejects.toMatchObject({ code: "PAYMENT_UNAVAILABLE" });
    const order = await orderOfCart(cartId);
    payments.holdAuthorization({ reference: order.number, amount: order.total - 1, currency: "USD" });
    const later = new Date(Date.now() + 3_600_000);
    const summary = await Reconciler.reconcile({ db: database.db, payments, captureMode: "immediate", now: later });
    expect(summary.orders.find((row) => row.orderId === order.id)).toMatchObject({ outcome: "skipped", reason: expect.stringContaining("nothing was captured") });
    await expectNothingCaptured(payments, order.id);
  });

  it("on confirmPayment after 3-D Secure: the shopper gets AMOUNT_MISMATCH, and nothing is captured", async () => {
    const payments = createFakePaymentProvider();
    const { placing, cartId } = await placeWith(payments, { status: "requires_action" });
    expect((await placing).status).toBe("pending_payment");
    const order = await orderOfCart(cartId);
    // The shopper passes the challenge; the provider now says it authorised another currency.
    payments.setState(order.number, { status: "authorized", currency: "EUR" });
    await expect(Checkout.confirmPayment({ db: database.db, payments, orderId: order.id })).rejects.toMatchObject({ code: "AMOUNT_MISMATCH" });
    await expectNothingCaptured(payments, order.id);
  });

  it("and settles as usual when both match (the same fake, the same paths)", async () => {
    const payments = createFakePaymentProvider();
    const { placing } = await placeWith(payments, { status: "authorized" });
    const order = await placing;
    expect(order.status).toBe("captured");
    expect(payments.callsTo("capture")).toHaveLength(1);
  });
});
