// Fault: the payment provider is down (connection refused) or stalls (accepts, never answers). The
// API talks to the real sandbox through a TCP relay the test can close or black-hole. placeOrder fails
// fast with a typed retryable error, the order stays consistent (pending, then released by the
// reconciler once the provider answers again), and retries with the same Idempotency-Key never charge twice.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reconciler } from "@checkout/core";
import { startPaymentSandbox, type PaymentSandbox } from "@checkout/payment-sandbox";
import { freePort } from "../scripts/free-port.ts";
import { createRelay } from "./support/payment-relay.ts";
import { CARDS, createClient, expectTrpcError, readyCart, startTestApp, tokenizeCard, type TestApp } from "./support/app.ts";
import { ordersOf } from "./support/orders.ts";
import { stockOf } from "./support/stock.ts";

const SECRET_KEY = "sk_fault_test_secret_key";
const PROVIDER_TIMEOUT_MS = 1000;
const SKU = "TEE-BLA-M";

let t: TestApp;
let sandbox: PaymentSandbox;
let relay: ReturnType<typeof createRelay>;

beforeAll(async () => {
  sandbox = await startPaymentSandbox({ port: 0, host: "127.0.0.1", secretKey: SECRET_KEY, allowedParentOrigins: ["http://localhost:3000"] });
  const relayPort = await freePort();
  relay = createRelay(sandbox.port, relayPort);
  await relay.listen();
  t = await startTestApp({
    PAYMENT_SANDBOX: "false",
    PAYMENT_PROVIDER_URL: `http://127.0.0.1:${relayPort}`,
    PAYMENT_SECRET_KEY: SECRET_KEY,
    PAYMENT_WEBHOOK_SECRET: "whsec_fault_test_0123456789",
    PAYMENT_PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
  });
});
afterAll(async () => {
  await t?.close();
  await relay?.close();
  await sandbox?.close();
});

function available(): Promise<number> {
  return stockOf(t.database.db, SKU);
}

function chargesFor(numbers: string[]) {
  return sandbox.debugDump().authorizations.filter((entry) => numbers.includes(entry.reference));
}

const reconcile = () => Reconciler.reconcile({ db: t.app.services.db, payments: t.app.services.payments, captureMode: "immediate", graceMs: 0 });

async function placeWithKey(cartId: string, quoteId: string, paymentToken: string, idempotencyKey: string) {
  const client = createClient(t.app.url);
  return client.checkout.placeOrder.mutate({ cartId, quoteId, paymentToken }, { context: { idempotencyKey } });
}

describe.each(["down", "stall"] as const)("payment provider %s", (fault) => {
  it("fails placeOrder fast with a retryable error, holds then releases the stock, and never charges twice for one Idempotency-Key", async () => {
    await relay.set("up");
    const stockBefore = await available();
    const cartId = await readyCart(t.client);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    const paymentToken = await tokenizeCard(sandbox.url, CARDS.success);
    const key = randomUUID();

    await relay.set(fault);
    const started = performance.now();
    const error = await expectTrpcError(() => placeWithKey(cartId, quote.id, paymentToken, key));
    const failMs = performance.now() - started;
    expect(error.data).toMatchObject({ httpStatus: 503, appCode: "PAYMENT_UNAVAILABLE" });
    // Refused: at once; stalled: the server's own provider timeout answered (a hang would be this test's timeout, not a 503).
    console.log(`[fault-payment-provider] ${fault}: 503 after ${Math.round(failMs)} ms (provider timeout ${PROVIDER_TIMEOUT_MS} ms)`);
    const [pending] = await ordersOf(t.database.db, cartId);
    expect(pending?.status).toBe("pending_payment");
    expect(await available()).toBe(stockBefore - 2);

    // The same key while the outcome is unknown: typed and retryable, no second order.
    const retry = await expectTrpcError(() => placeWithKey(cartId, quote.id, paymentToken, key));
    expect(retry.data?.httpStatus).toBeGreaterThanOrEqual(409);
    expect(["CHECKOUT_IN_PROGRESS", "PAYMENT_UNAVAILABLE"]).toContain(retry.data?.appCode);
    expect(await ordersOf(t.database.db, cartId)).toHaveLength(1);

    // The reconciler cannot settle an unknown outcome while the provider is unreachable: the stock stays held.
    const blind = await reconcile();
    expect(blind.released).toBe(0);
    expect((await ordersOf(t.database.db, cartId))[0]?.status).toBe("pending_payment");

    await relay.set("up");
    const recoveredAt = performance.now();
    // Reconciler runs until it settles the order (one run on a quiet machine; a busy one may time out a lookup).
    let released = (await ordersOf(t.database.db, cartId))[0];
    let runs = 0;
    while (released?.status === "pending_payment" && performance.now() - recoveredAt < 20_000) {
      await reconcile();
      runs += 1;
      released = (await ordersOf(t.database.db, cartId))[0];
    }
    const settleMs = performance.now() - recoveredAt;
    expect(released?.status).toBe("payment_failed");
    expect(await available()).toBe(stockBefore);

    // Retrying the same attempt now: at most one live order and one charge for the cart, and a replay answers the same.
    const again = await placeWithKey(cartId, quote.id, paymentToken, key).then(
      (order) => ({ order, appCode: null as string | null }),
      (caught: { data?: { appCode?: string } }) => ({ order: null, appCode: caught.data?.appCode ?? "unknown" }),
    );
    const replay = await placeWithKey(cartId, quote.id, paymentToken, key).then(
      (order) => ({ order, appCode: null as string | null }),
      (caught: { data?: { appCode?: string } }) => ({ order: null, appCode: caught.data?.appCode ?? "unknown" }),
    );
    expect(replay.order?.id ?? replay.appCode).toBe(again.order?.id ?? again.appCode);
    const orders = await ordersOf(t.database.db, cartId);
    const charges = chargesFor(orders.map((order) => order.number));
    expect(charges.length).toBeLessThanOrEqual(1);
    expect(orders.filter((order) => order.status !== "payment_failed" && order.status !== "cancelled").length).toBeLessThanOrEqual(1);

    console.log(
      `[fault-payment-provider] ${fault}: placeOrder failed in ${Math.round(failMs)} ms (timeout ${PROVIDER_TIMEOUT_MS} ms) with PAYMENT_UNAVAILABLE; same-key retry ${retry.data?.appCode}; ` +
        `reconciler while down released ${blind.released}, after recovery settled in ${Math.round(settleMs)} ms, ${runs} run(s) (stock back to ${stockBefore}); ` +
        `retry after recovery ${again.order ? `order ${again.order.status}` : again.appCode}; charges for the cart ${charges.length}`,
    );
  });
});
