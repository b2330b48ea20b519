// admin.* over HTTP against real PostgreSQL and the payment sandbox (capture on fulfilment): who may
// call it, search, the order view with its audit trail, cancel, fulfil and refunds, all audited.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Audit, OrderAdmin, PaymentProviderUnavailableError, type PaymentProvider } from "@checkout/core";
import { CARDS, createAdminClient, expectTrpcError, readyCart, startTestApp, type TestApp } from "./support/app.ts";
import { stockOf } from "./support/stock.ts";

const ALICE_TOKEN = `alice_${randomBytes(24).toString("hex")}`;
const BOB_TOKEN = `bob_${randomBytes(24).toString("hex")}`;
const WRONG_TOKEN = `eve_${randomBytes(24).toString("hex")}`;

let t: TestApp;
let admin: ReturnType<typeof adminClient>;
beforeAll(async () => {
  t = await startTestApp({ CAPTURE_MODE: "on_fulfilment", ADMIN_API_TOKENS: `alice:${ALICE_TOKEN},bob:${BOB_TOKEN}`, DB_POOL_MAX: "20" });
  admin = adminClient(ALICE_TOKEN);
});
afterAll(async () => {
  await t?.close();
});

function adminClient(token: string | null, headers: Record<string, string> = {}) {
  return createAdminClient(t.app.url, token, { "user-agent": "admin-test/1.0", ...headers });
}

/** Places an order as a shopper; with capture on fulfilment it stays authorised. */
async function placeOrder(options: { email?: string; lines?: { sku: string; quantity: number }[] } = {}) {
  const cartId = await readyCart(t.client, options.lines ?? [{ sku: "MUG-SLA", quantity: 1 }]);
  if (options.email) await t.client.checkout.setContact.mutate({ cartId, email: options.email });
  const quote = await t.client.checkout.quote.mutate({ cartId });
  return t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) });
}

async function auditOf(orderId: string) {
  return Audit.listForOrder(t.database.db, orderId);
}

describe("admin authentication", () => {
  it("refuses anonymous callers, shoppers' clients and wrong tokens with UNAUTHORIZED", async () => {
    for (const client of [adminClient(null), t.client, adminClient(WRONG_TOKEN), adminClient(ALICE_TOKEN.slice(0, -1))]) {
      const error = await expectTrpcError(() => client.admin.orders.list.query({}));
      expect(error.data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    }
    const malformed = await expectTrpcError(() => adminClient(null, { authorization: `Basic ${ALICE_TOKEN}` }).admin.orders.list.query({}));
    expect(malformed.data?.httpStatus).toBe(401);
  });

  it("does nothing for a refused caller", async () => {
    const order = await placeOrder();
    const error = await expectTrpcError(() => adminClient(WRONG_TOKEN).admin.orders.cancel.mutate({ orderId: order.id, reason: "not allowed" }));
    expect(error.data?.httpStatus).toBe(401);
    expect((await t.client.order.get.query({ orderId: order.id })).status).toBe("authorised");
  });

  it("audits failed attempts with their origin, never the token presented", async () => {
    await expectTrpcError(() => adminClient(WRONG_TOKEN).admin.orders.get.query({ orderId: "00000000-0000-4000-8000-000000000000" }));
    const failures = await t.database.db.selectFrom("audit_log").selectAll().where("action", "=", "admin.auth_failed").orderBy("id").execute();
    expect(failures.length).toBeGreaterThanOrEqual(5);
    const last = failures.at(-1)!;
    expect(last).toMatchObject({ entity: "admin", entity_id: "admin.orders.get", actor: "anonymous", outcome: "failure" });
    expect(last.data).toMatchObject({ procedure: "admin.orders.get", reason: "unknown_token" });
    expect(last.origin).toEqual({ ip: "127.0.0.1", userAgent: "admin-test/1.0" });
    const everything = await t.database.db.selectFrom("audit_log").select(["data", "origin"]).execute();
    const text = JSON.stringify(everything);
    for (const token of [WRONG_TOKEN, ALICE_TOKEN, ALICE_TOKEN.slice(0, -1), BOB_TOKEN]) expect(text).not.toContain(token);
  });

  it("lets a configured admin in and attributes the call to their name", async () => {
    await adminClient(BOB_TOKEN).admin.orders.list.query({ limit: 1 });
    const row = await t.database.db.selectFrom("audit_log").selectAll().where("action", "=", "admin.orders_listed").orderBy("id", "desc").executeTakeFirstOrThrow();
    expect(row).toMatchObject({ actor: "admin:bob", outcome: "success", origin: { ip: "127.0.0.1", userAgent: "admin-test/1.0" } });
  });
});

describe("admin.orders.list", () => {
  it("finds orders by number, by part of the email and by exact email, newest first", async () => {
    const tag = randomBytes(4).toString("hex");
    const first = await placeOrder({ email: `ada.${tag}@example.com` });
    const second = await placeOrder({ email: `grace.${tag}@example.com` });

    const byNumber = await admin.admin.orders.list.query({ query: second.number });
    expect(byNumber.orders.map((o) => o.id)).toEqual([second.id]);
    expect(byNumber.orders[0]).toMatchObject({ number: second.number, status: "authorised", email: `grace.${tag}@example.com`, total: second.total });

    const byText = await admin.admin.orders.list.query({ query: tag });
    expect(byText.orders.map((o) => o.id)).toEqual([second.id, first.id]);

    const byEmail = await admin.admin.orders.list.query({ email: `ADA.${tag}@EXAMPLE.COM` });
    expect(byEmail.orders.map((o) => o.id)).toEqual([first.id]);

    const wildcard = await admin.admin.orders.list.query({ query: "%" });
    expect(wildcard.orders).toEqual([]);
  });

  it("filters by status", async () => {
    const tag = randomBytes(4).toString("hex");
    const kept = await placeOrder({ email: `kept.${tag}@example.com` });
    const cancelled = await placeOrder({ email: `gone.${tag}@example.com` });
    await admin.admin.orders.cancel.mutate({ orderId: cancelled.id, reason: "customer asked" });
    expect((await admin.admin.orders.list.query({ query: tag, status: "cancelled" })).orders.map((o) => o.id)).toEqual([cancelled.id]);
    expect((await admin.admin.orders.list.query({ query: tag, status: "authorised" })).orders.map((o) => o.id)).toEqual([kept.id]);
  });

  it("pages through every match with a keyset cursor, none twice", async () => {
    const tag = randomBytes(4).toString("hex");
    const placed = [];
    for (let i = 0; i < 5; i++) placed.push(await placeOrder({ email: `page${i}.${tag}@example.com` }));
    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    do {
      const page = await admin.admin.orders.list.query({ query: tag, limit: 2, cursor });
      sizes.push(page.orders.length);
      seen.push(...page.orders.map((o) => o.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(placed.map((o) => o.id).reverse());
  });

  it("rejects a cursor it did not issue and a limit out of range", async () => {
    const bad = await expectTrpcError(() => admin.admin.orders.list.query({ cursor: "not-a-cursor" }));
    expect(bad.data).toMatchObject({ appCode: "BAD_INPUT", httpStatus: 400 });
    const big = await expectTrpcError(() => admin.admin.orders.list.query({ limit: 1000 }));
    expect(big.data?.httpStatus).toBe(400);
  });
});

describe("admin.orders.get", () => {
  it("returns the order, every payment row and its audit trail, including this view", async () => {
    const order = await placeOrder();
    const view = await admin.admin.orders.get.query({ orderId: order.id });
    expect(view.order).toEqual(order);
    expect(view.payments).toHaveLength(1);
    expect(view.payments[0]).toMatchObject({ status: "authorised", amount: order.total, capturedAmount: 0, refundedAmount: 0, cardLast4: "4242" });
    const actions = view.audit.map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(["inventory.reserved", "order.created", "payment.authorised", "order.authorised", "admin.order_viewed"]));
    expect(view.audit.find((entry) => entry.action === "admin.order_viewed")).toMatchObject({
      actor: "admin:alice",
      origin: { ip: "127.0.0.1", userAgent: "admin-test/1.0" },
    });
    const seqs = view.audit.map((entry) => entry.seq!);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it("answers NOT_FOUND for an unknown order", async () => {
    const error = await expectTrpcError(() => admin.admin.orders.get.query({ orderId: "00000000-0000-4000-8000-000000000000" }));
    expect(error.data?.httpStatus).toBe(404);
  });
});

describe("admin.orders.cancel", () => {
  it("voids an authorised order at the provider, gives the stock back and announces it", async () => {
    const before = await stockOf(t.database.db, "LAMP");
    const order = await placeOrder({ lines: [{ sku: "LAMP", quantity: 2 }] });
    expect(order.status).toBe("authorised");
    expect(await stockOf(t.database.db, "LAMP")).toBe(before - 2);

    const cancelled = await admin.admin.orders.cancel.mutate({ orderId: order.id, reason: "customer changed their mind" });
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.payment?.status).toBe("voided");
    expect(await stockOf(t.database.db, "LAMP")).toBe(before);
    const atProvider = await t.app.services.payments.findAuthorization({ reference: order.number });
    expect(atProvider).toMatchObject({ status: "voided", capturedAmount: 0 });

    const events = await t.database.db.selectFrom("outbox_event").select("type").where("aggregate_id", "=", order.id).execute();
    expect(events.map((e) => e.type)).toContain("order.cancelled");
    const audit = await auditOf(order.id);
    expect(audit.find((e) => e.action === "order.cancelled")).toMatchObject({
      actor: "admin:alice",
      origin: { ip: "127.0.0.1", userAgent: "admin-test/1.0" },
      data: { from: "authorised", to: "cancelled", reason: "customer changed their mind", voided: true },
    });
    expect(audit.find((e) => e.action === "payment.voided")).toMatchObject({ actor: "admin:alice" });
    expect(audit.filter((e) => e.action === "inventory.released")).toHaveLength(1);
  });

  it("refuses to cancel twice, and refuses a captured order with a typed error saying to refund it", async () => {
    const order = await placeOrder();
    await admin.admin.orders.cancel.mutate({ orderId: order.id, reason: "duplicate order" });
    const again = await expectTrpcError(() => admin.admin.orders.cancel.mutate({ orderId: order.id, reason: "duplicate order" }));
    expect(again.data).toMatchObject({ appCode: "ILLEGAL_TRANSITION", httpStatus: 409 });

    const shipped = await placeOrder();
    await admin.admin.orders.fulfil.mutate({ orderId: shipped.id });
    const captured = await expectTrpcError(() => admin.admin.orders.cancel.mutate({ orderId: shipped.id, reason: "too late" }));
    expect(captured.data).toMatchObject({ appCode: "ORDER_NEEDS_REFUND", httpStatus: 409 });
    expect(captured.message).toMatch(/refund it instead/);
  });

  it("requires a reason", async () => {
    const order = await placeOrder();
    const error = await expectTrpcError(() => admin.admin.orders.cancel.mutate({ orderId: order.id, reason: " " }));
    expect(error.data?.httpStatus).toBe(400);
  });
});

describe("admin.orders.fulfil", () => {
  it("captures an authorised order at the provider, then marks it fulfilled", async () => {
    const order = await placeOrder();
    const fulfilled = await admin.admin.orders.fulfil.mutate({ orderId: order.id });
    expect(fulfilled.status).toBe("fulfilled");
    expect(fulfilled.payment?.status).toBe("captured");
    expect(await t.app.services.payments.findAuthorization({ reference: order.number })).toMatchObject({ status: "captured", capturedAmount: order.total });
    const audit = await auditOf(order.id);
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(["payment.captured", "order.captured", "order.fulfilled"]));
    expect(audit.find((e) => e.action === "order.fulfilled")).toMatchObject({ actor: "admin:alice", data: { from: "captured", capturedNow: true } });
    const again = await expectTrpcError(() => admin.admin.orders.fulfil.mutate({ orderId: order.id }));
    expect(again.data).toMatchObject({ appCode: "ILLEGAL_TRANSITION" });
  });
});

describe("admin.orders.refund", () => {
  async function shippedOrder() {
    const order = await placeOrder({ lines: [{ sku: "TOTE", quantity: 1 }] });
    await admin.admin.orders.fulfil.mutate({ orderId: order.id });
    return order;
  }

  async function paymentOf(orderId: string) {
    return t.database.db.selectFrom("payment").selectAll().where("order_id", "=", orderId).executeTakeFirstOrThrow();
  }

  it("refunds part, then the rest, moving the order through partially_refunded to refunded", async () => {
    const order = await shippedOrder();
    const partial = await admin.admin.orders.refund.mutate({ orderId: order.id, amount: 500, reason: "scratched" });
    expect(partial.status).toBe("partially_refunded");
    expect(await paymentOf(order.id)).toMatchObject({ refunded_amount: 500, captured_amount: order.total, status: "captured" });

    const rest = await admin.admin.orders.refund.mutate({ orderId: order.id, amount: order.total - 500, reason: "returned" });
    expect(rest.status).toBe("refunded");
    expect(rest.payment?.status).toBe("refunded");
    expect(await paymentOf(order.id)).toMatchObject({ refunded_amount: order.total });
    expect(await t.app.services.payments.findAuthorization({ reference: order.number })).toMatchObject({ refundedAmount: order.total });

    const events = await t.database.db.selectFrom("outbox_event").select(["type", "payload"]).where("aggregate_id", "=", order.id).where("type", "=", "order.refunded").execute();
    expect(events.map((e) => e.payload)).toEqual([
      expect.objectContaining({ amount: 500, refundedTotal: 500, isFull: false }),
      expect.objectContaining({ amount: order.total - 500, refundedTotal: order.total, isFull: true }),
    ]);
    const audit = await auditOf(order.id);
    // Each refund is audited with its own id (its provider key), stored before the provider was called.
    const refunds = audit.filter((e) => e.action === "payment.refunded").map((e) => e.data);
    expect(refunds).toEqual([
      expect.objectContaining({ amount: 500, refundId: expect.any(String), reason: "scratched" }),
      expect.objectContaining({ amount: order.total - 500, refundId: expect.any(String), reason: "returned" }),
    ]);
    expect(new Set(refunds.map((data) => (data as { refundId: string }).refundId)).size).toBe(2);
    expect(audit.filter((e) => e.action.startsWith("order.") && e.action.endsWith("refunded")).map((e) => [e.action, e.actor])).toEqual([
      ["order.partially_refunded", "admin:alice"],
      ["order.refunded", "admin:alice"],
    ]);
    const more = await expectTrpcError(() => admin.admin.orders.refund.mutate({ orderId: order.id, amount: 1, reason: "again" }));
    expect(more.data).toMatchObject({ appCode: "ILLEGAL_TRANSITION" });
  });

  it("refuses more than was captured minus already refunded, and changes nothing", async () => {
    const order = await shippedOrder();
    const tooMuch = await expectTrpcError(() => admin.admin.orders.refund.mutate({ orderId: order.id, amount: order.total + 1, reason: "oops" }));
    expect(tooMuch.data).toMatchObject({ appCode: "REFUND_TOO_LARGE", httpStatus: 422 });
    expect(tooMuch.message).toContain(`At most ${order.total}`);

    await admin.admin.orders.refund.mutate({ orderId: order.id, amount: 1000, reason: "partial" });
    const overRest = await expectTrpcError(() => admin.admin.orders.refund.mutate({ orderId: order.id, amount: order.total - 999, reason: "oops" }));
    expect(overRest.data).toMatchObject({ appCode: "REFUND_TOO_LARGE" });
    expect(await paymentOf(order.id)).toMatchObject({ refunded_amount: 1000 });
    expect(await t.app.services.payments.findAuthorization({ reference: order.number })).toMatchObject({ refundedAmount: 1000 });
  });

  it("refuses to refund an order that was only authorised: cancel it instead", async () => {
    const order = await placeOrder();
    const error = await expectTrpcError(() => admin.admin.orders.refund.mutate({ orderId: order.id, amount: 100, reason: "nothing taken" }));
    expect(error.data).toMatchObject({ appCode: "ILLEGAL_TRANSITION" });
    expect(error.message).toMatch(/cancel it instead/);
  });

  it("finishes a refund whose answer was lost by repeating it, never refunded twice, and blocks another amount with REFUND_PENDING until then", async () => {
    const order = await shippedOrder();
    const payments = t.app.services.payments;
    // The processor refunds, but its answer never reaches us (a timeout after the fact).
    const answerLost: PaymentProvider = {
      name: payments.name,
      authorize: (input) => payments.authorize(input),
      capture: (input) => payments.capture(input),
      void: (input) => payments.void(input),
      findAuthorization: (input) => payments.findAuthorization(input),
      refund: async (input) => {
        await payments.refund(input);
        throw new PaymentProviderUnavailableError("the answer was lost");
      },
    };
    const acting = { db: t.database.db, orderId: order.id, actor: "admin:alice", origin: {} };
    await expect(OrderAdmin.refund({ ...acting, payments: answerLost, amount: 700, reason: "dented" })).rejects.toMatchObject({ code: "PAYMENT_UNAVAILABLE" });
    expect(await payments.findAuthorization({ reference: order.number })).toMatchObject({ refundedAmount: 700 });

    const other = await expectTrpcError(() => admin.admin.orders.refund.mutate({ orderId: order.id, amount: 300, reason: "another" }));
    expect(other.data).toMatchObject({ appCode: "REFUND_PENDING", httpStatus: 409 });
    expect(other.message).toContain("repeat that refund");

    const finished = await admin.admin.orders.refund.mutate({ orderId: order.id, amount: 700, reason: "dented" });
    expect(finished.status).toBe("partially_refunded");
    // The provider replayed the same refund (same key): 700 refunded once, as our records say.
    expect(await payments.findAuthorization({ reference: order.number })).toMatchObject({ refundedAmount: 700 });
    expect(await paymentOf(order.id)).toMatchObject({ refunded_amount: 700 });
    const later = await admin.admin.orders.refund.mutate({ orderId: order.id, amount: 300, reason: "another" });
    expect(later.status).toBe("partially_refunded");
    expect(await payments.findAuthorization({ reference: order.number })).toMatchObject({ refundedAmount: 1000 });
  });

  it("never refunds more than was captured when 10 partial refunds race", async () => {
    const order = await shippedOrder();
    const share = Math.floor(order.total / 4) + 1;
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => admin.admin.orders.refund.mutate({ orderId: order.id, amount: share, reason: `race ${i}` })));
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(3);
    for (const lost of results.filter((r): r is PromiseRejectedResult => r.status === "rejected")) {
      expect((lost.reason as { data?: { appCode?: string } }).data?.appCode).toBe("REFUND_TOO_LARGE");
    }
    const payment = await paymentOf(order.id);
    expect(payment.refunded_amount).toBe(3 * share);
    expect(payment.refunded_amount).toBeLessThanOrEqual(payment.captured_amount);
    // The provider refunded exactly what our records say: no refund happened that the database forgot.
    expect(await t.app.services.payments.findAuthorization({ reference: order.number })).toMatchObject({ refundedAmount: 3 * share });
    expect((await t.client.order.get.query({ orderId: order.id })).status).toBe("partially_refunded");
  });
});

describe("the audit chain after all of it", () => {
  it("verifies from the genesis value to the head", async () => {
    const verdict = await Audit.verifyChain(t.database.db);
    expect(verdict).toMatchObject({ ok: true });
    expect(verdict.ok && verdict.rows).toBeGreaterThan(100);
  });
});
