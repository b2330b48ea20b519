// Resuming a pending order's authorisation: the payment provider was unreachable (refused, or stalled
// past our timeout) when the shopper placed the order, so it stays pending with its stock held; the
// shopper's retry of the same attempt (same Idempotency-Key or not, same quote, same payment token)
// continues that order — authorise with the order's provider key, record, capture — instead of being
// told CHECKOUT_IN_PROGRESS until the reconciler gives up on it. The API talks to the real sandbox
// through a TCP relay the test can close or black-hole. Real PostgreSQL, real sandbox, real HTTP.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Audit, Reconciler } from "@checkout/core";
import { startPaymentSandbox, type PaymentSandbox } from "@checkout/payment-sandbox";
import { freePort } from "../scripts/free-port.ts";
import { createRelay } from "./support/payment-relay.ts";
import { CARDS, createAdminClient, readyCart, startTestApp, tokenizeCard, type TestApp } from "./support/app.ts";
import { ordersOf, paymentsOf } from "./support/orders.ts";
import { authorizationsFor } from "./support/sandbox.ts";
import { stockOf } from "./support/stock.ts";
import { waitUntil } from "./support/wait.ts";

const SECRET_KEY = "sk_resume_test_secret_key";
const ADMIN_TOKEN = `alice_${randomBytes(24).toString("hex")}`;
const PROVIDER_TIMEOUT_MS = 1000;
const SKU = "TEE-BLA-M";
const QUANTITY = 2;

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
    PAYMENT_WEBHOOK_SECRET: "whsec_resume_test_0123456789",
    PAYMENT_PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
    ADMIN_API_TOKENS: `alice:${ADMIN_TOKEN}`,
    DB_POOL_MAX: "20",
  });
});
afterAll(async () => {
  await t?.close();
  await relay?.close();
  await sandbox?.close();
});

interface Attempt {
  cartId: string;
  quoteId: string;
  paymentToken: string;
}

/** A cart ready to order, its quote and a card token: one checkout attempt. */
async function prepare(card: string = CARDS.success): Promise<Attempt> {
  await relay.set("up");
  const cartId = await readyCart(t.client, [{ sku: SKU, quantity: QUANTITY }]);
  const quote = await t.client.checkout.quote.mutate({ cartId });
  return { cartId, quoteId: quote.id, paymentToken: await tokenizeCard(sandbox.url, card) };
}

/** placeOrder over raw HTTP, as the web client sends it, so the status, body and replay header are visible. */
async function placeOrder(attempt: Attempt, key: string) {
  const response = await fetch(`${t.app.url}/trpc/checkout.placeOrder`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": key },
    body: JSON.stringify(attempt),
  });
  const text = await response.text();
  const body = JSON.parse(text) as {
    result?: { data: { id: string; number: string; status: string; total: number } };
    error?: { data: { httpStatus: number; appCode: string; details: Record<string, unknown> | null } };
  };
  return { status: response.status, text, headers: response.headers, order: body.result?.data ?? null, error: body.error?.data ?? null };
}

function available(): Promise<number> {
  return stockOf(t.database.db, SKU);
}

async function auditActions(orderId: string): Promise<string[]> {
  return (await Audit.listForEntity(t.app.services.db, "order", orderId)).map((row) => row.action);
}

const reconcile = () => Reconciler.reconcile({ db: t.app.services.db, payments: t.app.services.payments, captureMode: "immediate", graceMs: 0 });

/** The first attempt while the provider is `fault`: 503 PAYMENT_UNAVAILABLE, the order pending with its stock held and no claim left. */
async function failWhileProvider(fault: "down" | "stall", attempt: Attempt, key: string) {
  await relay.set(fault);
  const started = performance.now();
  const first = await placeOrder(attempt, key);
  const failMs = performance.now() - started;
  expect(first.status).toBe(503);
  expect(first.error).toMatchObject({ appCode: "PAYMENT_UNAVAILABLE" });
  const [pending, ...others] = await ordersOf(t.database.db, attempt.cartId);
  expect(others).toEqual([]);
  expect(pending).toMatchObject({ status: "pending_payment", authorizing_until: null, quote_id: attempt.quoteId });
  // A hash of the token, never the token itself.
  expect(pending!.payment_token_hash).toMatch(/^[0-9a-f]{64}$/);
  expect(pending!.payment_token_hash).not.toContain(attempt.paymentToken);
  expect(await paymentsOf(t.database.db, pending!.id)).toEqual([]);
  expect(authorizationsFor(sandbox, pending!.number)).toEqual([]);
  return { order: pending!, failMs };
}

/** Exactly one authorisation at the sandbox for the order, for its total, captured once in full. */
function expectChargedOnce(order: { number: string; total: number }) {
  const charges = authorizationsFor(sandbox, order.number);
  expect(charges).toHaveLength(1);
  expect(charges[0]).toMatchObject({ status: "captured", amount: order.total, capturedAmount: order.total });
  expect(charges[0]!.captures).toHaveLength(1);
  expect(charges[0]!.captures[0]).toMatchObject({ amount: order.total });
}

describe.each(["down", "stall"] as const)("a same-attempt retry after the provider was %s", (fault) => {
  it("resumes the pending order: 200 captured, one order, one charge and one capture for the total, a replay answers the same", async () => {
    const attempt = await prepare();
    const stockBefore = await available();
    const key = randomUUID();
    // The 503 is the server's own provider timeout answering (a hang would be this test's timeout, not a 503).
    const { order: pending, failMs } = await failWhileProvider(fault, attempt, key);
    expect(await available()).toBe(stockBefore - QUANTITY);

    await relay.set("up");
    const started = performance.now();
    const resumed = await placeOrder(attempt, key);
    const resumeMs = performance.now() - started;
    expect(resumed.status).toBe(200);
    expect(resumed.order).toMatchObject({ id: pending.id, number: pending.number, status: "captured", total: pending.total });
    expect(resumed.headers.get("idempotent-replayed")).toBeNull();

    const orders = await ordersOf(t.database.db, attempt.cartId);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ id: pending.id, status: "captured", authorizing_until: null });
    expect(await paymentsOf(t.database.db, pending.id)).toMatchObject([{ status: "captured", amount: pending.total, captured_amount: pending.total }]);
    expectChargedOnce(pending);
    expect(await auditActions(pending.id)).toEqual(["order.created", "order.payment_resumed", "order.authorised", "order.captured"]);

    const replay = await placeOrder(attempt, key);
    expect(replay.status).toBe(200);
    expect(replay.text).toBe(resumed.text);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await ordersOf(t.database.db, attempt.cartId)).toHaveLength(1);
    expectChargedOnce(pending);
    expect(await available()).toBe(stockBefore - QUANTITY);
    console.log(
      `[payment-resume] ${fault}: first attempt failed in ${Math.round(failMs)} ms with PAYMENT_UNAVAILABLE; same-key retry resumed order ${pending.number} → captured in ${Math.round(resumeMs)} ms; charges 1, captures 1`,
    );
  });
});

describe("resuming, exclusively", () => {
  it("two concurrent retries with the same key: one resumes, the other is told to wait or gets the same order; never two charges", async () => {
    const attempt = await prepare();
    const key = randomUUID();
    const { order: pending } = await failWhileProvider("down", attempt, key);
    await relay.set("up");

    const answers = await Promise.all([placeOrder(attempt, key), placeOrder(attempt, key)]);
    const successes = answers.filter((answer) => answer.status === 200);
    expect(successes.length).toBeGreaterThanOrEqual(1);
    for (const success of successes) expect(success.order).toMatchObject({ id: pending.id, status: "captured" });
    for (const other of answers.filter((answer) => answer.status !== 200)) {
      expect(other.status).toBe(409);
      expect(["IDEMPOTENCY_IN_PROGRESS", "CHECKOUT_IN_PROGRESS"]).toContain(other.error?.appCode);
    }
    expect(await ordersOf(t.database.db, attempt.cartId)).toHaveLength(1);
    expectChargedOnce(pending);
    expect((await auditActions(pending.id)).filter((action) => action === "order.payment_resumed")).toHaveLength(1);
    console.log(`[payment-resume] same key, concurrent: ${answers.map((answer) => answer.error?.appCode ?? answer.order?.status).join(" + ")}; charges 1`);
  });

  it("two concurrent retries with different keys and the same token: one resumes, the other gets CHECKOUT_IN_PROGRESS; one charge", async () => {
    const attempt = await prepare();
    const { order: pending } = await failWhileProvider("down", attempt, randomUUID());
    await relay.set("up");

    const answers = await Promise.all([placeOrder(attempt, randomUUID()), placeOrder(attempt, randomUUID())]);
    const successes = answers.filter((answer) => answer.status === 200);
    expect(successes).toHaveLength(1);
    expect(successes[0]!.order).toMatchObject({ id: pending.id, status: "captured" });
    const [loser] = answers.filter((answer) => answer.status !== 200);
    expect(loser?.status).toBe(409);
    // Told to wait while the other holds the claim; if it came after the order was paid, that it is ordered.
    expect(["CHECKOUT_IN_PROGRESS", "ALREADY_ORDERED"]).toContain(loser?.error?.appCode);
    expect(loser?.error?.details).toMatchObject({ orderId: pending.id });
    expect(await ordersOf(t.database.db, attempt.cartId)).toHaveLength(1);
    expectChargedOnce(pending);
    console.log(`[payment-resume] different keys, same token, concurrent: ${answers.map((answer) => answer.error?.appCode ?? answer.order?.status).join(" + ")}; charges 1`);
  });

  it("while a resume holds the claim, another retry gets CHECKOUT_IN_PROGRESS and the reconciler keeps off; an unclaimed pending order is still released", async () => {
    const attempt = await prepare();
    const stockBefore = await available();
    const key = randomUUID();
    const { order: pending } = await failWhileProvider("down", attempt, key);

    // The provider now stalls: a resume takes the claim and waits on it for the provider timeout.
    await relay.set("stall");
    const resuming = placeOrder(attempt, key);
    const claimed = await waitUntil(
      "the resume's authorisation claim",
      async () => {
        const [row] = await ordersOf(t.database.db, attempt.cartId);
        return row?.authorizing_until ? row : null;
      },
      5000,
      10,
    );
    expect(claimed.authorizing_until!.getTime()).toBeGreaterThan(Date.now());

    const other = await placeOrder(attempt, randomUUID());
    expect(other.status).toBe(409);
    expect(other.error).toMatchObject({ appCode: "CHECKOUT_IN_PROGRESS", details: { orderId: pending.id } });
    expect(other.error?.details?.retryAfterSeconds).toBeGreaterThanOrEqual(2);

    const whileClaimed = await reconcile();
    expect(whileClaimed.orders.map((entry) => entry.orderId)).not.toContain(pending.id);
    expect((await ordersOf(t.database.db, attempt.cartId))[0]).toMatchObject({ status: "pending_payment" });

    const stalled = await resuming;
    expect(stalled.status).toBe(503);
    expect(stalled.error).toMatchObject({ appCode: "PAYMENT_UNAVAILABLE" });
    expect((await ordersOf(t.database.db, attempt.cartId))[0]).toMatchObject({ status: "pending_payment", authorizing_until: null });
    expect(await available()).toBe(stockBefore - QUANTITY);

    // Claim let go, provider back, grace over: the existing behaviour — released, stock back, no charge.
    await relay.set("up");
    const summary = await reconcile();
    expect(summary.orders.filter((entry) => entry.orderId === pending.id)).toEqual([{ orderId: pending.id, number: pending.number, outcome: "released" }]);
    expect((await ordersOf(t.database.db, attempt.cartId))[0]).toMatchObject({ status: "payment_failed" });
    expect(await available()).toBe(stockBefore);
    expect(authorizationsFor(sandbox, pending.number)).toEqual([]);
  });

  it("a retry with a different token while the order is pending gets CHECKOUT_IN_PROGRESS and charges nothing", async () => {
    const attempt = await prepare();
    const key = randomUUID();
    const { order: pending } = await failWhileProvider("down", attempt, key);
    await relay.set("up");

    const otherCard = await placeOrder({ ...attempt, paymentToken: await tokenizeCard(sandbox.url, CARDS.success) }, randomUUID());
    expect(otherCard.status).toBe(409);
    expect(otherCard.error).toMatchObject({ appCode: "CHECKOUT_IN_PROGRESS", details: { orderId: pending.id } });
    expect((await ordersOf(t.database.db, attempt.cartId))[0]).toMatchObject({ status: "pending_payment", authorizing_until: null });
    expect(authorizationsFor(sandbox, pending.number)).toEqual([]);
    expect(await auditActions(pending.id)).toEqual(["order.created"]);

    // The original attempt can still finish it.
    const resumed = await placeOrder(attempt, key);
    expect(resumed.order).toMatchObject({ id: pending.id, status: "captured" });
    expectChargedOnce(pending);
  });

  it("a decline on resume is a decline: PAYMENT_DECLINED, the order fails, the stock comes back", async () => {
    const attempt = await prepare(CARDS.declined);
    const stockBefore = await available();
    const key = randomUUID();
    const { order: pending } = await failWhileProvider("down", attempt, key);
    await relay.set("up");

    const declined = await placeOrder(attempt, key);
    expect(declined.status).toBe(402);
    expect(declined.error).toMatchObject({ appCode: "PAYMENT_DECLINED", details: { orderId: pending.id } });
    expect((await ordersOf(t.database.db, attempt.cartId))[0]).toMatchObject({ status: "payment_failed" });
    expect(await paymentsOf(t.database.db, pending.id)).toMatchObject([{ status: "declined" }]);
    expect(await available()).toBe(stockBefore);
    const replay = await placeOrder(attempt, key);
    expect(replay.text).toBe(declined.text);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
  });

  it("once the reconciler has released the pending order, the retry does not resume it", async () => {
    const attempt = await prepare();
    const key = randomUUID();
    const { order: pending } = await failWhileProvider("down", attempt, key);
    await relay.set("up");
    const summary = await reconcile();
    expect(summary.orders.find((entry) => entry.orderId === pending.id)?.outcome).toBe("released");

    // The same attempt again: over, nothing charged, and no second order under the key — a final answer, replayed as is.
    const retry = await placeOrder(attempt, key);
    expect(retry.error).toMatchObject({ appCode: "PAYMENT_TOKEN_INVALID", details: { orderId: pending.id, status: "payment_failed" } });
    const replay = await placeOrder(attempt, key);
    expect(replay.text).toBe(retry.text);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    // The same attempt under another key (a double submit) gets the same answer.
    expect((await placeOrder(attempt, randomUUID())).error).toMatchObject({ appCode: "PAYMENT_TOKEN_INVALID" });
    expect(await ordersOf(t.database.db, attempt.cartId)).toHaveLength(1);
    expect((await ordersOf(t.database.db, attempt.cartId))[0]).toMatchObject({ id: pending.id, status: "payment_failed" });
    expect(authorizationsFor(sandbox, pending.number)).toEqual([]);
    expect(await auditActions(pending.id)).not.toContain("order.payment_resumed");

    // A new attempt (a new token, a new key) places the order, charged once.
    const again = await placeOrder({ ...attempt, paymentToken: await tokenizeCard(sandbox.url, CARDS.success) }, randomUUID());
    expect(again.order).toMatchObject({ status: "captured" });
    expect(await ordersOf(t.database.db, attempt.cartId)).toHaveLength(2);
    expectChargedOnce(again.order!);
  });

  it("admin.invariants passes afterwards", async () => {
    await relay.set("up");
    // Settle anything still pending from the tests above, as the reconciler job would.
    await reconcile();
    const admin = createAdminClient(t.app.url, ADMIN_TOKEN);
    const report = await admin.admin.invariants.query();
    expect(report, JSON.stringify(report)).toMatchObject({ passed: true });
  });
});
