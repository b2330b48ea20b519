// A purchase end to end over HTTP against real PostgreSQL and the payment sandbox.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARDS, expectTrpcError, readyCart, startTestApp, US_ADDRESS, type TestApp } from "./support/app.ts";
import { stockOf } from "./support/stock.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe("catalog", () => {
  it("lists at least 12 products, each with a description, a picture and a price", async () => {
    const { products } = await t.client.catalog.list.query();
    expect(products.length).toBeGreaterThanOrEqual(12);
    for (const product of products) {
      expect(product.description.length).toBeGreaterThan(10);
      expect(product.image).toMatch(/^\/images\/products\/[a-z0-9-]+\.svg$/);
      expect(product.priceFrom).toBeGreaterThan(0);
      expect(product.variants.length).toBeGreaterThan(0);
    }
    expect(products.some((p) => p.variants.length > 1 && "size" in (p.variants[0]?.options ?? {}))).toBe(true);
  });

  it("gets one product with its variants in the requested currency", async () => {
    const tee = await t.client.catalog.get.query({ productId: "everyday-tee", currency: "EUR" });
    expect(tee.currency).toBe("EUR");
    expect(tee.variants.map((v) => v.sku)).toContain("TEE-BLA-M");
    expect(tee.variants.every((v) => v.price === 2200)).toBe(true);
  });

  it("answers NOT_FOUND for an unknown product", async () => {
    const error = await expectTrpcError(() => t.client.catalog.get.query({ productId: "no-such-thing" }));
    expect(error.data?.httpStatus).toBe(404);
  });
});

describe("cart", () => {
  it("adds, merges, changes and removes lines, pricing everything on the server", async () => {
    const cart = await t.client.cart.create.mutate({ currency: "USD" });
    expect(cart.lines).toEqual([]);
    let updated = await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "TEE-BLA-M", quantity: 1 });
    updated = await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "TEE-BLA-M", quantity: 2 });
    expect(updated.lines).toHaveLength(1);
    expect(updated.lines[0]).toMatchObject({ sku: "TEE-BLA-M", quantity: 3, unitPrice: 2400, lineTotal: 7200 });
    updated = await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "MUG-SLA", quantity: 1 });
    expect(updated.subtotal).toBe(7200 + 1600);
    const mugLine = updated.lines.find((l) => l.sku === "MUG-SLA")!;
    updated = await t.client.cart.updateLine.mutate({ cartId: cart.id, lineId: mugLine.id, quantity: 4 });
    expect(updated.lines.find((l) => l.sku === "MUG-SLA")?.quantity).toBe(4);
    updated = await t.client.cart.removeLine.mutate({ cartId: cart.id, lineId: mugLine.id });
    expect(updated.lines.map((l) => l.sku)).toEqual(["TEE-BLA-M"]);
    expect(updated.itemCount).toBe(3);
    const fetched = await t.client.cart.get.query({ cartId: cart.id });
    expect(fetched).toEqual(updated);
  });

  it("refuses more than the stock on hand with OUT_OF_STOCK", async () => {
    const cart = await t.client.cart.create.mutate({});
    const error = await expectTrpcError(() => t.client.cart.addLine.mutate({ cartId: cart.id, sku: "PRINT", quantity: 6 }));
    expect(error.data?.httpStatus).toBe(409);
    expect(error.data).toMatchObject({ appCode: "OUT_OF_STOCK" });
    expect(error.message).toMatch(/Only 5/);
  });
});

describe("checkout", () => {
  it("prices shipping options for the cart's destination", async () => {
    const cartId = await readyCart(t.client);
    const options = await t.client.checkout.listShippingOptions.query({ cartId });
    expect(options.map((o) => o.id)).toEqual(["standard", "express"]);
    expect(options[0]?.price).toBe(599);
  });

  it("refuses to quote an incomplete cart and says what is missing", async () => {
    const cart = await t.client.cart.create.mutate({});
    const error = await expectTrpcError(() => t.client.checkout.quote.mutate({ cartId: cart.id }));
    expect(error.data).toMatchObject({ appCode: "CART_INCOMPLETE", httpStatus: 412 });
    expect(error.message).toMatch(/lines, email, shippingAddress, shippingOption/);
  });

  it("places an order that charges exactly the quoted total and shows it again on reload", async () => {
    const before = await stockOf(t.database.db, "TEE-BLA-M");
    const cartId = await readyCart(t.client, [{ sku: "TEE-BLA-M", quantity: 2 }]);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    expect(quote.subtotal).toBe(4800);
    expect(quote.shipping).toBe(599);
    expect(quote.tax).toBe(Math.floor(((4800 + 599) * 725 + 5000) / 10000));
    expect(quote.total).toBe(quote.subtotal + quote.shipping + quote.tax);

    const token = await t.tokenize(CARDS.success);
    const order = await t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: token });
    expect(order.status).toBe("captured");
    expect(order.number).toMatch(/^\d{6,}$/);
    expect(order.total).toBe(quote.total);
    expect(order.payment).toMatchObject({ status: "captured", amount: quote.total, cardBrand: "visa", cardLast4: "4242" });
    expect(order.shippingAddress).toMatchObject(US_ADDRESS);

    // Jobs are off here, so the confirmation email is still queued.
    expect(await t.client.order.get.query({ orderId: order.id })).toEqual({ ...order, confirmationEmail: "sending" });
    expect(await stockOf(t.database.db, "TEE-BLA-M")).toBe(before - 2);

    const stored = await t.database.db.selectFrom("order").selectAll().where("id", "=", order.id).executeTakeFirstOrThrow();
    expect(stored.total).toBe(quote.total);
    const audit = await t.database.db.selectFrom("audit_log").select(["entity", "action"]).execute();
    expect(audit).toEqual(
      expect.arrayContaining([
        { entity: "order", action: "order.created" },
        { entity: "order", action: "order.authorised" },
        { entity: "payment", action: "payment.authorised" },
        { entity: "payment", action: "payment.captured" },
        { entity: "order", action: "order.captured" },
      ]),
    );
    const created = await t.database.db
      .selectFrom("audit_log")
      .select(["actor", "origin"])
      .where("action", "=", "order.created")
      .where("entity_id", "=", order.id)
      .executeTakeFirstOrThrow();
    expect(created.actor).toBe("shopper");
    expect(created.origin).toMatchObject({ ip: expect.stringMatching(/127\.0\.0\.1/) });
    const events = await t.database.db.selectFrom("outbox_event").select(["type", "aggregate_id"]).where("aggregate_id", "=", order.id).execute();
    expect(events.map((e) => e.type).sort()).toEqual(["order.captured", "order.placed"]);

    const closed = await expectTrpcError(() => t.client.cart.addLine.mutate({ cartId, sku: "MUG-SLA", quantity: 1 }));
    expect(closed.data).toMatchObject({ appCode: "CART_CLOSED", httpStatus: 409 });
    const again = await expectTrpcError(async () => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) }));
    expect(again.data).toMatchObject({ appCode: "ALREADY_ORDERED" });
  });

  it("keeps the cart after a declined card, gives the stock back, and accepts another card", async () => {
    const before = await stockOf(t.database.db, "HOOD-CHA-M");
    const cartId = await readyCart(t.client, [{ sku: "HOOD-CHA-M", quantity: 1 }]);
    const quote = await t.client.checkout.quote.mutate({ cartId });

    const declined = await expectTrpcError(async () => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.declined) }));
    expect(declined.data).toMatchObject({ appCode: "PAYMENT_DECLINED", httpStatus: 402 });
    expect(declined.message).toBe("Your card was declined.");
    expect(await stockOf(t.database.db, "HOOD-CHA-M")).toBe(before);

    const poor = await expectTrpcError(async () => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.insufficientFunds) }));
    expect(poor.data).toMatchObject({ appCode: "PAYMENT_DECLINED" });
    expect(poor.message).toMatch(/insufficient funds/);

    const cart = await t.client.cart.get.query({ cartId });
    expect(cart.status).toBe("open");
    expect(cart.lines).toHaveLength(1);

    const order = await t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) });
    expect(order.status).toBe("captured");
    expect(await stockOf(t.database.db, "HOOD-CHA-M")).toBe(before - 1);
    const failed = await t.database.db.selectFrom("order").select("status").where("cart_id", "=", cartId).where("status", "=", "payment_failed").execute();
    expect(failed).toHaveLength(2);
    const audit = await t.database.db.selectFrom("audit_log").select("action").where("action", "=", "payment.declined").execute();
    expect(audit.length).toBeGreaterThanOrEqual(2);
  });

  it("refuses an order whose price changed since the quote, and charges nothing", async () => {
    const cartId = await readyCart(t.client, [{ sku: "NOTE-A5", quantity: 1 }]);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    await t.database.db.updateTable("price").set({ amount: 3900 }).where("sku", "=", "NOTE-A5").where("currency", "=", "USD").execute();
    try {
      const error = await expectTrpcError(async () => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) }));
      expect(error.data).toMatchObject({ appCode: "PRICE_CHANGED", httpStatus: 409 });
      const details = (error.data as unknown as { details: { lines: { sku: string; field: string; was: number; now: number }[] } }).details;
      expect(details.lines).toContainEqual(expect.objectContaining({ sku: "NOTE-A5", field: "unitPrice", was: 3400, now: 3900 }));
      const orders = await t.database.db.selectFrom("order").select("id").where("cart_id", "=", cartId).execute();
      expect(orders).toHaveLength(0);
    } finally {
      await t.database.db.updateTable("price").set({ amount: 3400 }).where("sku", "=", "NOTE-A5").where("currency", "=", "USD").execute();
    }
  });

  it("refuses an expired quote", async () => {
    const cartId = await readyCart(t.client, [{ sku: "TOTE", quantity: 1 }]);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    await t.database.db
      .updateTable("quote")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", quote.id)
      .execute();
    const error = await expectTrpcError(async () => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) }));
    expect(error.data).toMatchObject({ appCode: "QUOTE_EXPIRED", httpStatus: 412 });
  });
});
