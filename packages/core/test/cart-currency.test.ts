// Changing an open cart's currency against real PostgreSQL: the same cart and quantities priced from the new
// currency's price list, a line not sold in it refused by name or removed when asked, a promo code for the old
// currency taken off, the checkout details kept, and every earlier quote expired.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, Cart, Checkout, Promotion, seedPromotions } from "../src/index.ts";
import { createFakePaymentProvider, createTestDatabase, placeOrder, quotedCart, readyCart, US_ADDRESS, type TestDatabase, refusal } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  await seedPromotions(database.db);
  // A lamp sold in US dollars only.
  await database.db.deleteFrom("price").where("sku", "=", "LAMP").where("currency", "=", "EUR").execute();
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;

describe("Cart.setCurrency", () => {
  it("keeps the cart and its quantities, priced from the new currency's price list", async () => {
    const cartId = await readyCart(db(), {
      lines: [
        { sku: "TEE-BLA-M", quantity: 3 },
        { sku: "MUG-SLA", quantity: 2 },
      ],
    });
    const before = await Cart.get({ db: db(), cartId });
    expect(before).toMatchObject({ currency: "USD", subtotal: 3 * 2400 + 2 * 1600 });

    const { cart, removed, removedPromoCode } = await Cart.setCurrency({ db: db(), cartId, currency: "EUR" });
    expect(removed).toEqual([]);
    expect(removedPromoCode).toBeNull();
    expect(cart).toMatchObject({ id: cartId, currency: "EUR", itemCount: 5, subtotal: 3 * 2200 + 2 * 1500 });
    expect(cart.lines.map(({ id, sku, quantity, unitPrice, lineTotal }) => ({ id, sku, quantity, unitPrice, lineTotal }))).toEqual(
      before.lines.map(({ id, sku, quantity }) => ({ id, sku, quantity, unitPrice: sku === "TEE-BLA-M" ? 2200 : 1500, lineTotal: quantity * (sku === "TEE-BLA-M" ? 2200 : 1500) })),
    );
    // What the shopper typed stays.
    expect(cart).toMatchObject({ email: before.email, shippingAddress: US_ADDRESS, shippingOptionId: "standard" });
    expect(await Cart.get({ db: db(), cartId })).toEqual(cart);

    const back = await Cart.setCurrency({ db: db(), cartId, currency: "USD" });
    expect(back.cart).toMatchObject({ currency: "USD", subtotal: before.subtotal });
  });

  it("quotes in the new currency, and an order from a quote made before the change is refused as expired", async () => {
    const { cartId, quote } = await quotedCart(db());
    expect(quote.currency).toBe("USD");
    await Cart.setCurrency({ db: db(), cartId, currency: "EUR" });

    const payments = createFakePaymentProvider();
    const stale = await placeOrder(db(), payments, { cartId, quoteId: quote.id });
    expect(stale.error).toBeInstanceOf(AppError);
    expect((stale.error as AppError).code).toBe("QUOTE_EXPIRED");
    expect(stale.row).toBeUndefined();
    expect(payments.callsTo("authorize")).toHaveLength(0);

    const fresh = await Checkout.quote({ db: db(), cartId });
    expect(fresh).toMatchObject({ currency: "EUR", subtotal: 2 * 2200, taxInclusive: true });
    const placed = await placeOrder(db(), payments, { cartId, quoteId: fresh.id });
    expect(placed.error).toBeNull();
    expect(placed.row).toMatchObject({ currency: "EUR", total: fresh.total });
  });

  it("refuses by name, changing nothing, when a line is not sold in the new currency", async () => {
    const cartId = await readyCart(db(), {
      lines: [
        { sku: "LAMP", quantity: 1 },
        { sku: "SOCK-M", quantity: 2 },
      ],
    });
    const before = await Cart.get({ db: db(), cartId });
    const refused = await refusal(Cart.setCurrency({ db: db(), cartId, currency: "EUR" }));
    expect(refused.code).toBe("CURRENCY_MISMATCH");
    expect(refused.message).toBe("Desk Lamp is not sold in EUR; remove it to switch to EUR");
    expect(refused.details).toMatchObject({ currency: "EUR", lines: [{ sku: "LAMP", quantity: 1, lineId: before.lines[0]?.id }] });
    expect(await Cart.get({ db: db(), cartId })).toEqual({ ...before });
  });

  it("removes the lines not sold in the new currency when asked, and reports them", async () => {
    const cartId = await readyCart(db(), {
      lines: [
        { sku: "LAMP", quantity: 1 },
        { sku: "SOCK-M", quantity: 2 },
      ],
    });
    const { cart, removed } = await Cart.setCurrency({ db: db(), cartId, currency: "EUR", removeUnavailable: true });
    expect(removed).toEqual([{ sku: "LAMP", productName: "Desk Lamp", variantName: "Default", quantity: 1 }]);
    expect(cart).toMatchObject({ currency: "EUR", itemCount: 2, subtotal: 2 * 1700 });
    expect(cart.lines.map((line) => line.sku)).toEqual(["SOCK-M"]);
  });

  it("takes off a promo code that only works in the old currency, and keeps one that works in any", async () => {
    const saved = await readyCart(db(), { lines: [{ sku: "TEE-BLA-M", quantity: 2 }] });
    await Checkout.setContact({ db: db(), cartId: saved, email: "promo-currency@example.com" });
    await Promotion.applyToCart({ db: db(), cartId: saved, code: "SAVE5" });
    const switched = await Cart.setCurrency({ db: db(), cartId: saved, currency: "EUR" });
    expect(switched.removedPromoCode).toBe("SAVE5");
    expect(switched.cart.promoCode).toBeNull();

    const anyCurrency = await readyCart(db(), { lines: [{ sku: "TEE-BLA-M", quantity: 2 }], email: "welcome-currency@example.com" });
    await Promotion.applyToCart({ db: db(), cartId: anyCurrency, code: "WELCOME10" });
    const kept = await Cart.setCurrency({ db: db(), cartId: anyCurrency, currency: "EUR" });
    expect(kept.removedPromoCode).toBeNull();
    expect(kept.cart.promoCode).toBe("WELCOME10");
    expect(await Checkout.quote({ db: db(), cartId: anyCurrency })).toMatchObject({ currency: "EUR", promoCode: "WELCOME10", discount: 440 });
  });

  it("leaves a cart already in that currency as it is, quotes included", async () => {
    const { cartId, quote } = await quotedCart(db());
    const { cart, removed } = await Cart.setCurrency({ db: db(), cartId, currency: "USD" });
    expect(removed).toEqual([]);
    expect(cart.currency).toBe("USD");
    const row = await db().selectFrom("quote").select("expires_at").where("id", "=", quote.id).executeTakeFirstOrThrow();
    expect(row.expires_at.getTime()).toBe(new Date(quote.expiresAt).getTime());
  });

  it("refuses a cart that is unknown or already checked out, and one whose payment is in progress", async () => {
    expect(await refusal(Cart.setCurrency({ db: db(), cartId: "00000000-0000-4000-8000-000000000000", currency: "EUR" }))).toMatchObject({ code: "NOT_FOUND" });

    const payments = createFakePaymentProvider();
    const done = await quotedCart(db());
    expect((await placeOrder(db(), payments, { cartId: done.cartId, quoteId: done.quote.id })).error).toBeNull();
    expect(await refusal(Cart.setCurrency({ db: db(), cartId: done.cartId, currency: "EUR" }))).toMatchObject({ code: "CART_CLOSED" });

    const challenged = await quotedCart(db());
    payments.willAuthorize({ status: "requires_action" });
    const pending = await placeOrder(db(), payments, { cartId: challenged.cartId, quoteId: challenged.quote.id });
    expect(pending.row?.status).toBe("pending_payment");
    expect(await refusal(Cart.setCurrency({ db: db(), cartId: challenged.cartId, currency: "EUR" }))).toMatchObject({
      code: "CHECKOUT_IN_PROGRESS",
      details: { orderId: pending.row?.id },
    });
    expect((await Cart.get({ db: db(), cartId: challenged.cartId })).currency).toBe("USD");
  });
});
