// The outbox's delivery targets against real PostgreSQL: the confirmation email and signed order webhooks
// from a running API, and the webhook target retried by the dispatcher and given up on. The dispatcher's own
// rules (backoff that doubles, two dispatchers at once, a dispatcher dying mid-delivery, events no target
// wants) are tested directly in packages/core/test/outbox.test.ts.
import { createHmac } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Outbox, OutboxDispatcher, OrderConfirmationEmail, OrderWebhook } from "@checkout/core";
import { createMailer } from "../src/outbox/mailer.ts";
import { CONFIRMATION_EMAIL_TARGET, createWebhookTarget } from "../src/outbox/outbox-targets.ts";
import { CARDS, readyCart, startTestApp, type TestApp } from "./support/app.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { startSmtpServer } from "./support/smtp-server.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.ts";
import { waitUntil } from "./support/wait.ts";

const SECRET = "whsec_outbox_test_secret";

/** The decoded text of each MIME part of an .eml, by content type. */
function mimeParts(eml: string): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const chunk of eml.split(/\n--[^\n]+\n/)) {
    const type = /^Content-Type: ([\w/]+)/im.exec(chunk)?.[1];
    if (!type?.startsWith("text/")) continue;
    const body = chunk.slice(chunk.indexOf("\n\n") + 2);
    const isQuotedPrintable = /^Content-Transfer-Encoding: quoted-printable/im.test(chunk);
    const bytes = isQuotedPrintable
      ? Buffer.from(
          body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
          "latin1",
        )
      : Buffer.from(body);
    parts[type] = bytes.toString("utf8");
  }
  return parts;
}

describe("the running API with JOBS=on", () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let mailDir: string;

  beforeAll(async () => {
    mailDir = mkdtempSync(path.join(os.tmpdir(), "checkout-mail-"));
    receiver = await startWebhookReceiver();
    t = await startTestApp({
      JOBS: "on",
      OUTBOX_POLL_MS: "100",
      MAIL_DIR: mailDir,
      PUBLIC_URL: "https://shop.example",
      ORDER_WEBHOOK_URLS: receiver.url,
      ORDER_WEBHOOK_SECRET: SECRET,
    });
  });

  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    rmSync(mailDir, { recursive: true, force: true });
  });

  it("sends an authorised order exactly one confirmation email, its number in the HTML and the text", async () => {
    const cartId = await readyCart(t.client);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    const order = await t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) });
    expect(order.status).toBe("captured");

    const placed = await waitUntil("order.placed to be dispatched", async () => {
      const events = await Outbox.listEventsOfAggregate(t.app.services.db, order.id);
      const event = events.find((e) => e.type === "order.placed");
      return event?.dispatched_at ? event : undefined;
    });
    const deliveries = await Outbox.listDeliveriesOfEvent(t.app.services.db, placed.id);
    expect(deliveries.map((d) => [d.target, d.status, d.attempts])).toEqual([
      ["email:order-confirmation", "delivered", 1],
      [`webhook:${receiver.url}`, "delivered", 1],
    ]);
    expect((await t.client.order.get.query({ orderId: order.id })).confirmationEmail).toBe("sent");
    // A few more polls: nothing is sent twice.
    await new Promise((resolve) => setTimeout(resolve, 400));

    const files = readdirSync(mailDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z-order-${order.number}\\.eml$`));
    const eml = readFileSync(path.join(mailDir, files[0]!), "utf8");
    expect(eml).toMatch(/^To: ada@example\.com$/m);
    expect(eml).toMatch(new RegExp(`^Subject: Order ${order.number} confirmed$`, "m"));
    expect(eml).toMatch(new RegExp(`^Message-ID: <${placed.id}@shop\\.example>$`, "m"));
    const parts = mimeParts(eml);
    expect(parts["text/plain"]).toContain(`Order number: ${order.number}`);
    expect(parts["text/html"]).toContain(`<strong>${order.number}</strong>`);
    for (const part of [parts["text/plain"], parts["text/html"]]) {
      expect(part).toContain("Everyday Tee");
      expect(part).toContain(`https://shop.example/orders#${order.id}`);
      expect(part).toContain("Ada Lovelace");
    }
  });

  it("posts every order event to the webhook, signed t=<unix>,v1=HMAC-SHA256(secret, '<t>.<body>')", async () => {
    const requests = await receiver.waitFor(2);
    const bodies = requests.map((request) => JSON.parse(request.body) as { id: string; type: string; created: number; data: Record<string, unknown> });
    expect(bodies.map((body) => body.type).sort()).toEqual(["order.captured", "order.placed"]);
    for (const [index, request] of requests.entries()) {
      const body = bodies[index]!;
      expect(Object.keys(body)).toEqual(["id", "type", "created", "data"]);
      expect(request.headers["checkout-event-id"]).toBe(body.id);
      expect(request.headers["content-type"]).toBe("application/json");
      const header = String(request.headers["checkout-signature"]);
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
      expect(match).not.toBeNull();
      const [, timestamp, signature] = match!;
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
      expect(signature).toBe(createHmac("sha256", SECRET).update(`${timestamp}.${request.body}`).digest("hex"));
      expect(OrderWebhook.verify({ secret: SECRET, body: request.body, header })).toBe(true);
    }
  });
});

describe("OutboxDispatcher.dispatch", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase({ seed: false });
  });

  afterAll(async () => {
    await database?.drop();
  });

  async function enqueue(aggregateId: string, type: Outbox.OutboxEventType = "order.placed"): Promise<string> {
    await Outbox.enqueue(database.db, { type, aggregateId, payload: { orderId: aggregateId } });
    const events = await Outbox.listEventsOfAggregate(database.db, aggregateId);
    return events[0]!.id;
  }

  async function dispatchUntilDispatched(eventId: string, options: Omit<OutboxDispatcher.DispatchOptions, "db">): Promise<void> {
    await waitUntil("the event to be dispatched", async () => {
      await OutboxDispatcher.dispatch({ db: database.db, ...options });
      const event = await database.db.selectFrom("outbox_event").select("dispatched_at").where("id", "=", eventId).executeTakeFirstOrThrow();
      return event.dispatched_at !== null;
    });
  }

  it("tells what the shop knows of an order's confirmation email: sending, sent, failed or none", async () => {
    const emailTarget = (isAccepted: boolean): OutboxDispatcher.OutboxTarget => ({
      name: CONFIRMATION_EMAIL_TARGET,
      accepts: (event) => event.type === "order.placed",
      deliver: async () => {
        if (!isAccepted) throw new Error("550 mailbox unavailable");
      },
    });
    const stateOf = (orderId: string) => OrderConfirmationEmail.deliveryState(database.db, { orderId, target: CONFIRMATION_EMAIL_TARGET });

    const sentId = await enqueue("order-email-sent");
    expect(await stateOf("order-email-sent")).toBe("sending");
    await dispatchUntilDispatched(sentId, { targets: [emailTarget(true)] });
    expect(await stateOf("order-email-sent")).toBe("sent");

    const failedId = await enqueue("order-email-failed");
    await dispatchUntilDispatched(failedId, { targets: [emailTarget(false)], maxAttempts: 1 });
    expect(await stateOf("order-email-failed")).toBe("failed");

    // Fanned out when no email target was configured: no email is coming.
    const webhookOnlyId = await enqueue("order-email-none");
    await dispatchUntilDispatched(webhookOnlyId, { targets: [{ name: "webhook:elsewhere", accepts: () => true, deliver: async () => undefined }] });
    expect(await stateOf("order-email-none")).toBe("none");
    // An order with no order.placed event (not placed, or payment failed).
    const cancelledId = await enqueue("order-email-cancelled", "order.cancelled");
    expect(await stateOf("order-email-cancelled")).toBe("none");
    await dispatchUntilDispatched(cancelledId, { targets: [{ name: "webhook:elsewhere", accepts: () => true, deliver: async () => undefined }] });
  });

  it("retries a receiver that fails twice and records the delivery after 3 attempts", async () => {
    const receiver = await startWebhookReceiver((index) => (index < 2 ? 500 : 200));
    try {
      const eventId = await enqueue("order-retry");
      await dispatchUntilDispatched(eventId, { targets: [createWebhookTarget({ url: receiver.url, secret: SECRET })], retryBaseMs: 100 });

      expect(receiver.received).toHaveLength(3);
      expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
      expect(receiver.received.map((r) => r.headers["checkout-event-id"])).toEqual([eventId, eventId, eventId]);
      const [delivery] = await Outbox.listDeliveriesOfEvent(database.db, eventId);
      expect(delivery).toMatchObject({ status: "delivered", attempts: 3, last_error: null });
      expect(delivery!.delivered_at).toBeInstanceOf(Date);
    } finally {
      await receiver.close();
    }
  });

  it("gives up after maxAttempts, keeps the last error, and still marks the event dispatched", async () => {
    const receiver = await startWebhookReceiver(() => 503);
    try {
      const eventId = await enqueue("order-dead-receiver");
      await dispatchUntilDispatched(eventId, {
        targets: [createWebhookTarget({ url: receiver.url, secret: SECRET })],
        retryBaseMs: 20,
        maxAttempts: 3,
      });
      expect(receiver.received).toHaveLength(3);
      const [delivery] = await Outbox.listDeliveriesOfEvent(database.db, eventId);
      expect(delivery).toMatchObject({ status: "failed", attempts: 3, delivered_at: null });
      expect(delivery!.last_error).toContain("answered 503");
    } finally {
      await receiver.close();
    }
  });
});

describe("createMailer", () => {
  const message = { to: "ada@example.com", subject: "Order 100001 confirmed", html: "<p>Order 100001</p>", text: "Order 100001", label: "order-100001" };

  it("sends over SMTP when given SMTP_URL, from MAIL_FROM", async () => {
    const smtp = await startSmtpServer({ requireAuth: false });
    const mailer = createMailer({ smtpUrl: smtp.url, from: "Shop <orders@shop.example>", folder: "/nonexistent" });
    try {
      await mailer.send({ ...message, messageId: "<event-1@shop.example>" });
      expect(smtp.messages).toHaveLength(1);
      expect(smtp.messages[0]).toMatchObject({ from: "orders@shop.example", to: ["ada@example.com"] });
      expect(smtp.messages[0]!.data).toMatch(/^Subject: Order 100001 confirmed\r$/m);
      expect(smtp.messages[0]!.data).toMatch(/^Message-ID: <event-1@shop\.example>\r$/m);
      expect(mailer.destination).toBe(smtp.url);
    } finally {
      mailer.close();
      await smtp.close();
    }
  });

  it("writes one whole .eml per message into the folder otherwise, never one over another", async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), "checkout-mailer-"));
    try {
      const mailer = createMailer({ from: "Checkout <orders@localhost>", folder: path.join(folder, "mail") });
      await Promise.all(Array.from({ length: 5 }, () => mailer.send(message)));
      const files = readdirSync(path.join(folder, "mail"));
      expect(files).toHaveLength(5);
      expect(files.every((file) => /-order-100001(-\d+)?\.eml$/.test(file))).toBe(true);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
