// Checkout.placeOrder against real PostgreSQL with a fake payment provider: every answer the provider can give
// (authorised, declined, unreachable, token rejected, 3-D Secure, another amount or currency) leaves the order, its
// payment, its stock and its trail consistent; a changed price or an expired quote refuses before anything is held.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, Cart, Checkout, Inventory, Order, Outbox, Payment } from "../src/index.ts";
import {
  actionsOf,
  checkout,
  createFakePaymentProvider,
  createTestDatabase,
  newToken,
  paymentsOf,
  placeOrder,
  quotedCart,
  stockOf,
  US_ADDRESS,
  type TestDatabase,
} from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;

function appError(error: unknown): AppError {
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("an authorised payment", () => {
  it("captures exactly the quoted total, reserves the stock, completes the cart and leaves the whole trail", async () => {
    const fake = createFakePaymentProvider();
    const before = await stockOf(db(), "TEE-BLA-M");
    const { placed, row, cartId, total } = await checkout(db(), fake, { lines: [{ sku: "TEE-BLA-M", quantity: 2 }] });
    expect(placed).toMatchObject({ status: "captured", total, shippingAddress: US_ADDRESS });
    expect(placed!.number).toMatch(/^\d{6,}$/);
    expect(placed!.payment).toMatchObject({ status: "captured", amount: total, cardBrand: "visa", cardLast4: "4242" });
    expect(await Order.get({ db: db(), orderId: row!.id })).toEqual(placed);
    expect(await stockOf(db(), "TEE-BLA-M")).toBe(before - 2);

    // The provider was asked once for the order's total, under the key derived from the order, and captured once.
    expect(fake.callsTo("authorize").map((call) => call.input)).toEqual([
      { token: expect.any(String), amount: total, currency: "USD", idempotencyKey: Payment.providerKeys.authorize(row!.id), reference: row!.number },
    ]);
    expect(fake.callsTo("capture")).toMatchObject([{ input: { amount: total, idempotencyKey: Payment.providerKeys.capture(row!.id) } }]);
    expect(fake.authorizationOf(row!.number)).toMatchObject({ status: "captured", capturedAmount: total });
    expect(await paymentsOf(db(), row!.id)).toMatchObject([{ status: "captured", amount: total, captured_amount: total, currency: "USD" }]);

    expect(await actionsOf(db(), "order", row!.id)).toEqual(["order.created", "order.authorised", "order.captured"]);
    const payment = (await paymentsOf(db(), row!.id))[0]!;
    expect(await actionsOf(db(), "payment", payment.id)).toEqual(["payment.authorised", "payment.captured"]);
    const created = await db().selectFrom("audit_log").select(["actor"]).where("action", "=", "order.created").where("entity_id", "=", row!.id).executeTakeFirstOrThrow();
    expect(created.actor).toBe("shopper");
    expect((await Outbox.listEventsOfAggregate(db(), row!.id)).map((event) => event.type).sort()).toEqual(["order.captured", "order.placed"]);

    expect((await Cart.get({ db: db(), cartId })).status).toBe("completed");
    expect(appError(await Cart.addLine({ db: db(), cartId, sku: "MUG-SLA", quantity: 1 }).catch((e: unknown) => e)).code).toBe("CART_CLOSED");
    const again = await placeOrder(db(), fake, { cartId, quoteId: row!.quote_id });
    expect(appError(again.error).code).toBe("ALREADY_ORDERED");
    expect(fake.callsTo("authorize")).toHaveLength(1);
  });

  it("leaves the order authorised, uncaptured, when capture waits for fulfilment", async () => {
    const fake = createFakePaymentProvider();
    const { placed, row } = await checkout(db(), fake, { captureMode: "on_fulfilment" });
    expect(placed).toMatchObject({ status: "authorised", payment: { status: "authorised" } });
    expect(fake.callsTo("capture")).toEqual([]);
    expect(fake.authorizationOf(row!.number)).toMatchObject({ status: "authorized", capturedAmount: 0 });
  });
});

describe("a declined payment", () => {
  it("fails the order, gives the stock back, keeps the cart open, and lets another card pay", async () => {
    const fake = createFakePaymentProvider();
    const before = await stockOf(db(), "HOOD-CHA-M");
    const { cartId, quote } = await quotedCart(db(), { lines: [{ sku: "HOOD-CHA-M", quantity: 1 }] });

    fake.willAuthorize({ status: "declined", code: "card_declined", message: "Your card was declined." });
    const declined = await placeOrder(db(), fake, { cartId, quoteId: quote.id });
    expect(appError(declined.error)).toMatchObject({ code: "PAYMENT_DECLINED", message: "Your card was declined." });
    expect(declined.row).toMatchObject({ status: "payment_failed" });
    expect(await paymentsOf(db(), declined.row!.id)).toMatchObject([{ status: "declined", decline_code: "card_declined" }]);
    expect(await stockOf(db(), "HOOD-CHA-M")).toBe(before);

    fake.willAuthorize({ status: "declined", code: "insufficient_funds", message: "Your card has insufficient funds." });
    const poor = await placeOrder(db(), fake, { cartId, quoteId: quote.id });
    expect(appError(poor.error).code).toBe("PAYMENT_DECLINED");
    expect(await stockOf(db(), "HOOD-CHA-M")).toBe(before);

    const cart = await Cart.get({ db: db(), cartId });
    expect(cart).toMatchObject({ status: "open", lines: [{ sku: "HOOD-CHA-M", quantity: 1 }] });

    const paid = await placeOrder(db(), fake, { cartId, quoteId: quote.id });
    expect(paid.placed).toMatchObject({ status: "captured" });
    expect(await stockOf(db(), "HOOD-CHA-M")).toBe(before - 1);
    const failed = await db().selectFrom("order").select("status").where("cart_id", "=", cartId).where("status", "=", "payment_failed").execute();
    expect(failed).toHaveLength(2);
    expect(await actionsOf(db(), "order", declined.row!.id)).toEqual(["order.created", "order.payment_failed"]);
    expect(fake.callsTo("capture")).toHaveLength(1);
  });

  it("treats a token the provider rejects like a decline: PAYMENT_TOKEN_INVALID, the stock back", async () => {
    const fake = createFakePaymentProvider();
    const before = await stockOf(db(), "MUG-SLA");
    fake.willAuthorize({ status: "token_rejected" });
    const { error, row } = await checkout(db(), fake, { lines: [{ sku: "MUG-SLA", quantity: 1 }] });
    expect(appError(error).code).toBe("PAYMENT_TOKEN_INVALID");
    expect(row).toMatchObject({ status: "payment_failed" });
    expect(await paymentsOf(db(), row!.id)).toMatchObject([{ status: "declined", decline_code: "token_rejected" }]);
    expect(await stockOf(db(), "MUG-SLA")).toBe(before);
  });
});

describe("a provider that cannot be reached", () => {
  it("leaves the order pending with its stock held; the same attempt again resumes it under the same provider key", async () => {
    const fake = createFakePaymentProvider();
    const before = await stockOf(db(), "TOTE");
    const { cartId, quote } = await quotedCart(db(), { lines: [{ sku: "TOTE", quantity: 1 }] });
    const paymentToken = newToken();
    fake.willAuthorize({ status: "unavailable" });
    const first = await placeOrder(db(), fake, { cartId, quoteId: quote.id, paymentToken });
    expect(appError(first.error)).toMatchObject({ code: "PAYMENT_UNAVAILABLE", details: { orderId: first.row!.id } });
    expect(first.row).toMatchObject({ status: "pending_payment" });
    expect(await paymentsOf(db(), first.row!.id)).toEqual([]);
    expect(await stockOf(db(), "TOTE")).toBe(before - 1);

    const retry = await placeOrder(db(), fake, { cartId, quoteId: quote.id, paymentToken });
    expect(retry.placed).toMatchObject({ id: first.row!.id, status: "captured" });
    const keys = fake.callsTo("authorize").map((call) => call.input.idempotencyKey);
    expect(keys).toEqual([Payment.providerKeys.authorize(first.row!.id), Payment.providerKeys.authorize(first.row!.id)]);
    expect(await db().selectFrom("order").select("id").where("cart_id", "=", cartId).execute()).toHaveLength(1);
    expect(await stockOf(db(), "TOTE")).toBe(before - 1);
    expect(await actionsOf(db(), "order", first.row!.id)).toContain("order.payment_resumed");
  });

  it("gets the authorisation the provider made when its answer was lost, by asking again with the same key", async () => {
    const fake = createFakePaymentProvider();
    const { cartId, quote } = await quotedCart(db(), { lines: [{ sku: "TOTE", quantity: 1 }] });
    const paymentToken = newToken();
    fake.willAuthorize({ status: "authorized", answerLost: true });
    const first = await placeOrder(db(), fake, { cartId, quoteId: quote.id, paymentToken });
    expect(appError(first.error).code).toBe("PAYMENT_UNAVAILABLE");
    const retry = await placeOrder(db(), fake, { cartId, quoteId: quote.id, paymentToken });
    expect(retry.placed).toMatchObject({ id: first.row!.id, status: "captured" });
    // One authorisation at the provider, captured once: the retry did not charge twice.
    expect(fake.authorizationOf(first.row!.number)).toMatchObject({ status: "captured", capturedAmount: first.row!.total });
    expect(fake.callsTo("capture")).toHaveLength(1);
  });

  it("refuses another attempt on the cart while the first waits on the provider", async () => {
    const fake = createFakePaymentProvider();
    const { cartId, quote } = await quotedCart(db(), { lines: [{ sku: "TOTE", quantity: 1 }] });
    fake.willAuthorize({ status: "unavailable" });
    const first = await placeOrder(db(), fake, { cartId, quoteId: quote.id });
    expect(first.row).toMatchObject({ status: "pending_payment" });
    // A different token is a different attempt: it may not start a second order for the cart.
    const other = await placeOrder(db(), fake, { cartId, quoteId: quote.id });
    expect(appError(other.error).code).toBe("CHECKOUT_IN_PROGRESS");
    expect(await db().selectFrom("order").select("id").where("cart_id", "=", cartId).execute()).toHaveLength(1);
  });
});

describe("3-D Secure", () => {
  it("leaves the order pending with the challenge and its stock held; confirmPayment captures it once the shopper passed", async () => {
    const fake = createFakePaymentProvider();
    const before = await stockOf(db(), "TEE-BLA-M");
    fake.willAuthorize({ status: "requires_action" });
    const { placed, row, cartId, total } = await checkout(db(), fake);
    expect(placed).toMatchObject({ status: "pending_payment", payment: { status: "requires_action", amount: total, declineCode: null } });
    expect(placed!.payment!.nextActionUrl).toMatch(/^https:\/\/fake-provider\.test\/3ds\/auth_/);
    expect(await stockOf(db(), "TEE-BLA-M")).toBe(before - 2);
    const payment = (await paymentsOf(db(), row!.id))[0]!;
    expect(await actionsOf(db(), "payment", payment.id)).toEqual(["payment.requires_action"]);
    expect(await actionsOf(db(), "order", row!.id)).toEqual(["order.created"]);

    // Still waiting: confirmPayment changes nothing.
    const early = await Checkout.confirmPayment({ db: db(), payments: fake, orderId: row!.id });
    expect(early).toMatchObject({ status: "pending_payment", payment: { status: "requires_action" } });

    fake.setState(row!.number, { status: "authorized" });
    const confirmed = await Checkout.confirmPayment({ db: db(), payments: fake, orderId: row!.id });
    expect(confirmed).toMatchObject({ status: "captured", payment: { status: "captured", nextActionUrl: null, amount: total } });
    expect(fake.callsTo("capture")).toHaveLength(1);
    const trail = await actionsOf(db(), "order", row!.id);
    expect(trail).toEqual(["order.created", "order.authorised", "order.captured"]);
    expect(await Checkout.confirmPayment({ db: db(), payments: fake, orderId: row!.id })).toEqual(confirmed);
    expect(await actionsOf(db(), "order", row!.id)).toEqual(trail);
    expect(fake.callsTo("capture")).toHaveLength(1);
    expect((await Cart.get({ db: db(), cartId })).status).toBe("completed");
  });

  it("fails the order and gives the stock back when the shopper fails the challenge", async () => {
    const fake = createFakePaymentProvider();
    const before = await stockOf(db(), "TEE-BLA-M");
    fake.willAuthorize({ status: "requires_action" });
    const { row } = await checkout(db(), fake);
    fake.setState(row!.number, { status: "failed", failureCode: "authentication_failed" });
    const failed = await Checkout.confirmPayment({ db: db(), payments: fake, orderId: row!.id });
    expect(failed).toMatchObject({ status: "payment_failed", payment: { status: "declined", declineCode: "authentication_failed" } });
    expect(await stockOf(db(), "TEE-BLA-M")).toBe(before);
    expect(fake.callsTo("capture")).toEqual([]);
  });

  it("answers PAYMENT_UNAVAILABLE from confirmPayment while the provider cannot be reached, changing nothing", async () => {
    const fake = createFakePaymentProvider();
    fake.willAuthorize({ status: "requires_action" });
    const { row } = await checkout(db(), fake);
    fake.isDown = true;
    const error = await Checkout.confirmPayment({ db: db(), payments: fake, orderId: row!.id }).catch((e: unknown) => e);
    expect(appError(error).code).toBe("PAYMENT_UNAVAILABLE");
    expect((await Order.get({ db: db(), orderId: row!.id })).status).toBe("pending_payment");
  });
});

describe("a provider that authorises something else than the order", () => {
  it.each([
    { name: "another amount", answer: { status: "authorized" as const, amount: 1 } },
    { name: "another currency", answer: { status: "authorized" as const, currency: "EUR" as const } },
    { name: "another amount on a 3-D Secure challenge", answer: { status: "requires_action" as const, amount: 1 } },
  ])("with $name: AMOUNT_MISMATCH, nothing captured, the order held for a person", async ({ answer }) => {
    const fake = createFakePaymentProvider();
    fake.willAuthorize(answer);
    const { error, row } = await checkout(db(), fake);
    expect(appError(error).code).toBe("AMOUNT_MISMATCH");
    expect(fake.callsTo("capture")).toEqual([]);
    expect(row!.status).toBe("pending_payment");
    expect(await actionsOf(db(), "order", row!.id)).toContain("payment.amount_mismatch");
    expect((await paymentsOf(db(), row!.id)).filter((payment) => payment.status === "captured")).toEqual([]);
  });
});

describe("refusals before anything is held", () => {
  it("refuses an order whose price changed since the quote, asking the provider nothing", async () => {
    const fake = createFakePaymentProvider();
    const { cartId, quote } = await quotedCart(db(), { lines: [{ sku: "NOTE-A5", quantity: 1 }] });
    await db().updateTable("price").set({ amount: 3900 }).where("sku", "=", "NOTE-A5").where("currency", "=", "USD").execute();
    try {
      const before = await Inventory.available(db(), "NOTE-A5");
      const { error, row } = await placeOrder(db(), fake, { cartId, quoteId: quote.id });
      expect(appError(error).code).toBe("PRICE_CHANGED");
      expect((appError(error).details as { lines: unknown[] }).lines).toContainEqual(expect.objectContaining({ sku: "NOTE-A5", field: "unitPrice", was: 3400, now: 3900 }));
      expect(row).toBeUndefined();
      expect(await Inventory.available(db(), "NOTE-A5")).toBe(before);
      expect(fake.calls).toEqual([]);
    } finally {
      await db().updateTable("price").set({ amount: 3400 }).where("sku", "=", "NOTE-A5").where("currency", "=", "USD").execute();
    }
  });

  it("refuses an expired quote and a quote of another cart", async () => {
    const fake = createFakePaymentProvider();
    const { cartId, quote } = await quotedCart(db(), { lines: [{ sku: "TOTE", quantity: 1 }] });
    const expired = await placeOrder(db(), fake, { cartId, quoteId: quote.id, now: new Date(new Date(quote.expiresAt).getTime() + 1000) });
    expect(appError(expired.error).code).toBe("QUOTE_EXPIRED");
    const other = await quotedCart(db(), { lines: [{ sku: "TOTE", quantity: 1 }] });
    const foreign = await placeOrder(db(), fake, { cartId, quoteId: other.quote.id });
    expect(appError(foreign.error).code).toBe("NOT_FOUND");
    expect(fake.calls).toEqual([]);
    expect(await db().selectFrom("order").select("id").where("cart_id", "=", cartId).execute()).toEqual([]);
  });
});
