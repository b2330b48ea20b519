// Tests for the sandbox's signed webhooks, delivered over real HTTP to a recording receiver.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startPaymentSandbox, type PaymentSandbox } from "./sandbox-server.ts";
import { signWebhook } from "@checkout/payment-protocol";

const SECRET = "sk_test_webhooks";
const WEBHOOK_SECRET = "whsec_test_0123456789abcdef";
const SHOP_ORIGIN = "http://localhost:5173";

interface Delivery {
  signature: string;
  body: string;
  event: any;
}

interface Receiver {
  url: string;
  deliveries: Delivery[];
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A shop endpoint that records every delivery and answers with `statuses` in turn (then 200). */
async function startReceiver(statuses: number[] = []): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    request.on("end", () => {
      deliveries.push({ signature: String(request.headers["sandbox-signature"]), body, event: JSON.parse(body) });
      response.writeHead(statuses.shift() ?? 200, { "Content-Type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/payments`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  cleanups.push(receiver.close);
  return receiver;
}

async function startSandbox(options: { webhookUrl?: string; retryDelaysMs?: number[] } = {}): Promise<PaymentSandbox> {
  const sandbox = await startPaymentSandbox({
    port: 0,
    secretKey: SECRET,
    allowedParentOrigins: [SHOP_ORIGIN],
    webhookUrl: options.webhookUrl,
    webhookSecret: WEBHOOK_SECRET,
    webhookRetryDelaysMs: options.retryDelaysMs ?? [20, 40],
  });
  cleanups.push(() => sandbox.close());
  return sandbox;
}

async function call(sandbox: PaymentSandbox, path: string, body: Record<string, unknown>): Promise<any> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${SECRET}`, "Content-Type": "application/json", "Idempotency-Key": `${path}-${Math.random()}` },
    body: JSON.stringify(body),
  });
  return response.json();
}

async function authorize(sandbox: PaymentSandbox, number: string, reference = "order_hooks"): Promise<any> {
  const tokenResponse = await fetch(`${sandbox.url}/v1/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ number, expMonth: 12, expYear: new Date().getUTCFullYear() + 2, cvc: "123" }),
  });
  const token = ((await tokenResponse.json()) as { id: string }).id;
  return call(sandbox, "/v1/authorizations", { token, amount: 3000, currency: "USD", reference });
}

function answerChallenge(sandbox: PaymentSandbox, id: string, result: "authenticated" | "failed") {
  return fetch(`${sandbox.url}/3ds/${id}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ result }) });
}

describe("sandbox webhooks", () => {
  it("sends a signed authorization.succeeded when a 3-D Secure challenge is completed", async () => {
    const receiver = await startReceiver();
    const sandbox = await startSandbox({ webhookUrl: receiver.url });
    const authorization = await authorize(sandbox, "4000002760003184", "order_hooks_3ds");
    expect(receiver.deliveries).toHaveLength(0);
    await answerChallenge(sandbox, authorization.id, "authenticated");
    await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(1));
    const [delivery] = receiver.deliveries;
    const timestamp = Number(/^t=(\d+),/.exec(delivery!.signature)?.[1]);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(5);
    expect(delivery!.signature).toBe(signWebhook({ secret: WEBHOOK_SECRET, timestamp, body: delivery!.body }));
    expect(delivery!.event).toMatchObject({
      id: expect.stringMatching(/^evt_[0-9a-f]{24}$/),
      type: "authorization.succeeded",
      created: expect.any(Number),
      data: { authorization: { id: authorization.id, status: "authorized", amount: 3000, currency: "USD", reference: "order_hooks_3ds" } },
    });
  });

  it("sends authorization.failed with the failure code when the challenge fails", async () => {
    const receiver = await startReceiver();
    const sandbox = await startSandbox({ webhookUrl: receiver.url });
    const authorization = await authorize(sandbox, "4000002760003184");
    await answerChallenge(sandbox, authorization.id, "failed");
    await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(1));
    expect(receiver.deliveries[0]?.event).toMatchObject({
      type: "authorization.failed",
      data: { authorization: { id: authorization.id, status: "failed", failureCode: "authentication_failed" } },
    });
  });

  it("reports captures, voids and refunds, but not an authorisation the caller was already told about", async () => {
    const receiver = await startReceiver();
    const sandbox = await startSandbox({ webhookUrl: receiver.url });
    const captured = await authorize(sandbox, "4242424242424242");
    await call(sandbox, `/v1/authorizations/${captured.id}/capture`, {});
    await call(sandbox, "/v1/refunds", { authorization: captured.id, amount: 1000 });
    const voided = await authorize(sandbox, "4242424242424242");
    await call(sandbox, `/v1/authorizations/${voided.id}/void`, {});
    await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(3));
    const byType = new Map(receiver.deliveries.map((delivery) => [delivery.event.type, delivery.event]));
    expect([...byType.keys()].sort()).toEqual(["authorization.captured", "authorization.voided", "refund.succeeded"]);
    expect(byType.get("authorization.captured").data.authorization).toMatchObject({ id: captured.id, status: "captured", capturedAmount: 3000 });
    expect(byType.get("refund.succeeded").data).toMatchObject({ authorization: { refundedAmount: 1000 }, refund: { amount: 1000 } });
    expect(byType.get("authorization.voided").data.authorization).toMatchObject({ id: voided.id, status: "voided" });
  });

  it("retries the identical event after a non-2xx answer, and stops after three attempts", async () => {
    const receiver = await startReceiver([500, 503, 500, 500]);
    const sandbox = await startSandbox({ webhookUrl: receiver.url });
    const first = await authorize(sandbox, "4000002760003184");
    await answerChallenge(sandbox, first.id, "authenticated");
    await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(3));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(receiver.deliveries).toHaveLength(3);
    const bodies = new Set(receiver.deliveries.map((delivery) => delivery.body));
    expect(bodies.size).toBe(1);

    const second = await authorize(sandbox, "4000002760003184");
    await answerChallenge(sandbox, second.id, "authenticated");
    await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(5));
    expect(receiver.deliveries[3]?.body).toBe(receiver.deliveries[4]?.body);
  });

  it("retries when the shop cannot be reached, and answers the API call without waiting", async () => {
    const receiver = await startReceiver();
    const sandbox = await startSandbox({ webhookUrl: receiver.url.replace(/:\d+\//, ":1/"), retryDelaysMs: [50] });
    const authorization = await authorize(sandbox, "4000002760003184");
    const started = Date.now();
    expect((await answerChallenge(sandbox, authorization.id, "authenticated")).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    sandbox.setWebhookTarget(receiver.url, WEBHOOK_SECRET);
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Retries keep the target the event was first sent to; new events go to the new one.
    expect(receiver.deliveries).toHaveLength(0);
    const next = await authorize(sandbox, "4000002760003184");
    await answerChallenge(sandbox, next.id, "failed");
    await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(1));
  });

  it("sends nothing until a target is set", async () => {
    const receiver = await startReceiver();
    const sandbox = await startSandbox();
    const before = await authorize(sandbox, "4000002760003184");
    await answerChallenge(sandbox, before.id, "authenticated");
    sandbox.setWebhookTarget(receiver.url, WEBHOOK_SECRET);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.deliveries).toHaveLength(0);
    const after = await authorize(sandbox, "4000002760003184");
    await answerChallenge(sandbox, after.id, "authenticated");
    await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(1));
    expect(receiver.deliveries[0]?.event.data.authorization.id).toBe(after.id);
  });

  it("stops retrying once closed", async () => {
    const receiver = await startReceiver([500, 500, 500]);
    const sandbox = await startSandbox({ webhookUrl: receiver.url, retryDelaysMs: [100, 100] });
    const authorization = await authorize(sandbox, "4000002760003184");
    await answerChallenge(sandbox, authorization.id, "authenticated");
    await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(1));
    await sandbox.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.deliveries).toHaveLength(1);
  });
});
