// An operator's actions on orders (OrderAdmin.cancel, fulfil, refund) against real PostgreSQL with the fake provider:
// cancel voids and gives the stock back, fulfil captures, refunds move an order through partially_refunded to
// refunded, never beyond what was captured (even racing), and a refund whose answer was lost is finished by repeating
// it under its own id, never refunded twice. (Authentication, inputs and HTTP: the API's admin.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppError, Audit, Order, OrderAdmin, PaymentProviderUnavailableError, type PaymentProvider } from "../src/index.ts";
import { checkout, createFakePaymentProvider, createTestDatabase, paymentsOf, setStock, stockOf, type TestDatabase, refusal } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  await setStock(database.db, "LAMP", 100);
  await setStock(database.db, "TOTE", 100);
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;
const ALICE = { actor: "admin:alice", origin: { ip: "127.0.0.1", userAgent: "admin-test/1.0" } };
const fake = createFakePaymentProvider();

/** An order authorised, not yet captured (capture waits for fulfilment). */
async function authorisedOrder(lines = [{ sku: "LAMP", quantity: 2 }]) {
  const { row } = await checkout(db(), fake, { lines, captureMode: "on_fulfilment" });
  expect(row!.status).toBe("authorised");
  return row!;
}

async function shippedOrder() {
  const order = await authorisedOrder([{ sku: "TOTE", quantity: 1 }]);
  await OrderAdmin.fulfil({ db: db(), payments: fake, orderId: order.id, ...ALICE });
  return order;
}

const auditOf = (orderId: string) => Audit.listForOrder(db(), orderId);

describe("OrderAdmin.cancel", () => {
  it("voids an authorised order at the provider, gives the stock back and announces it", async () => {
    const before = await stockOf(db(), "LAMP");
    const order = await authorisedOrder();
    expect(await stockOf(db(), "LAMP")).toBe(before - 2);

    const cancelled = await OrderAdmin.cancel({ db: db(), payments: fake, orderId: order.id, reason: "customer changed their mind", ...ALICE });
    expect(cancelled).toMatchObject({ status: "cancelled", payment: { status: "voided" } });
    expect(await stockOf(db(), "LAMP")).toBe(before);
    expect(fake.authorizationOf(order.number)).toMatchObject({ status: "voided", capturedAmount: 0 });
    const events = await db().selectFrom("outbox_event").select("type").where("aggregate_id", "=", order.id).execute();
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

  it("refuses to cancel twice, and refuses a captured order with ORDER_NEEDS_REFUND", async () => {
    const order = await authorisedOrder();
    await OrderAdmin.cancel({ db: db(), payments: fake, orderId: order.id, reason: "duplicate order", ...ALICE });
    expect((await refusal(OrderAdmin.cancel({ db: db(), payments: fake, orderId: order.id, reason: "duplicate order", ...ALICE }))).code).toBe("ILLEGAL_TRANSITION");

    const shipped = await shippedOrder();
    const captured = await refusal(OrderAdmin.cancel({ db: db(), payments: fake, orderId: shipped.id, reason: "too late", ...ALICE }));
    expect(captured.code).toBe("ORDER_NEEDS_REFUND");
    expect(captured.message).toMatch(/refund it instead/);
  });

  it("changes nothing when the provider cannot be reached to void", async () => {
    const before = await stockOf(db(), "LAMP");
    const order = await authorisedOrder();
    fake.failNext("void");
    expect((await refusal(OrderAdmin.cancel({ db: db(), payments: fake, orderId: order.id, reason: "later", ...ALICE }))).code).toBe("PAYMENT_UNAVAILABLE");
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("authorised");
    expect(await stockOf(db(), "LAMP")).toBe(before - 2);
  });
});

describe("OrderAdmin.fulfil", () => {
  it("captures an authorised order at the provider, then marks it fulfilled", async () => {
    const order = await authorisedOrder();
    const fulfilled = await OrderAdmin.fulfil({ db: db(), payments: fake, orderId: order.id, ...ALICE });
    expect(fulfilled).toMatchObject({ status: "fulfilled", payment: { status: "captured" } });
    expect(fake.authorizationOf(order.number)).toMatchObject({ status: "captured", capturedAmount: order.total });
    const audit = await auditOf(order.id);
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(["payment.captured", "order.captured", "order.fulfilled"]));
    expect(audit.find((e) => e.action === "order.fulfilled")).toMatchObject({ actor: "admin:alice", data: { from: "captured", capturedNow: true } });
    expect((await refusal(OrderAdmin.fulfil({ db: db(), payments: fake, orderId: order.id, ...ALICE }))).code).toBe("ILLEGAL_TRANSITION");
  });
});

describe("OrderAdmin.refund", () => {
  const refund = (orderId: string, amount: number, reason: string, payments: PaymentProvider = fake) =>
    OrderAdmin.refund({ db: db(), payments, orderId, amount, reason, ...ALICE });
  const paymentOf = async (orderId: string) => (await paymentsOf(db(), orderId))[0]!;

  it("refunds part, then the rest, moving the order through partially_refunded to refunded", async () => {
    const order = await shippedOrder();
    expect((await refund(order.id, 500, "scratched")).status).toBe("partially_refunded");
    expect(await paymentOf(order.id)).toMatchObject({ refunded_amount: 500, captured_amount: order.total, status: "captured" });

    const rest = await refund(order.id, order.total - 500, "returned");
    expect(rest).toMatchObject({ status: "refunded", payment: { status: "refunded" } });
    expect(await paymentOf(order.id)).toMatchObject({ refunded_amount: order.total });
    expect(fake.authorizationOf(order.number)).toMatchObject({ refundedAmount: order.total });

    const events = await db().selectFrom("outbox_event").select("payload").where("aggregate_id", "=", order.id).where("type", "=", "order.refunded").execute();
    expect(events.map((e) => e.payload)).toEqual([
      expect.objectContaining({ amount: 500, refundedTotal: 500, isFull: false }),
      expect.objectContaining({ amount: order.total - 500, refundedTotal: order.total, isFull: true }),
    ]);
    // Each refund has its own id, which is its provider key.
    const refunds = (await auditOf(order.id)).filter((e) => e.action === "payment.refunded").map((e) => e.data as { refundId: string; amount: number });
    expect(refunds.map((data) => data.amount)).toEqual([500, order.total - 500]);
    expect(new Set(refunds.map((data) => data.refundId)).size).toBe(2);
    const keys = fake
      .callsTo("refund")
      .slice(-2)
      .map((call) => call.input.idempotencyKey);
    expect(keys).toEqual(refunds.map((data) => `refund_${data.refundId}`));
    expect((await refusal(refund(order.id, 1, "again"))).code).toBe("ILLEGAL_TRANSITION");
  });

  it("refuses more than was captured minus already refunded, and changes nothing", async () => {
    const order = await shippedOrder();
    const tooMuch = await refusal(refund(order.id, order.total + 1, "oops"));
    expect(tooMuch.code).toBe("REFUND_TOO_LARGE");
    expect(tooMuch.message).toContain(`At most ${order.total}`);
    await refund(order.id, 1000, "partial");
    expect((await refusal(refund(order.id, order.total - 999, "oops"))).code).toBe("REFUND_TOO_LARGE");
    expect(await paymentOf(order.id)).toMatchObject({ refunded_amount: 1000 });
    expect(fake.authorizationOf(order.number)).toMatchObject({ refundedAmount: 1000 });
  });

  it("refuses to refund an order that was only authorised: cancel it instead", async () => {
    const order = await authorisedOrder();
    const error = await refusal(refund(order.id, 100, "nothing taken"));
    expect(error.code).toBe("ILLEGAL_TRANSITION");
    expect(error.message).toMatch(/cancel it instead/);
  });

  it("finishes a refund whose answer was lost by repeating it, never refunded twice, and blocks another amount with REFUND_PENDING until then", async () => {
    const order = await shippedOrder();
    // The provider refunds, but its answer never reaches us (a timeout after the fact).
    const answerLost: PaymentProvider = {
      ...fake,
      refund: async (input) => {
        await fake.refund(input);
        throw new PaymentProviderUnavailableError("the answer was lost");
      },
    };
    expect((await refusal(refund(order.id, 700, "dented", answerLost))).code).toBe("PAYMENT_UNAVAILABLE");
    expect(fake.authorizationOf(order.number)).toMatchObject({ refundedAmount: 700 });

    const other = await refusal(refund(order.id, 300, "another"));
    expect(other.code).toBe("REFUND_PENDING");
    expect(other.message).toContain("repeat that refund");

    expect((await refund(order.id, 700, "dented")).status).toBe("partially_refunded");
    // The provider replayed the same refund (same key): 700 refunded once, as our records say.
    expect(fake.authorizationOf(order.number)).toMatchObject({ refundedAmount: 700 });
    expect(await paymentOf(order.id)).toMatchObject({ refunded_amount: 700 });
    expect((await refund(order.id, 300, "another")).status).toBe("partially_refunded");
    expect(fake.authorizationOf(order.number)).toMatchObject({ refundedAmount: 1000 });
  });

  it("never refunds more than was captured when 10 partial refunds race", async () => {
    const order = await shippedOrder();
    const share = Math.floor(order.total / 4) + 1;
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => refund(order.id, share, `race ${i}`)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    for (const lost of results.filter((r): r is PromiseRejectedResult => r.status === "rejected")) expect((lost.reason as AppError).code).toBe("REFUND_TOO_LARGE");
    const payment = await paymentOf(order.id);
    expect(payment.refunded_amount).toBe(3 * share);
    expect(fake.authorizationOf(order.number)).toMatchObject({ refundedAmount: 3 * share });
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("partially_refunded");
  });
});

describe("the audit chain after all of it", () => {
  it("verifies from the genesis value to the head", async () => {
    expect(await Audit.verifyChain(db())).toMatchObject({ ok: true });
  });
});
