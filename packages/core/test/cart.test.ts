// The cart's rules against real PostgreSQL: lines merge and are priced from the catalogue, stock and the stock
// policy bound every edit, a checked-out cart is closed, and a cart is quoted only once it is complete.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cart, Checkout, MAX_CART_LINES, StockPolicy } from "../src/index.ts";
import { createTestDatabase, setStock, stockOf, US_ADDRESS, type TestDatabase, refusal } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;
const POLICY: StockPolicy.StockPolicy = { ...StockPolicy.DEFAULT_STOCK_POLICY, maxUnitsPerSku: 8, maxUnitsPerCart: 20, maxStockSharePercent: 50 };

describe("Cart lines", () => {
  it("adds, merges, changes and removes lines, pricing everything from the catalogue", async () => {
    const cart = await Cart.create({ db: db(), currency: "USD" });
    expect(cart.lines).toEqual([]);
    await Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-M", quantity: 1 });
    let updated = await Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-M", quantity: 2 });
    expect(updated.lines).toHaveLength(1);
    expect(updated.lines[0]).toMatchObject({ sku: "TEE-BLA-M", quantity: 3, unitPrice: 2400, lineTotal: 7200 });
    updated = await Cart.addLine({ db: db(), cartId: cart.id, sku: "MUG-SLA", quantity: 1 });
    expect(updated.subtotal).toBe(7200 + 1600);
    const mug = updated.lines.find((line) => line.sku === "MUG-SLA")!;
    updated = await Cart.updateLine({ db: db(), cartId: cart.id, lineId: mug.id, quantity: 4 });
    expect(updated.lines.find((line) => line.sku === "MUG-SLA")?.quantity).toBe(4);
    updated = await Cart.removeLine({ db: db(), cartId: cart.id, lineId: mug.id });
    expect(updated.lines.map((line) => line.sku)).toEqual(["TEE-BLA-M"]);
    expect(updated.itemCount).toBe(3);
    expect(await Cart.get({ db: db(), cartId: cart.id })).toEqual(updated);
  });

  it("prices a EUR cart in euros and refuses a SKU not sold in its currency or unknown", async () => {
    const cart = await Cart.create({ db: db(), currency: "EUR" });
    const updated = await Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-M", quantity: 2 });
    expect(updated).toMatchObject({ currency: "EUR", subtotal: 4400 });
    expect(await refusal(Cart.addLine({ db: db(), cartId: cart.id, sku: "NO-SUCH-SKU", quantity: 1 }))).toMatchObject({ code: "NOT_FOUND", details: { sku: "NO-SUCH-SKU" } });
  });

  it("refuses more than the stock on hand with OUT_OF_STOCK, saying how many are left", async () => {
    await setStock(db(), "PRINT", 5);
    const cart = await Cart.create({ db: db(), currency: "USD" });
    const refused = await refusal(Cart.addLine({ db: db(), cartId: cart.id, sku: "PRINT", quantity: 6 }));
    expect(refused).toMatchObject({ code: "OUT_OF_STOCK", details: { sku: "PRINT", available: 5, requested: 6 } });
    expect(refused.message).toMatch(/Only 5/);
    await setStock(db(), "PRINT", 0);
    expect((await refusal(Cart.addLine({ db: db(), cartId: cart.id, sku: "PRINT", quantity: 1 }))).message).toMatch(/out of stock/);
    expect(await stockOf(db(), "PRINT")).toBe(0);
  });

  it("answers NOT_FOUND for an unknown cart or a line no longer in it", async () => {
    const cart = await Cart.create({ db: db(), currency: "USD" });
    expect(await refusal(Cart.get({ db: db(), cartId: "00000000-0000-4000-8000-000000000000" }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await refusal(Cart.removeLine({ db: db(), cartId: cart.id, lineId: "00000000-0000-4000-8000-000000000000" }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await refusal(Cart.updateLine({ db: db(), cartId: cart.id, lineId: "00000000-0000-4000-8000-000000000000", quantity: 1 }))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("serialises concurrent edits of one cart: every unit added is counted", async () => {
    const cart = await Cart.create({ db: db(), currency: "USD" });
    await Promise.all(Array.from({ length: 8 }, () => Cart.addLine({ db: db(), cartId: cart.id, sku: "SOCK-S", quantity: 1 })));
    expect((await Cart.get({ db: db(), cartId: cart.id })).lines).toMatchObject([{ sku: "SOCK-S", quantity: 8 }]);
  });
});

describe("a cart's limits and its last change", () => {
  it("holds at most MAX_CART_LINES different items; more units of an item already in it still fit", async () => {
    // A product of its own with one variant more than a cart may hold lines of, all in stock.
    const skus = Array.from({ length: MAX_CART_LINES + 1 }, (_, n) => `CAP-${String(n).padStart(2, "0")}`);
    await db().insertInto("product").values({ id: "line-cap", name: "Line cap", description: "Variants for the lines cap", category: "test", image: "", position: 999 }).execute();
    await db()
      .insertInto("variant")
      .values(skus.map((sku, position) => ({ sku, product_id: "line-cap", name: sku, options: "{}", weight_grams: 10, position })))
      .execute();
    await db()
      .insertInto("price")
      .values(skus.map((sku) => ({ sku, currency: "USD", amount: 100 })))
      .execute();
    await db()
      .insertInto("inventory")
      .values(skus.map((sku) => ({ sku, available: 10 })))
      .execute();
    const cart = await Cart.create({ db: db(), currency: "USD" });
    const generous = { ...POLICY, maxUnitsPerCart: 1000 };
    for (const sku of skus.slice(0, MAX_CART_LINES)) await Cart.addLine({ db: db(), cartId: cart.id, sku, quantity: 1, policy: generous });
    expect(await refusal(Cart.addLine({ db: db(), cartId: cart.id, sku: skus[MAX_CART_LINES]!, quantity: 1, policy: generous }))).toMatchObject({
      code: "QUANTITY_LIMIT",
      details: { maxLines: MAX_CART_LINES },
    });
    const raised = await Cart.addLine({ db: db(), cartId: cart.id, sku: skus[0]!, quantity: 1, policy: generous });
    expect(raised.lines).toHaveLength(MAX_CART_LINES);
    expect(raised.lines.find((line) => line.sku === skus[0])?.quantity).toBe(2);
  });

  it("marks the cart as changed by every accepted edit, and not by a refused one", async () => {
    const cart = await Cart.create({ db: db(), currency: "USD" });
    const longAgo = new Date("2026-01-01T00:00:00Z");
    const setUpdatedAt = () => db().updateTable("cart").set({ updated_at: longAgo }).where("id", "=", cart.id).execute();
    const updatedAt = async () => (await db().selectFrom("cart").select("updated_at").where("id", "=", cart.id).executeTakeFirstOrThrow()).updated_at;

    await setUpdatedAt();
    const added = await Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-S", quantity: 2, policy: POLICY });
    expect((await updatedAt()).getTime()).toBeGreaterThan(longAgo.getTime());

    await setUpdatedAt();
    await refusal(Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-S", quantity: 9, policy: POLICY }));
    expect(await updatedAt()).toEqual(longAgo);

    const lineId = added.lines[0]!.id;
    await Cart.updateLine({ db: db(), cartId: cart.id, lineId, quantity: 3, policy: POLICY });
    expect((await updatedAt()).getTime()).toBeGreaterThan(longAgo.getTime());

    await setUpdatedAt();
    await Cart.removeLine({ db: db(), cartId: cart.id, lineId });
    expect((await updatedAt()).getTime()).toBeGreaterThan(longAgo.getTime());
  });
});

describe("the stock policy on cart edits", () => {
  it("refuses more than maxUnitsPerSku of one item, whether in one call, several calls or an update", async () => {
    const cart = await Cart.create({ db: db(), currency: "USD" });
    expect(await refusal(Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-S", quantity: 9, policy: POLICY }))).toEqual({
      code: "QUANTITY_LIMIT",
      message: "You can buy at most 8 of Everyday Tee (Black / S) per order",
      details: { sku: "TEE-BLA-S", requested: 9, maxAllowed: 8, limit: "per_item" },
    });
    const added = await Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-S", quantity: 5, policy: POLICY });
    expect(await refusal(Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-S", quantity: 4, policy: POLICY }))).toMatchObject({
      code: "QUANTITY_LIMIT",
      details: { requested: 9, maxAllowed: 8 },
    });
    const lineId = added.lines[0]!.id;
    expect(await refusal(Cart.updateLine({ db: db(), cartId: cart.id, lineId, quantity: 9, policy: POLICY }))).toMatchObject({ code: "QUANTITY_LIMIT" });
    const after = await Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-S", quantity: 3, policy: POLICY });
    expect(after.lines).toMatchObject([{ sku: "TEE-BLA-S", quantity: 8 }]);
  });

  it("refuses more than maxUnitsPerCart spread over many items, saying how many more fit", async () => {
    const cart = await Cart.create({ db: db(), currency: "USD" });
    await Cart.addLine({ db: db(), cartId: cart.id, sku: "SOCK-M", quantity: 8, policy: POLICY });
    await Cart.addLine({ db: db(), cartId: cart.id, sku: "SOCK-L", quantity: 8, policy: POLICY });
    expect(await refusal(Cart.addLine({ db: db(), cartId: cart.id, sku: "TOTE", quantity: 5, policy: POLICY }))).toMatchObject({
      code: "QUANTITY_LIMIT",
      details: { sku: "TOTE", requested: 5, maxAllowed: 4, maxUnitsPerCart: 20, limit: "per_order" },
    });
    const full = await Cart.addLine({ db: db(), cartId: cart.id, sku: "TOTE", quantity: 4, policy: POLICY });
    expect(full.itemCount).toBe(20);
    const lineOf = (sku: string) => full.lines.find((line) => line.sku === sku)!.id;
    await Cart.updateLine({ db: db(), cartId: cart.id, lineId: lineOf("SOCK-M"), quantity: 6, policy: POLICY });
    expect(await refusal(Cart.updateLine({ db: db(), cartId: cart.id, lineId: lineOf("TOTE"), quantity: 7, policy: POLICY }))).toMatchObject({
      code: "QUANTITY_LIMIT",
      details: { sku: "TOTE", requested: 7, maxAllowed: 6, limit: "per_order" },
    });
  });

  it("lets one cart take at most maxStockSharePercent of a scarce SKU, never less than one unit", async () => {
    await setStock(db(), "LAMP", 6);
    const cart = await Cart.create({ db: db(), currency: "USD" });
    expect(await refusal(Cart.addLine({ db: db(), cartId: cart.id, sku: "LAMP", quantity: 4, policy: POLICY }))).toEqual({
      code: "QUANTITY_LIMIT",
      message: "Only 6 of Desk Lamp (Default) are left, so one order can take at most 3",
      details: { sku: "LAMP", requested: 4, maxAllowed: 3, limit: "stock_share" },
    });
    expect((await Cart.addLine({ db: db(), cartId: cart.id, sku: "LAMP", quantity: 3, policy: POLICY })).itemCount).toBe(3);
    await setStock(db(), "LAMP", 1);
    const last = await Cart.create({ db: db(), currency: "USD" });
    expect((await Cart.addLine({ db: db(), cartId: last.id, sku: "LAMP", quantity: 1, policy: POLICY })).itemCount).toBe(1);
    expect(await refusal(Cart.addLine({ db: db(), cartId: last.id, sku: "LAMP", quantity: 1, policy: POLICY }))).toMatchObject({ code: "OUT_OF_STOCK" });
  });
});

describe("Checkout on a cart", () => {
  it("refuses to quote an incomplete cart and says what is missing", async () => {
    const cart = await Cart.create({ db: db(), currency: "USD" });
    const refused = await refusal(Checkout.quote({ db: db(), cartId: cart.id }));
    expect(refused.code).toBe("CART_INCOMPLETE");
    expect(refused.message).toMatch(/lines, email, shippingAddress, shippingOption/);
  });

  it("asks for an address before shipping options, then prices them for the destination", async () => {
    const cart = await Cart.create({ db: db(), currency: "USD" });
    await Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-M", quantity: 2 });
    expect(await refusal(Checkout.listShippingOptions({ db: db(), cartId: cart.id }))).toMatchObject({ code: "CART_INCOMPLETE" });
    expect(await refusal(Checkout.setShippingOption({ db: db(), cartId: cart.id, optionId: "standard" }))).toMatchObject({ code: "CART_INCOMPLETE" });
    await Checkout.setShippingAddress({ db: db(), cartId: cart.id, address: { ...US_ADDRESS, postalCode: "94105", region: "ca" } });
    const options = await Checkout.listShippingOptions({ db: db(), cartId: cart.id });
    expect(options.map((option) => option.id)).toEqual(["standard", "express"]);
    expect(options[0]?.price).toBe(599);
    expect((await Cart.get({ db: db(), cartId: cart.id })).shippingAddress).toMatchObject({ region: "CA" });
  });

  it("quotes a complete cart with tax on top in USD, stores the contact in lower case, and keeps the quote 15 minutes", async () => {
    const cart = await Cart.create({ db: db(), currency: "USD" });
    await Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-M", quantity: 2 });
    await Checkout.setContact({ db: db(), cartId: cart.id, email: "Ada@Example.com" });
    await Checkout.setShippingAddress({ db: db(), cartId: cart.id, address: US_ADDRESS });
    await Checkout.setShippingOption({ db: db(), cartId: cart.id, optionId: "standard" });
    expect((await Cart.get({ db: db(), cartId: cart.id })).email).toBe("ada@example.com");
    const now = new Date();
    const quote = await Checkout.quote({ db: db(), cartId: cart.id, now });
    expect(quote).toMatchObject({ subtotal: 4800, shipping: 599, discount: 0, taxInclusive: false });
    expect(quote.tax).toBe(Math.floor(((4800 + 599) * 725 + 5000) / 10000));
    expect(quote.total).toBe(quote.subtotal + quote.shipping + quote.tax);
    expect(new Date(quote.expiresAt).getTime()).toBe(now.getTime() + Checkout.QUOTE_TTL_MS);
  });
});

describe("a closed cart", () => {
  it("refuses every edit with CART_CLOSED", async () => {
    const cart = await Cart.create({ db: db(), currency: "USD" });
    const { lines } = await Cart.addLine({ db: db(), cartId: cart.id, sku: "TEE-BLA-M", quantity: 1 });
    await db().updateTable("cart").set({ status: "completed" }).where("id", "=", cart.id).execute();
    for (const edit of [
      () => Cart.addLine({ db: db(), cartId: cart.id, sku: "MUG-SLA", quantity: 1 }),
      () => Cart.updateLine({ db: db(), cartId: cart.id, lineId: lines[0]!.id, quantity: 2 }),
      () => Cart.removeLine({ db: db(), cartId: cart.id, lineId: lines[0]!.id }),
      () => Checkout.setContact({ db: db(), cartId: cart.id, email: "x@example.com" }),
      () => Checkout.setShippingAddress({ db: db(), cartId: cart.id, address: US_ADDRESS }),
      () => Checkout.setShippingOption({ db: db(), cartId: cart.id, optionId: "standard" }),
    ]) {
      expect(await refusal(edit())).toMatchObject({ code: "CART_CLOSED", details: { cartId: cart.id } });
    }
    // None of the refused edits changed the cart.
    expect(await db().selectFrom("cart").select(["email", "shipping_address", "shipping_option_id"]).where("id", "=", cart.id).executeTakeFirstOrThrow()).toEqual({
      email: null,
      shipping_address: null,
      shipping_option_id: null,
    });
    const missing = "00000000-0000-4000-8000-000000000000";
    for (const edit of [
      () => Checkout.setContact({ db: db(), cartId: missing, email: "x@example.com" }),
      () => Checkout.setShippingAddress({ db: db(), cartId: missing, address: US_ADDRESS }),
      () => Checkout.setShippingOption({ db: db(), cartId: missing, optionId: "standard" }),
    ]) {
      expect(await refusal(edit())).toMatchObject({ code: "NOT_FOUND" });
    }
    expect(await refusal(Checkout.quote({ db: db(), cartId: cart.id }))).toMatchObject({ code: "CART_CLOSED" });
  });
});
