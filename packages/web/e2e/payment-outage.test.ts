// The payment processor is down while a shopper places an order, in real Chromium. The API reaches
// the sandbox through a TCP relay this test closes (connection refused); the browser still talks to
// the sandbox's own origin for the card field. The shopper is told a retry is safe, retries once the
// processor is back, and the retry carries the same Idempotency-Key and token: one order, no second
// tokenisation, at most one charge.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reconciler } from "@checkout/core";
import { startPaymentSandbox, type PaymentSandbox } from "../../payment-sandbox/src/index.ts";
import { freePort } from "../../api/scripts/free-port.ts";
import { createRelay } from "../../api/test/support/payment-relay.ts";
import { addToCart, cents, checkoutUpToPayment, fillCard, newPhonePage, review, screenshots, startShop, stopShop, usShopper, type Shop } from "./shop-harness.ts";

const SECRET_KEY = "sk_payment_outage_browser_test";
const WEBHOOK_SECRET = "whsec_payment_outage_browser_test";
const PENDING_TEXT = "Confirming your payment…";

let shop: Shop;
let sandbox: PaymentSandbox;
let relay: ReturnType<typeof createRelay>;

beforeAll(async () => {
  shop = await startShop({
    env: async (port) => {
      sandbox = await startPaymentSandbox({
        port: 0,
        host: "127.0.0.1",
        secretKey: SECRET_KEY,
        allowedParentOrigins: [`http://localhost:${port}`, `http://127.0.0.1:${port}`],
        publicUrl: (listeningUrl) => listeningUrl.replace("127.0.0.1", "localhost"),
      });
      const relayPort = await freePort();
      relay = createRelay(sandbox.port, relayPort);
      await relay.listen();
      return {
        PAYMENT_SANDBOX: "false",
        // Server to server through the relay; the browser loads the card field from the sandbox itself.
        PAYMENT_PROVIDER_URL: `http://127.0.0.1:${relayPort}`,
        PAYMENT_PROVIDER_PUBLIC_URL: sandbox.publicUrl,
        PAYMENT_SECRET_KEY: SECRET_KEY,
        PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
        PAYMENT_PROVIDER_TIMEOUT_MS: "3000",
      };
    },
  });
  sandbox.setWebhookTarget(`${shop.app.url}/webhooks/payments`, WEBHOOK_SECRET);
});

afterAll(async () => {
  await stopShop(shop);
  await relay?.close();
  await sandbox?.close();
});

describe("a shopper in Chromium while the payment processor is down", () => {
  it("is told a retry is safe, retries with the same Idempotency-Key and token, and gets one order and at most one charge", async () => {
    const { app, database } = shop;
    // The outage's 503, and the same-key retry told the first attempt's order is still being settled (409).
    const { page, errors } = await newPhonePage(shop.browser, [
      { status: 503, path: "/trpc/checkout.placeOrder" },
      { status: 409, path: "/trpc/checkout.placeOrder" },
    ]);
    const placeOrderKeys: (string | undefined)[] = [];
    const tokenRequests: string[] = [];
    page.on("request", (request) => {
      if (request.method() !== "POST") return;
      if (request.url().includes("/trpc/checkout.placeOrder")) placeOrderKeys.push(request.headers()["idempotency-key"]);
      if (request.url().startsWith(sandbox.publicUrl) && new URL(request.url()).pathname === "/v1/tokens") tokenRequests.push(request.url());
    });

    await addToCart(page, app.url, "everyday-tee", "1");
    await checkoutUpToPayment(page, app.url, usShopper("outage@example.com", "Margaret Hamilton"));
    await fillCard(page, "4242 4242 4242 4242");
    await review(page);
    const reviewTotal = (await page.getByTestId("review-total").textContent()) ?? "";

    // The processor goes away: the first attempt fails with PAYMENT_UNAVAILABLE and the shopper stays on checkout.
    await relay.set("down");
    const placeOrder = page.getByTestId("place-order");
    await placeOrder.click();
    const notice = page.getByTestId("payment-error");
    await expect.poll(() => notice.textContent(), { timeout: 15_000 }).toMatch(/could not reach the payment processor/);
    const message = (await notice.locator("p").nth(1).textContent()) ?? "";
    expect(message).toBe(
      "We could not reach the payment processor, so your order is not confirmed yet. Your card will not be charged twice: place your order again to retry; it is the same order.",
    );
    expect(await notice.locator(".notice__title").textContent()).toBe("Your order is not confirmed yet");
    expect(page.url()).toMatch(/\/checkout$/);
    expect(await placeOrder.isEnabled()).toBe(true);
    expect(placeOrderKeys).toHaveLength(1);
    expect(tokenRequests).toHaveLength(1);
    await page.screenshot({ path: path.join(screenshots, "payment-outage.png"), fullPage: true });

    const pending = await database.db.selectFrom("order").select(["id", "cart_id", "status"]).where("email", "=", "outage@example.com").execute();
    expect(pending).toHaveLength(1);
    expect(pending[0]!.status).toBe("pending_payment");
    const { id: orderId, cart_id: cartId } = pending[0]!;

    // The processor is back; the shopper places the order again: the same request, sent again.
    await relay.set("up");
    await placeOrder.click();
    await page.waitForURL(new RegExp(`/orders#${orderId}$`), { timeout: 20_000 });
    expect(placeOrderKeys).toHaveLength(2);
    expect(placeOrderKeys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(placeOrderKeys[1]).toBe(placeOrderKeys[0]);
    // No second tokenisation: not in the browser's traffic, not in the sandbox's ledger.
    expect(tokenRequests).toHaveLength(1);
    expect(sandbox.debugDump().tokens).toHaveLength(1);

    const eyebrow = page.locator(".order-page__header .eyebrow");
    await eyebrow.waitFor();
    const firstState = (await eyebrow.textContent()) ?? "";
    if (firstState === PENDING_TEXT) {
      // The order page says what is happening and keeps looking; the reconciler (a background job,
      // off in the harness) settles the order against what the processor really holds.
      expect(await page.getByTestId("order-pending").textContent()).toMatch(/will not be charged twice/);
      const started = performance.now();
      let status = "pending_payment";
      while (status === "pending_payment" && performance.now() - started < 20_000) {
        await Reconciler.reconcile({ db: app.services.db, payments: app.services.payments, captureMode: app.services.captureMode, graceMs: 0 });
        status = (await database.db.selectFrom("order").select("status").where("id", "=", orderId).executeTakeFirstOrThrow()).status;
      }
      await expect.poll(() => eyebrow.textContent(), { timeout: 15_000 }).not.toBe(PENDING_TEXT);
    }
    const finalState = (await eyebrow.textContent()) ?? "";

    // One order for the cart, and at most one charge at the processor, consistent with the order's state.
    const orders = await database.db.selectFrom("order").select(["id", "number", "status", "total"]).where("cart_id", "=", cartId).execute();
    expect(orders).toHaveLength(1);
    const order = orders[0]!;
    expect(order.id).toBe(orderId);
    expect(order.total).toBe(cents(reviewTotal));
    const charges = sandbox.debugDump().authorizations.filter((authorization) => authorization.reference === order.number);
    const captures = charges.flatMap((charge) => charge.captures);
    const payments = await database.db.selectFrom("payment").select(["status", "amount"]).where("order_id", "=", order.id).execute();
    // The retry resumed the pending order's authorisation: paid, exactly one charge and one capture for the total.
    expect(order.status).toBe("captured");
    expect(finalState).toBe("Paid");
    expect(charges).toHaveLength(1);
    expect(captures.map((capture) => capture.amount)).toEqual([order.total]);
    expect(payments).toEqual([{ status: "captured", amount: order.total }]);

    console.log(
      `[payment-outage] first attempt 503 PAYMENT_UNAVAILABLE; retry with the same key landed on the order page as "${firstState}", ` +
        `settled as "${finalState}" (${order.status}); orders for the cart ${orders.length}, charges ${charges.length}, tokenisations ${tokenRequests.length}`,
    );
    expect(errors).toEqual([]);
  });
});
