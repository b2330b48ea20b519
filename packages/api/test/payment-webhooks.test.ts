// POST /webhooks/payments over real HTTP: the sandbox's own signed events settle 3-D Secure orders, and
// forged, stale, malformed or replayed events are refused or recognised without changing anything.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Audit } from "@checkout/core";
import { signWebhook } from "@checkout/payment-protocol";
import { startTestApp, type TestApp } from "./support/app.ts";
import { answerChallenge, placeThreeDSecureOrder, withoutSandboxWebhooks } from "./support/three-d-secure.ts";
import { stockOf } from "./support/stock.ts";

const SKU = "TEE-BLA-M";
const WEBHOOK_SECRET = "whsec_test_payment_webhooks_0123";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET });
});
afterAll(async () => {
  await t?.close();
});

let eventCounter = 0;
function event(type: string, authorization: Record<string, unknown>) {
  eventCounter += 1;
  return { id: `evt_test_${eventCounter}_${Date.now()}`, type, created: Math.floor(Date.now() / 1000), data: { authorization } };
}

async function postWebhook(body: string, signature: string | null) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== null) headers["sandbox-signature"] = signature;
  const response = await fetch(`${t.app.url}/webhooks/payments`, { method: "POST", headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

function signed(body: string, options: { secret?: string; timestamp?: number } = {}): string {
  return signWebhook({ secret: options.secret ?? WEBHOOK_SECRET, timestamp: options.timestamp ?? Math.floor(Date.now() / 1000), body });
}

/** Everything a webhook could change about an order, to prove that a refused one changed nothing. */
async function snapshot(orderId: string) {
  const db = t.database.db;
  return {
    order: await db.selectFrom("order").select(["status", "updated_at"]).where("id", "=", orderId).executeTakeFirstOrThrow(),
    payments: await db.selectFrom("payment").selectAll().where("order_id", "=", orderId).execute(),
    audit: await Audit.listForEntity(db, "order", orderId),
    events: (
      await db
        .selectFrom("payment_webhook_event")
        .select(({ fn }) => fn.countAll<string>().as("count"))
        .executeTakeFirstOrThrow()
    ).count,
    stock: await stockOf(db, SKU),
  };
}

async function orderStatus(orderId: string): Promise<string> {
  return (await t.client.order.get.query({ orderId })).status;
}

describe("the sandbox's webhooks", () => {
  it("capture a 3-D Secure order without the shopper ever calling confirmPayment", async () => {
    const { order, nextActionUrl } = await placeThreeDSecureOrder(t);
    await answerChallenge(t, nextActionUrl, "authenticated");
    await vi.waitFor(async () => expect(await orderStatus(order.id)).toBe("captured"), { timeout: 5000, interval: 50 });
    const settled = await t.client.order.get.query({ orderId: order.id });
    expect(settled.payment).toMatchObject({ status: "captured", nextActionUrl: null });
    const events = await t.database.db.selectFrom("payment_webhook_event").select(["type", "processed_at"]).where("type", "=", "authorization.succeeded").execute();
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((row) => row.processed_at instanceof Date)).toBe(true);
  });

  it("fail a 3-D Secure order and release its stock when the challenge fails", async () => {
    const before = await stockOf(t.database.db, SKU);
    const { order, nextActionUrl } = await placeThreeDSecureOrder(t);
    await answerChallenge(t, nextActionUrl, "failed");
    await vi.waitFor(async () => expect(await orderStatus(order.id)).toBe("payment_failed"), { timeout: 5000, interval: 50 });
    expect((await t.client.order.get.query({ orderId: order.id })).payment).toMatchObject({ status: "declined", declineCode: "authentication_failed" });
    expect(await stockOf(t.database.db, SKU)).toBe(before);
  });

  it("are recorded and acknowledged when they only report (the capture that followed)", async () => {
    await vi.waitFor(
      async () => {
        const captured = await t.database.db.selectFrom("payment_webhook_event").select("processed_at").where("type", "=", "authorization.captured").execute();
        expect(captured.length).toBeGreaterThan(0);
        expect(captured.every((row) => row.processed_at instanceof Date)).toBe(true);
      },
      { timeout: 5000, interval: 50 },
    );
    expect(t.logs.join("")).not.toMatch(/payment webhook (failed|rejected)/);
  });
});

describe("POST /webhooks/payments", () => {
  it("settles the order from a valid event, and answers its replay as a duplicate that changes nothing", async () => {
    await withoutSandboxWebhooks(t, WEBHOOK_SECRET, async () => {
      const { order, nextActionUrl } = await placeThreeDSecureOrder(t);
      const authorization = await answerChallenge(t, nextActionUrl, "authenticated");
      const body = JSON.stringify(event("authorization.succeeded", authorization));
      const first = await postWebhook(body, signed(body));
      expect(first).toEqual({ status: 200, body: { received: true } });
      expect(await orderStatus(order.id)).toBe("captured");

      const before = await snapshot(order.id);
      const replay = await postWebhook(body, signed(body));
      expect(replay).toEqual({ status: 200, body: { received: true, duplicate: true } });
      expect(await snapshot(order.id)).toEqual(before);
    });
  });

  it("refuses an event signed with another secret with 400, changing nothing", async () => {
    await withoutSandboxWebhooks(t, WEBHOOK_SECRET, async () => {
      const { order, nextActionUrl } = await placeThreeDSecureOrder(t);
      const authorization = await answerChallenge(t, nextActionUrl, "authenticated");
      const body = JSON.stringify(event("authorization.succeeded", authorization));
      const before = await snapshot(order.id);
      const forged = await postWebhook(body, signed(body, { secret: "whsec_attacker_guess_00000000" }));
      expect(forged.status).toBe(400);
      expect(forged.body.error).toEqual({ code: "SIGNATURE_INVALID", message: "The signature does not match the body" });
      const tampered = await postWebhook(body.replace('"amount":', '"amount": '), signed(body));
      expect(tampered.status).toBe(400);
      expect(await snapshot(order.id)).toEqual(before);
      expect(before.order.status).toBe("pending_payment");
    });
  });

  it("refuses a missing or malformed signature header with 400", async () => {
    const body = JSON.stringify(event("authorization.captured", {}));
    for (const header of [null, "", "v1=abc", "t=now,v1=00"]) {
      const answer = await postWebhook(body, header);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe("SIGNATURE_INVALID");
    }
  });

  it("refuses a correctly signed event whose timestamp is more than five minutes old, changing nothing", async () => {
    await withoutSandboxWebhooks(t, WEBHOOK_SECRET, async () => {
      const { order, nextActionUrl } = await placeThreeDSecureOrder(t);
      const authorization = await answerChallenge(t, nextActionUrl, "authenticated");
      const body = JSON.stringify(event("authorization.succeeded", authorization));
      const before = await snapshot(order.id);
      const stale = await postWebhook(body, signed(body, { timestamp: Math.floor(Date.now() / 1000) - 301 }));
      expect(stale.status).toBe(400);
      expect(stale.body.error.message).toMatch(/300 s/);
      expect(await snapshot(order.id)).toEqual(before);
    });
  });

  it("ignores an event whose authorisation is not the order's payment", async () => {
    await withoutSandboxWebhooks(t, WEBHOOK_SECRET, async () => {
      const { order, nextActionUrl } = await placeThreeDSecureOrder(t);
      const authorization = await answerChallenge(t, nextActionUrl, "authenticated");
      const body = JSON.stringify(event("authorization.succeeded", { ...authorization, id: "auth_not_this_orders_payment" }));
      expect((await postWebhook(body, signed(body))).status).toBe(200);
      expect(await orderStatus(order.id)).toBe("pending_payment");
    });
  });

  it("records and acknowledges an event for an order it does not know", async () => {
    const authorization = { id: "auth_elsewhere", status: "authorized", amount: 100, currency: "USD", reference: "not-an-order", card: { brand: "visa", last4: "4242" } };
    const body = JSON.stringify(event("authorization.succeeded", authorization));
    expect(await postWebhook(body, signed(body))).toEqual({ status: 200, body: { received: true } });
  });

  it("refuses a signed body that is not an event with 400, storing nothing", async () => {
    const before = (await t.database.db.selectFrom("payment_webhook_event").select("id").execute()).length;
    for (const body of ["not json", JSON.stringify({ hello: "world" }), JSON.stringify(event("authorization.succeeded", { id: "auth_x" }))]) {
      const answer = await postWebhook(body, signed(body));
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe("BAD_INPUT");
    }
    expect((await t.database.db.selectFrom("payment_webhook_event").select("id").execute()).length).toBe(before);
  });

  it("accepts only POST, and bodies up to 64 KB", async () => {
    const get = await fetch(`${t.app.url}/webhooks/payments`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const body = JSON.stringify({ padding: "x".repeat(65 * 1024) });
    expect((await postWebhook(body, signed(body))).status).toBe(413);
  });
});
