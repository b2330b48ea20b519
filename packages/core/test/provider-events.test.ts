// ProviderEvents.receive against real PostgreSQL with the fake provider: a verified provider event settles its order
// once (a redelivery is a duplicate that changes nothing), an event about another authorisation or an unknown order
// changes nothing, an event that only reports is acknowledged, and a body that is not an event is refused unstored.
// (Signatures, timestamps and HTTP are the API's: packages/api/test/payment-webhooks.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, Audit, Order, ProviderEvents } from "../src/index.ts";
import { checkout, createFakePaymentProvider, createTestDatabase, paymentsOf, stockOf, type FakePaymentProvider, type TestDatabase } from "./support/index.ts";

const SKU = "TEE-BLA-M";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;
let counter = 0;

/** A provider event about `reference`'s authorisation as the fake provider holds it now. */
function eventAbout(fake: FakePaymentProvider, reference: string, type: string, change: Record<string, unknown> = {}) {
  const state = fake.authorizationOf(reference)!;
  const authorization = {
    id: state.authorizationId,
    status: state.status,
    amount: state.amount,
    currency: state.currency,
    reference,
    capturedAmount: state.capturedAmount,
    refundedAmount: state.refundedAmount,
    card: { brand: state.card.brand, last4: state.card.last4 },
    failureCode: state.failureCode,
    ...change,
  };
  counter += 1;
  return { id: `evt_core_${counter}_${Date.now()}`, type, created: Math.floor(Date.now() / 1000), data: { authorization } };
}

/** A 3-D Secure order waiting on the shopper, and the fake provider that holds its authorisation. */
async function waitingOrder() {
  const fake = createFakePaymentProvider();
  fake.willAuthorize({ status: "requires_action" });
  const { row } = await checkout(db(), fake);
  return { fake, order: row! };
}

const receive = (fake: FakePaymentProvider, event: unknown) => ProviderEvents.receive({ db: db(), payments: fake, captureMode: "immediate", event });

/** Everything an event could change about an order. */
async function snapshot(orderId: string) {
  return {
    order: await db().selectFrom("order").select(["status", "updated_at"]).where("id", "=", orderId).executeTakeFirstOrThrow(),
    payments: await paymentsOf(db(), orderId),
    audit: await Audit.listForEntity(db(), "order", orderId),
    stock: await stockOf(db(), SKU),
  };
}

describe("ProviderEvents.receive", () => {
  it("settles the order from an authorisation.succeeded event, and answers its redelivery as a duplicate that changes nothing", async () => {
    const { fake, order } = await waitingOrder();
    fake.setState(order.number, { status: "authorized" });
    const event = eventAbout(fake, order.number, "authorization.succeeded");
    expect(await receive(fake, event)).toEqual({ isDuplicate: false, outcome: "authorised" });
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("captured");
    expect(fake.callsTo("capture")).toHaveLength(1);
    const trail = await Audit.listForEntity(db(), "order", order.id);
    expect(trail.map((row) => row.action)).toEqual(["order.created", "order.authorised", "order.captured"]);
    // The audit names who said so: the provider, through its webhook.
    expect(trail.filter((row) => row.action !== "order.created").map((row) => row.actor)).toEqual(["provider", "provider"]);

    const before = await snapshot(order.id);
    expect(await receive(fake, event)).toEqual({ isDuplicate: true });
    expect(await snapshot(order.id)).toEqual(before);
    expect(fake.callsTo("capture")).toHaveLength(1);
  });

  it("fails the order and gives its stock back on an authorisation.failed event", async () => {
    const before = await stockOf(db(), SKU);
    const { fake, order } = await waitingOrder();
    expect(await stockOf(db(), SKU)).toBe(before - 2);
    fake.setState(order.number, { status: "failed", failureCode: "authentication_failed" });
    expect(await receive(fake, eventAbout(fake, order.number, "authorization.failed"))).toEqual({ isDuplicate: false, outcome: "failed" });
    expect(await Order.get({ db: db(), orderId: order.id })).toMatchObject({ status: "payment_failed", payment: { declineCode: "authentication_failed" } });
    expect(await stockOf(db(), SKU)).toBe(before);
  });

  it("ignores an event whose authorisation is not the order's payment", async () => {
    const { fake, order } = await waitingOrder();
    const before = await snapshot(order.id);
    const event = eventAbout(fake, order.number, "authorization.succeeded", { id: "auth_not_this_orders_payment", status: "authorized" });
    expect(await receive(fake, event)).toEqual({ isDuplicate: false, outcome: "ignored", reason: "the authorisation is not this order's payment" });
    expect(await snapshot(order.id)).toEqual(before);
  });

  it("records and acknowledges an event for an order it does not know, and one that only reports", async () => {
    const fake = createFakePaymentProvider();
    const unknown = {
      id: `evt_core_unknown_${Date.now()}`,
      type: "authorization.succeeded",
      created: Math.floor(Date.now() / 1000),
      data: { authorization: { id: "auth_elsewhere", status: "authorized", amount: 100, currency: "USD", reference: "not-an-order", card: { brand: "visa", last4: "4242" } } },
    };
    expect(await receive(fake, unknown)).toEqual({ isDuplicate: false, outcome: "ignored", reason: "no order has this reference" });
    const report = { id: `evt_core_report_${Date.now()}`, type: "authorization.captured", created: Math.floor(Date.now() / 1000), data: {} };
    expect(await receive(fake, report)).toEqual({ isDuplicate: false, outcome: "acknowledged" });
    const stored = await db().selectFrom("payment_webhook_event").select(["id", "processed_at"]).where("id", "in", [unknown.id, report.id]).execute();
    expect(stored).toHaveLength(2);
    expect(stored.every((row) => row.processed_at !== null)).toBe(true);
    expect(await receive(fake, report)).toEqual({ isDuplicate: true });
  });

  it("refuses a body that is not an event with BAD_INPUT, storing nothing", async () => {
    const fake = createFakePaymentProvider();
    const before = (await db().selectFrom("payment_webhook_event").select("id").execute()).length;
    for (const body of ["not json", { hello: "world" }, { id: "evt_x", type: "authorization.succeeded", created: 1, data: { authorization: { id: "auth_x" } } }]) {
      const error = await receive(fake, body).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe("BAD_INPUT");
    }
    expect((await db().selectFrom("payment_webhook_event").select("id").execute()).length).toBe(before);
  });

  it("processes again an event whose first processing stopped half way (stored, never marked processed)", async () => {
    const { fake, order } = await waitingOrder();
    fake.setState(order.number, { status: "authorized" });
    const event = eventAbout(fake, order.number, "authorization.succeeded");
    await db()
      .insertInto("payment_webhook_event")
      .values({ id: event.id, type: event.type, payload: JSON.stringify(event) })
      .execute();
    expect(await receive(fake, event)).toMatchObject({ isDuplicate: false, outcome: "authorised" });
    expect((await Order.get({ db: db(), orderId: order.id })).status).toBe("captured");
  });
});
