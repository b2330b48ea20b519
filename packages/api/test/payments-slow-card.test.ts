// The slow card over HTTP: the processor authorises it but answers after our client has given up, so
// placeOrder reports PAYMENT_UNAVAILABLE quickly while the charge exists, exactly once, for a lookup to find.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectTrpcError, readyCart, startTestApp, type TestApp } from "./support/app.ts";
import { authorizationsFor, sandboxOf } from "./support/sandbox.ts";

const SLOW_CARD = "4000000000000259";
const CLIENT_TIMEOUT_MS = 300;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ PAYMENT_PROVIDER_TIMEOUT_MS: String(CLIENT_TIMEOUT_MS), PAYMENT_SANDBOX_SLOW_CARD_DELAY_MS: "5000" });
});
afterAll(async () => {
  await t?.close();
});

describe("checkout.placeOrder with the slow card", () => {
  it("answers PAYMENT_UNAVAILABLE (503) within the client timeout while the provider holds one authorisation", async () => {
    const cartId = await readyCart(t.client);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    const paymentToken = await t.tokenize(SLOW_CARD);
    const started = Date.now();
    const error = await expectTrpcError(() => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken }));
    expect(Date.now() - started).toBeLessThan(CLIENT_TIMEOUT_MS + 1500);
    expect(error.data).toMatchObject({ httpStatus: 503, appCode: "PAYMENT_UNAVAILABLE" });

    const order = await t.database.db.selectFrom("order").selectAll().where("cart_id", "=", cartId).executeTakeFirstOrThrow();
    expect(order.status).toBe("pending_payment");
    expect(await t.database.db.selectFrom("payment").select("id").where("order_id", "=", order.id).execute()).toEqual([]);

    const state = await t.app.services.payments.findAuthorization({ reference: order.number });
    expect(state).toMatchObject({ status: "authorized", amount: order.total, currency: "USD", card: { last4: "0259" }, capturedAmount: 0 });
    const made = authorizationsFor(sandboxOf(t), order.number);
    expect(made).toHaveLength(1);
    expect(made[0]?.id).toBe(state?.authorizationId);
  });

  it("lets checkout.confirmPayment settle the order from the lookup, capturing once", async () => {
    const cartId = await readyCart(t.client);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    const paymentToken = await t.tokenize(SLOW_CARD);
    await expectTrpcError(() => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken }));
    const { id: orderId, number } = await t.database.db.selectFrom("order").select(["id", "number"]).where("cart_id", "=", cartId).executeTakeFirstOrThrow();

    const confirmed = await t.client.checkout.confirmPayment.mutate({ orderId });
    expect(confirmed).toMatchObject({ status: "captured", payment: { status: "captured", cardLast4: "0259" } });
    expect(await t.client.checkout.confirmPayment.mutate({ orderId })).toEqual(confirmed);
    const made = authorizationsFor(sandboxOf(t), number);
    expect(made.map((entry) => entry.captures.length)).toEqual([1]);
  });
});
