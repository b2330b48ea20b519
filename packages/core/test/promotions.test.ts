// Promo codes against real PostgreSQL: applying and removing a code, every reason a code is refused, the discount on
// the quote (tax on top in USD, inside in EUR), and the code judged again when the cart changes.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, Cart, Checkout, Pricing, Promotion, seedPromotions, type NewPromotion } from "../src/index.ts";
import { createFakePaymentProvider, createTestDatabase, placeOrder, readyCart, stockOf, type TestDatabase, refusal } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ promotions: true });
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Inserts a promotion with a unique code (so tests never share one) and returns its code. */
async function createPromotion(overrides: Partial<NewPromotion> = {}): Promise<string> {
  const code = overrides.code ?? `T${randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase()}`;
  await db()
    .insertInto("promotion")
    .values({ id: randomUUID(), kind: "percentage", percent_basis_points: 1000, ...overrides, code })
    .execute();
  return code;
}

describe("seedPromotions", () => {
  it("loads the demo codes once, leaving existing ones alone", async () => {
    const codes = await db().selectFrom("promotion").select(["code", "ends_at"]).where("code", "in", ["WELCOME10", "SAVE5", "EURO5", "EXPIRED"]).execute();
    expect(codes.map((c) => c.code).sort()).toEqual(["EURO5", "EXPIRED", "SAVE5", "WELCOME10"]);
    expect(codes.find((c) => c.code === "EXPIRED")!.ends_at!.getTime()).toBeLessThan(Date.now());
    expect(await seedPromotions(db())).toBe(0);
  });
});

describe("Promotion.applyToCart and removeFromCart", () => {
  it("applies a code case-insensitively, discounts the quote, and removes it again", async () => {
    const cartId = await readyCart(db(), { email: `apply-${randomUUID()}@example.com` });
    const applied = await Promotion.applyToCart({ db: db(), cartId, code: "  welcome10 " });
    expect(applied.promoCode).toBe("WELCOME10");
    expect((await Cart.get({ db: db(), cartId })).promoCode).toBe("WELCOME10");

    const quote = await Checkout.quote({ db: db(), cartId });
    expect(quote).toMatchObject({ subtotal: 4800, discount: 480, promoCode: "WELCOME10", shipping: 599, taxInclusive: false });
    expect(quote.tax).toBe(Math.floor(((4800 - 480 + 599) * 725 + 5000) / 10000));
    expect(quote.total).toBe(4800 - 480 + 599 + quote.tax);
    expect(quote.lines[0]).toMatchObject({ discount: 480 });

    const removed = await Promotion.removeFromCart({ db: db(), cartId });
    expect(removed.promoCode).toBeNull();
    const plain = await Checkout.quote({ db: db(), cartId });
    expect(plain).toMatchObject({ discount: 0, promoCode: null });
    expect(plain.total).toBe(4800 + 599 + plain.tax);
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
    const cartId = await readyCart(db(), { lines: [{ sku: "TEE-BLA-M", quantity: 1 }] });
    const refused = await refusal(Promotion.applyToCart({ db: db(), cartId, code: await code() }));
    expect(refused.code).toBe("PROMO_INVALID");
    expect(refused.details).toMatchObject({ reason });
    expect(refused.message).toMatch(message);
    expect((await Cart.get({ db: db(), cartId })).promoCode).toBeNull();
  });

  it("refuses a used-up code with PROMO_EXHAUSTED", async () => {
    const code = await createPromotion({ usage_limit: 2, used_count: 2 });
    const cartId = await readyCart(db());
    const refused = await refusal(Promotion.applyToCart({ db: db(), cartId, code }));
    expect(refused).toMatchObject({ code: "PROMO_EXHAUSTED", details: { reason: "usage_limit" } });
    expect(refused.message).toMatch(/used the maximum number of times/);
  });

  it("accepts SAVE5 once the cart reaches $30", async () => {
    const cartId = await readyCart(db(), { lines: [{ sku: "TEE-BLA-M", quantity: 2 }] });
    await Promotion.applyToCart({ db: db(), cartId, code: "save5" });
    expect(await Checkout.quote({ db: db(), cartId })).toMatchObject({ subtotal: 4800, discount: 500, promoCode: "SAVE5" });
  });

  it("checks the code again at quote time: a cart shrunk below the minimum cannot be quoted with it", async () => {
    const cartId = await readyCart(db(), { lines: [{ sku: "TEE-BLA-M", quantity: 2 }] });
    await Promotion.applyToCart({ db: db(), cartId, code: "SAVE5" });
    const cart = await Cart.get({ db: db(), cartId });
    await Cart.updateLine({ db: db(), cartId, lineId: cart.lines[0]!.id, quantity: 1 });
    const refused = await refusal(Checkout.quote({ db: db(), cartId }));
    expect(refused.code).toBe("PROMO_INVALID");
    expect(refused.message).toMatch(/add \$6\.00 more/);
  });

  it("judges a once-per-customer code by the cart's email, whatever its capitalisation", async () => {
    const code = await createPromotion({ per_customer_limit: 1 });
    const email = `once-${randomUUID()}@example.com`;
    const cartId = await readyCart(db(), { email: email.toUpperCase() });
    expect((await Promotion.applyToCart({ db: db(), cartId, code })).promoCode).toBe(code);
    const resolved = await Promotion.resolveForCart(db(), { code, currency: "USD", subtotal: 4800, email, now: new Date() });
    expect(resolved).toMatchObject({ problem: null, promotion: { code, perCustomerLimit: 1 } });
  });
});

describe("tax-inclusive EUR quotes", () => {
  it("takes the discount off the shown EUR prices, with the VAT inside", async () => {
    const cartId = await readyCart(db(), { currency: "EUR", email: `eur-${randomUUID()}@example.com` });
    await Promotion.applyToCart({ db: db(), cartId, code: "EURO5" });
    const quote = await Checkout.quote({ db: db(), cartId });
    // 2 × €22.00, €5.00 off, €4.99 standard shipping to Germany; 19 % VAT is inside, not on top.
    expect(quote).toMatchObject({ currency: "EUR", subtotal: 4400, discount: 500, shipping: 499, taxInclusive: true, taxRateBasisPoints: 1900 });
    expect(quote.total).toBe(4400 - 500 + 499);
    expect(quote.tax).toBe(Pricing.taxIncludedIn(4399, 1900));
    expect(quote.tax).toBe(702);
    expect(quote.lines.reduce((sum, line) => sum + line.discount, 0)).toBe(500);
  });

  it("keeps USD tax on top of the price", async () => {
    const cartId = await readyCart(db(), { lines: [{ sku: "TEE-BLA-M", quantity: 1 }] });
    const quote = await Checkout.quote({ db: db(), cartId });
    expect(quote.taxInclusive).toBe(false);
    expect(quote.total).toBe(quote.subtotal + quote.shipping + quote.tax);
  });
});

async function promotionState(code: string) {
  const promotion = await db().selectFrom("promotion").selectAll().where("code", "=", code).executeTakeFirstOrThrow();
  const redemptions = await db().selectFrom("promotion_redemption").selectAll().where("promotion_id", "=", promotion.id).execute();
  return { usedCount: promotion.used_count, redemptions };
}

const ordersOf = (cartIds: string[]) => db().selectFrom("order").selectAll().where("cart_id", "in", cartIds).execute();
const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));

/** Ready carts with `code` applied and quoted. */
async function quotedWithCode(code: string, carts: { email: string; sku: string }[]) {
  return Promise.all(
    carts.map(async ({ email, sku }) => {
      const cartId = await readyCart(db(), { email, lines: [{ sku, quantity: 1 }] });
      await Promotion.applyToCart({ db: db(), cartId, code });
      return { cartId, quote: await Checkout.quote({ db: db(), cartId }) };
    }),
  );
}

describe("redeeming a promotion with placeOrder", () => {
  it("gives a code with one use left to exactly one of 50 parallel orders; the rest reserve and charge nothing", async () => {
    const code = await createPromotion({ usage_limit: 1 });
    const sku = "SOCK-M";
    const stockBefore = await stockOf(db(), sku);
    const carts = await quotedWithCode(
      code,
      Array.from({ length: 50 }, (_, i) => ({ email: `buyer-${i}-${randomUUID()}@example.com`, sku })),
    );
    expect(carts.every(({ quote }) => quote.discount === 180)).toBe(true);
    const fake = createFakePaymentProvider();
    const results = await Promise.all(carts.map(({ cartId, quote }) => placeOrder(db(), fake, { cartId, quoteId: quote.id })));
    const won = results.filter((r) => r.placed);
    expect(won).toHaveLength(1);
    expect(won[0]!.placed).toMatchObject({ status: "captured", discount: 180, promoCode: code });
    for (const lost of results.filter((r) => r.error)) expect(["PROMO_EXHAUSTED", "PRICE_CHANGED"]).toContain(codeOf(lost.error));
    expect(fake.callsTo("authorize")).toHaveLength(1);
    const orders = await ordersOf(carts.map((cart) => cart.cartId));
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ discount: 180, promo_code: code });
    expect(await stockOf(db(), sku)).toBe(stockBefore - 1);
    const state = await promotionState(code);
    expect(state.usedCount).toBe(1);
    expect(state.redemptions).toHaveLength(1);
  });

  it("lets one customer use a once-per-customer code once, however many parallel orders they place", async () => {
    const code = await createPromotion({ per_customer_limit: 1 });
    const email = `twin-${randomUUID()}@example.com`;
    // The same customer types their email with different capitalisation in each cart.
    const carts = await quotedWithCode(
      code,
      Array.from({ length: 10 }, (_, i) => ({ email: i % 2 === 0 ? email : email.toUpperCase(), sku: "TEE-WHI-M" })),
    );
    const fake = createFakePaymentProvider();
    const results = await Promise.all(carts.map(({ cartId, quote }) => placeOrder(db(), fake, { cartId, quoteId: quote.id })));
    expect(results.filter((r) => r.placed)).toHaveLength(1);
    for (const lost of results.filter((r) => r.error)) expect(lost.error).toMatchObject({ code: "PROMO_EXHAUSTED", details: { reason: "customer_limit" } });
    expect(await ordersOf(carts.map((cart) => cart.cartId))).toHaveLength(1);
    const state = await promotionState(code);
    expect(state.usedCount).toBe(1);
    expect(state.redemptions).toEqual([expect.objectContaining({ email })]);

    // The customer now hears it when applying the code; another customer still can use it.
    const again = await readyCart(db(), { email: email.toUpperCase(), lines: [{ sku: "TEE-WHI-M", quantity: 1 }] });
    const refused = await refusal(Promotion.applyToCart({ db: db(), cartId: again, code }));
    expect(refused.code).toBe("PROMO_EXHAUSTED");
    expect(refused.message).toMatch(/already used/);
    const [other] = await quotedWithCode(code, [{ email: `other-${randomUUID()}@example.com`, sku: "TEE-WHI-M" }]);
    expect((await placeOrder(db(), fake, { cartId: other!.cartId, quoteId: other!.quote.id })).placed).toMatchObject({ promoCode: code });
    expect((await promotionState(code)).usedCount).toBe(2);
  });

  it("gives the use back when the payment is declined, so the retry can have it", async () => {
    const code = await createPromotion({ usage_limit: 1 });
    const [cart] = await quotedWithCode(code, [{ email: `decline-${randomUUID()}@example.com`, sku: "MUG-SAN" }]);
    expect(cart!.quote.discount).toBe(160);
    const fake = createFakePaymentProvider();
    fake.willAuthorize({ status: "declined" });
    const declined = await placeOrder(db(), fake, { cartId: cart!.cartId, quoteId: cart!.quote.id });
    expect(codeOf(declined.error)).toBe("PAYMENT_DECLINED");
    expect(await promotionState(code)).toEqual({ usedCount: 0, redemptions: [] });
    const released = await db().selectFrom("audit_log").select("data").where("entity", "=", "promotion").where("action", "=", "promotion.released").execute();
    expect(released.map((row) => row.data)).toContainEqual(expect.objectContaining({ orderId: declined.row!.id }));

    const paid = await placeOrder(db(), fake, { cartId: cart!.cartId, quoteId: cart!.quote.id });
    expect(paid.placed).toMatchObject({ status: "captured", discount: 160, promoCode: code });
    const state = await promotionState(code);
    expect(state.usedCount).toBe(1);
    expect(state.redemptions).toEqual([expect.objectContaining({ order_id: paid.row!.id })]);
  });

  it("charges a EUR order the shown prices minus the discount with the VAT inside, and records the redemption", async () => {
    const cartId = await readyCart(db(), { currency: "EUR", email: `eur-${randomUUID()}@example.com` });
    await Promotion.applyToCart({ db: db(), cartId, code: "EURO5" });
    const before = await promotionState("EURO5");
    const quote = await Checkout.quote({ db: db(), cartId });
    const fake = createFakePaymentProvider();
    const { placed, row } = await placeOrder(db(), fake, { cartId, quoteId: quote.id });
    expect(placed).toMatchObject({ status: "captured", currency: "EUR", total: 4399, tax: 702, discount: 500, promoCode: "EURO5", taxInclusive: true });
    expect(placed!.payment).toMatchObject({ amount: 4399, currency: "EUR" });
    expect(fake.callsTo("authorize")[0]!.input).toMatchObject({ amount: 4399, currency: "EUR" });
    expect(row).toMatchObject({ subtotal: 4400, discount: 500, shipping: 499, tax: 702, total: 4399, tax_inclusive: true, promo_code: "EURO5" });
    const after = await promotionState("EURO5");
    expect(after.usedCount).toBe(before.usedCount + 1);
    expect(after.redemptions.find((r) => r.order_id === row!.id)).toMatchObject({ amount: 500, email: placed!.email });
  });
});

describe("a promotion that changes between quote and order", () => {
  it.each([
    { name: "deactivated", change: { is_active: false } },
    { name: "ended", change: { ends_at: new Date(Date.now() - 1000), starts_at: new Date(Date.now() - DAY_MS) } },
  ])("refuses with PRICE_CHANGED when the code was $name, reserving and charging nothing", async ({ change }) => {
    const code = await createPromotion({ percent_basis_points: 2000 });
    const sku = "BOTL-500";
    const [cart] = await quotedWithCode(code, [{ email: `late-${randomUUID()}@example.com`, sku }]);
    expect(cart!.quote.discount).toBe(440);
    await db().updateTable("promotion").set(change).where("code", "=", code).execute();
    const stockBefore = await stockOf(db(), sku);
    const fake = createFakePaymentProvider();
    const { error, row } = await placeOrder(db(), fake, { cartId: cart!.cartId, quoteId: cart!.quote.id });
    expect(error).toMatchObject({ code: "PRICE_CHANGED" });
    expect((error as AppError).message).toMatch(new RegExp(`promo code ${code}`));
    expect(((error as AppError).details as { totals: unknown[] }).totals).toContainEqual({ field: "discount", was: 440, now: 0 });
    expect(fake.calls).toEqual([]);
    expect(row).toBeUndefined();
    expect(await stockOf(db(), sku)).toBe(stockBefore);
    expect(await promotionState(code)).toEqual({ usedCount: 0, redemptions: [] });
  });

  it("refuses with PROMO_EXHAUSTED when another order took the last use after the quote; without the code it goes through", async () => {
    const code = await createPromotion({ usage_limit: 1 });
    const [cart] = await quotedWithCode(code, [{ email: `slow-${randomUUID()}@example.com`, sku: "BOTL-750" }]);
    await db().updateTable("promotion").set({ used_count: 1 }).where("code", "=", code).execute();
    const stockBefore = await stockOf(db(), "BOTL-750");
    const fake = createFakePaymentProvider();
    const refused = await placeOrder(db(), fake, { cartId: cart!.cartId, quoteId: cart!.quote.id });
    expect(codeOf(refused.error)).toBe("PROMO_EXHAUSTED");
    expect(refused.row).toBeUndefined();
    expect(await stockOf(db(), "BOTL-750")).toBe(stockBefore);

    await Promotion.removeFromCart({ db: db(), cartId: cart!.cartId });
    const fresh = await Checkout.quote({ db: db(), cartId: cart!.cartId });
    expect((await placeOrder(db(), fake, { cartId: cart!.cartId, quoteId: fresh.id })).placed).toMatchObject({ discount: 0, promoCode: null });
  });
});
