// The cart: lines of SKUs and quantities in one currency. Prices are always read from the
// catalogue at the moment they are shown; the client never supplies one.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Currency } from "../money.ts";
import * as Money from "../money.ts";
import { AddressSchema, MAX_CART_LINES, MAX_LINE_QUANTITY, type Cart, type CartLine, type ShippingOptionId } from "../schemas.ts";
import type { CartRow, Database, Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as CartRepository from "./cart.repository.ts";
import * as CatalogRepository from "../catalog/catalog.repository.ts";

export function rowToCart(row: CartRow, lines: CartRepository.CartLineDetailRow[]): Cart {
  const cartLines: CartLine[] = lines.map((line) => {
    const unitPrice = line.unit_price ?? 0;
    return {
      id: line.id,
      sku: line.sku,
      productId: line.product_id,
      productName: line.product_name,
      variantName: line.variant_name,
      image: line.image,
      unitPrice,
      quantity: line.quantity,
      lineTotal: unitPrice * line.quantity,
      available: line.available,
    };
  });
  const address = row.shipping_address ? AddressSchema.safeParse(row.shipping_address) : null;
  return {
    id: row.id,
    currency: row.currency as Currency,
    status: row.status,
    lines: cartLines,
    itemCount: cartLines.reduce((count, line) => count + line.quantity, 0),
    subtotal: Money.sum(cartLines.map((line) => line.lineTotal)),
    email: row.email,
    shippingAddress: address?.success ? address.data : null,
    shippingOptionId: (row.shipping_option_id as ShippingOptionId | null) ?? null,
    promoCode: row.promo_code,
  };
}

function notFound(cartId: string): AppError {
  return new AppError("NOT_FOUND", "This cart does not exist or has expired. Start a new cart.", { cartId });
}

export async function create(input: { db: Db; currency: Currency }): Promise<Cart> {
  const row = await CartRepository.insertCart(input.db, { id: randomUUID(), currency: input.currency, status: "open" });
  return rowToCart(row, []);
}

export async function get(input: { db: Db; cartId: string }): Promise<Cart> {
  const found = await CartRepository.findCartWithLines(input.db, input.cartId);
  if (!found) throw notFound(input.cartId);
  return rowToCart(found.cart, found.lines);
}

/**
 * Runs `change` on an open cart inside a transaction that holds the cart's row lock, then returns
 * the cart as it now is. Concurrent edits to one cart serialise; edits to different carts do not.
 */
export async function withOpenCart(
  input: { db: Kysely<Database>; cartId: string },
  change: (trx: Db, cart: CartRow) => Promise<void>,
): Promise<Cart> {
  return input.db.transaction().execute(async (trx) => {
    const row = await CartRepository.findCartForUpdate(trx, input.cartId);
    if (!row) throw notFound(input.cartId);
    if (row.status !== "open") {
      throw new AppError("CART_CLOSED", "This cart has already been checked out. Start a new cart to buy more.", { cartId: row.id });
    }
    await change(trx, row);
    const found = await CartRepository.findCartWithLines(trx, row.id);
    if (!found) throw notFound(input.cartId);
    return rowToCart(found.cart, found.lines);
  });
}

async function assertSellable(db: Db, currency: Currency, sku: string, quantity: number): Promise<void> {
  const [variant] = await CatalogRepository.findVariantsBySku(db, currency, [sku]);
  if (!variant) {
    const exists = await CatalogRepository.variantExists(db, sku);
    if (!exists) throw new AppError("NOT_FOUND", `No product variant with SKU "${sku}"`, { sku });
    throw new AppError("CURRENCY_MISMATCH", `"${sku}" is not sold in ${currency}`, { sku, currency });
  }
  if (quantity > variant.available) {
    throw new AppError(
      "OUT_OF_STOCK",
      variant.available === 0
        ? `${variant.product_name} (${variant.variant_name}) is out of stock`
        : `Only ${variant.available} of ${variant.product_name} (${variant.variant_name}) left in stock`,
      { sku, available: variant.available, requested: quantity },
    );
  }
}

export function addLine(input: { db: Kysely<Database>; cartId: string; sku: string; quantity: number }): Promise<Cart> {
  return withOpenCart(input, async (trx, cart) => {
    const existing = await CartRepository.findLineBySku(trx, cart.id, input.sku);
    const quantity = (existing?.quantity ?? 0) + input.quantity;
    if (quantity > MAX_LINE_QUANTITY) {
      throw new AppError("QUANTITY_LIMIT", `You can buy at most ${MAX_LINE_QUANTITY} of one item per order`, {
        sku: input.sku,
        inCart: existing?.quantity ?? 0,
      });
    }
    await assertSellable(trx, cart.currency as Currency, input.sku, quantity);
    if (existing) {
      await CartRepository.setLineQuantity(trx, existing.id, quantity);
      return;
    }
    if ((await CartRepository.countLines(trx, cart.id)) >= MAX_CART_LINES) {
      throw new AppError("QUANTITY_LIMIT", `A cart holds at most ${MAX_CART_LINES} different items`, { cartId: cart.id });
    }
    await CartRepository.insertLine(trx, { id: randomUUID(), cart_id: cart.id, sku: input.sku, quantity });
  });
}

export function updateLine(input: { db: Kysely<Database>; cartId: string; lineId: string; quantity: number }): Promise<Cart> {
  return withOpenCart(input, async (trx, cart) => {
    const line = await CartRepository.findLine(trx, cart.id, input.lineId);
    if (!line) throw new AppError("NOT_FOUND", "That item is no longer in your cart", { lineId: input.lineId });
    await assertSellable(trx, cart.currency as Currency, line.sku, input.quantity);
    await CartRepository.setLineQuantity(trx, line.id, input.quantity);
  });
}

export function removeLine(input: { db: Kysely<Database>; cartId: string; lineId: string }): Promise<Cart> {
  return withOpenCart(input, async (trx, cart) => {
    const result = await CartRepository.deleteLine(trx, cart.id, input.lineId);
    if (Number(result.numDeletedRows) === 0) {
      throw new AppError("NOT_FOUND", "That item is no longer in your cart", { lineId: input.lineId });
    }
  });
}
