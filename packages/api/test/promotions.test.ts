// Promo codes over HTTP against real PostgreSQL: applying and removing, every reason a code is
// refused, tax-inclusive EUR orders, and a code that changes between quote and order. Redemption limits
// under parallel orders are core's rule, tested directly in packages/core/test/promotions.test.ts.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TRPCClientError } from "@trpc/client";
import { Pricing, seedPromotions, type NewPromotion } from "@checkout/core";
import { CARDS, expectTrpcError, readyCart, startTestApp, type TestApp } from "./support/app.ts";
import { ordersOf } from "./support/orders.ts";
import { stockOf } from "./support/stock.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ DB_POOL_MAX: "20" });
});
afterAll(async () => {
  await t?.close();
});

const DAY_MS = 24 * 60 * 60 * 1000;
const DE_ADDRESS = { name: "Emmy Noether", line1: "Unter den Linden 6", city: "Berlin", postalCode: "10117", country: "DE" as const };

/** Inserts a promotion with a unique code (so tests never share one) and returns its code. */
async function createPromotion(overrides: Partial<NewPromotion> = {}): Promise<string> {
  const code = overrides.code ?? `T${randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase()}`;
  await t.database.db
    .insertInto("promotion")
    .values({ id: randomUUID(), kind: "percentage", percent_basis_points: 1000, ...overrides, code })
    .execute();
  return code;
}

async function promotionState(code: string) {
  const promotion = await t.database.db.selectFrom("promotion").selectAll().where("code", "=", code).executeTakeFirstOrThrow();
  const redemptions = await t.database.db.selectFrom("promotion_redemption").selectAll().where("promotion_id", "=", promotion.id).execute();
  return { usedCount: promotion.used_count, redemptions };
}

function appError(error: unknown): { appCode?: string; httpStatus?: number; details?: Record<string, unknown> } {
  expect(error).toBeInstanceOf(TRPCClientError);
  return (error as TRPCClientError<never>).data as unknown as { appCode?: string; httpStatus?: number; details?: Record<string, unknown> };
}

/** Counts calls to the payment provider from now on. */
function countAuthorisations() {
  const spy = vi.spyOn(t.app.services.payments, "authorize");
  return {
    get calls() {
      return spy.mock.calls.length;
    },
    restore: () => spy.mockRestore(),
  };
}

async function readyCartFor(email: string, lines: { sku: string; quantity: number }[]) {
  const cartId = await readyCart(t.client, lines);
  await t.client.checkout.setContact.mutate({ cartId, email });
  return cartId;
}

describe("seed promotions", () => {
  it("loads the demo codes once, leaving existing ones alone", async () => {
    const codes = await t.database.db.selectFrom("promotion").select(["code", "ends_at"]).where("code", "in", ["WELCOME10", "SAVE5", "EURO5", "EXPIRED"]).execute();
    expect(codes.map((c) => c.code).sort()).toEqual(["EURO5", "EXPIRED", "SAVE5", "WELCOME10"]);
    expect(codes.find((c) => c.code === "EXPIRED")!.ends_at!.getTime()).toBeLessThan(Date.now());
    expect(await seedPromotions(t.database.db)).toBe(0);
  });
});

describe("checkout.applyPromoCode and removePromoCode", () => {
  it("applies a code case-insensitively, discounts the quote, and removes it again", async () => {
    const cartId = await readyCartFor(`apply-${randomUUID()}@example.com`, [{ sku: "TEE-BLA-M", quantity: 2 }]);
    const applied = await t.client.checkout.applyPromoCode.mutate({ cartId, code: "  welcome10 " });
    expect(applied.promoCode).toBe("WELCOME10");
    expect((await t.client.cart.get.query({ cartId })).promoCode).toBe("WELCOME10");

    const quote = await t.client.checkout.quote.mutate({ cartId });
    expect(quote).toMatchObject({ subtotal: 4800, discount: 480, promoCode: "WELCOME10", shipping: 599, taxInclusive: false });
    expect(quote.tax).toBe(Math.floor(((4800 - 480 + 599) * 725 + 5000) / 10000));
    expect(quote.total).toBe(4800 - 480 + 599 + quote.tax);
    expect(quote.lines[0]).toMatchObject({ discount: 480 });

    const removed = await t.client.checkout.removePromoCode.mutate({ cartId });
    expect(removed.promoCode).toBeNull();
    const plain = await t.client.checkout.quote.mutate({ cartId });
    expect(plain).toMatchObject({ discount: 0, promoCode: null });
    expect(plain.total).toBe(4800 + 599 + plain.tax);
  });

  it("rejects a malformed code or extra fields before touching the cart", async () => {
    const cartId = await readyCart(t.client);
    const malformed = await expectTrpcError(() => t.client.checkout.applyPromoCode.mutate({ cartId, code: "10% OFF" }));
    expect(malformed.data).toMatchObject({ appCode: "BAD_INPUT", httpStatus: 400 });
    const extra = await expectTrpcError(() => t.client.checkout.applyPromoCode.mutate({ cartId, code: "SAVE5", discount: 5000 } as unknown as { cartId: string; code: string }));
    expect(extra.data).toMatchObject({ appCode: "BAD_INPUT", httpStatus: 400 });
  });

  it.each([
    { name: "unknown", code: async () => "NOSUCHCODE", reason: "unknown", message: /don't recognise the promo code NOSUCHCODE/ },
    { name: "inactive", code: () => createPromotion({ is_active: false }), reason: "inactive", message: /no longer active/ },
    {
      name: "not yet started",
      code: () => createPromotion({ starts_at: new Date(Date.now() + 3 * DAY_MS) }),
      reason: "not_started",
      message: /can be used from \d{4}-\d{2}-\d{2}/,
    },
    { name: "expired", code: async () => "EXPIRED", reason: "expired", message: /EXPIRED expired on \d{4}-\d{2}-\d{2}/ },
    { name: "for another currency", code: async () => "EURO5", reason: "wrong_currency", message: /only valid on EUR orders; your cart is in USD/ },
    { name: "below its minimum", code: async () => "SAVE5", reason: "min_subtotal", message: /at least \$30\.00; add \$6\.00 more/ },
  ])("refuses a code that is $name with PROMO_INVALID and says why", async ({ code, reason, message }) => {
    const cartId = await readyCart(t.client, [{ sku: "TEE-BLA-M", quantity: 1 }]);
    const error = await expectTrpcError(async () => t.client.checkout.applyPromoCode.mutate({ cartId, code: await code() }));
    expect(error.data).toMatchObject({ appCode: "PROMO_INVALID", httpStatus: 422 });
    expect(appError(error).details).toMatchObject({ reason });
    expect(error.message).toMatch(message);
    expect((await t.client.cart.get.query({ cartId })).promoCode).toBeNull();
  });

  it("refuses a used-up code with PROMO_EXHAUSTED", async () => {
    const code = await createPromotion({ usage_limit: 2, used_count: 2 });
    const cartId = await readyCart(t.client);
    const error = await expectTrpcError(() => t.client.checkout.applyPromoCode.mutate({ cartId, code }));
    expect(error.data).toMatchObject({ appCode: "PROMO_EXHAUSTED", httpStatus: 409 });
    expect(error.message).toMatch(/used the maximum number of times/);
  });

  it("accepts SAVE5 once the cart reaches $30", async () => {
    const cartId = await readyCart(t.client, [{ sku: "TEE-BLA-M", quantity: 2 }]);
    await t.client.checkout.applyPromoCode.mutate({ cartId, code: "save5" });
    const quote = await t.client.checkout.quote.mutate({ cartId });
    expect(quote).toMatchObject({ subtotal: 4800, discount: 500, promoCode: "SAVE5" });
  });

  it("checks the code again at quote time: a cart shrunk below the minimum cannot be quoted with it", async () => {
    const cartId = await readyCart(t.client, [{ sku: "TEE-BLA-M", quantity: 2 }]);
    await t.client.checkout.applyPromoCode.mutate({ cartId, code: "SAVE5" });
    const cart = await t.client.cart.get.query({ cartId });
    await t.client.cart.updateLine.mutate({ cartId, lineId: cart.lines[0]!.id, quantity: 1 });
    const error = await expectTrpcError(() => t.client.checkout.quote.mutate({ cartId }));
    expect(error.data).toMatchObject({ appCode: "PROMO_INVALID", httpStatus: 422 });
    expect(error.message).toMatch(/add \$6\.00 more/);
  });
});

describe("tax-inclusive EUR orders", () => {
  it("charges the shown EUR prices minus the discount, with the VAT inside, end to end", async () => {
    const cart = await t.client.cart.create.mutate({ currency: "EUR" });
    await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "TEE-BLA-M", quantity: 2 });
    await t.client.checkout.setContact.mutate({ cartId: cart.id, email: `eur-${randomUUID()}@example.com` });
    await t.client.checkout.setShippingAddress.mutate({ cartId: cart.id, address: DE_ADDRESS });
    await t.client.checkout.setShippingOption.mutate({ cartId: cart.id, optionId: "standard" });
    await t.client.checkout.applyPromoCode.mutate({ cartId: cart.id, code: "EURO5" });
    const before = await promotionState("EURO5");

    const quote = await t.client.checkout.quote.mutate({ cartId: cart.id });
    // 2 × €22.00, €5.00 off, €4.99 standard shipping to Germany; 19 % VAT is inside, not on top.
    expect(quote).toMatchObject({ currency: "EUR", subtotal: 4400, discount: 500, shipping: 499, taxInclusive: true, taxRateBasisPoints: 1900 });
    expect(quote.total).toBe(4400 - 500 + 499);
    expect(quote.tax).toBe(Pricing.taxIncludedIn(4399, 1900));
    expect(quote.tax).toBe(702);

    const order = await t.client.checkout.placeOrder.mutate({ cartId: cart.id, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) });
    expect(order).toMatchObject({ status: "captured", currency: "EUR", total: 4399, tax: 702, discount: 500, promoCode: "EURO5", taxInclusive: true });
    expect(order.payment).toMatchObject({ amount: 4399, currency: "EUR" });
    expect(order.lines.reduce((sum, line) => sum + line.discount, 0)).toBe(500);
    expect(await t.client.order.get.query({ orderId: order.id })).toEqual({ ...order, confirmationEmail: "sending" });

    const stored = await t.database.db.selectFrom("order").selectAll().where("id", "=", order.id).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ subtotal: 4400, discount: 500, shipping: 499, tax: 702, total: 4399, tax_inclusive: true, promo_code: "EURO5" });
    const after = await promotionState("EURO5");
    expect(after.usedCount).toBe(before.usedCount + 1);
    expect(after.redemptions.find((r) => r.order_id === order.id)).toMatchObject({ amount: 500, email: order.email });
  });

  it("keeps USD tax on top of the price", async () => {
    const cartId = await readyCart(t.client, [{ sku: "TEE-BLA-M", quantity: 1 }]);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    expect(quote.taxInclusive).toBe(false);
    expect(quote.total).toBe(quote.subtotal + quote.shipping + quote.tax);
  });
});

describe("a promotion that changes between quote and order", () => {
  it.each([
    { name: "deactivated", change: { is_active: false } },
    { name: "ended", change: { ends_at: new Date(Date.now() - 1000), starts_at: new Date(Date.now() - DAY_MS) } },
  ])("refuses with PRICE_CHANGED when the code was $name, reserving and charging nothing", async ({ change }) => {
    const code = await createPromotion({ percent_basis_points: 2000 });
    const sku = "BOTL-500";
    const cartId = await readyCartFor(`late-${randomUUID()}@example.com`, [{ sku, quantity: 1 }]);
    await t.client.checkout.applyPromoCode.mutate({ cartId, code });
    const quote = await t.client.checkout.quote.mutate({ cartId });
    expect(quote.discount).toBe(440);
    await t.database.db.updateTable("promotion").set(change).where("code", "=", code).execute();
    const stockBefore = await stockOf(t.database.db, sku);
    const token = await t.tokenize(CARDS.success);
    const authorisations = countAuthorisations();
    try {
      const error = await expectTrpcError(() => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: token }));
      expect(error.data).toMatchObject({ appCode: "PRICE_CHANGED", httpStatus: 409 });
      expect(error.message).toMatch(new RegExp(`promo code ${code}`));
      const details = appError(error).details as { totals: { field: string; was: number; now: number }[] };
      expect(details.totals).toContainEqual({ field: "discount", was: 440, now: 0 });
      expect(authorisations.calls).toBe(0);
    } finally {
      authorisations.restore();
    }
    expect(await stockOf(t.database.db, sku)).toBe(stockBefore);
    expect(await ordersOf(t.database.db, [cartId])).toEqual([]);
    const payments = await t.database.db
      .selectFrom("payment")
      .innerJoin("order", "order.id", "payment.order_id")
      .select("payment.id")
      .where("order.cart_id", "=", cartId)
      .execute();
    expect(payments).toEqual([]);
    expect(await promotionState(code)).toEqual({ usedCount: 0, redemptions: [] });
  });

  it("refuses with PROMO_EXHAUSTED when another order took the last use after the quote", async () => {
    const code = await createPromotion({ usage_limit: 1 });
    const cartId = await readyCartFor(`slow-${randomUUID()}@example.com`, [{ sku: "BOTL-750", quantity: 1 }]);
    await t.client.checkout.applyPromoCode.mutate({ cartId, code });
    const quote = await t.client.checkout.quote.mutate({ cartId });
    await t.database.db.updateTable("promotion").set({ used_count: 1 }).where("code", "=", code).execute();
    const stockBefore = await stockOf(t.database.db, "BOTL-750");
    const error = await expectTrpcError(async () => t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) }));
    expect(error.data).toMatchObject({ appCode: "PROMO_EXHAUSTED", httpStatus: 409 });
    expect(await stockOf(t.database.db, "BOTL-750")).toBe(stockBefore);
    expect(await ordersOf(t.database.db, [cartId])).toEqual([]);

    // Removing the code, re-quoting and ordering goes through at full price.
    await t.client.checkout.removePromoCode.mutate({ cartId });
    const fresh = await t.client.checkout.quote.mutate({ cartId });
    const order = await t.client.checkout.placeOrder.mutate({ cartId, quoteId: fresh.id, paymentToken: await t.tokenize(CARDS.success) });
    expect(order).toMatchObject({ discount: 0, promoCode: null });
  });
});
