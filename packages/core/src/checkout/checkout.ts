// Checkout: contact, shipping address and option, the quote the shopper confirms, and placing
// the order: stock reserved by the database before the card is authorised, and an order that is
// either fully placed or cleanly failed.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import {
  normaliseAddress,
  type Address,
  type Cart as CartView,
  type Quote,
  type ShippingOption,
  type ShippingOptionId,
} from "../schemas.ts";
import type { Database, Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as Cart from "../cart/cart.ts";
import * as CartRepository from "../cart/cart.repository.ts";
import * as QuoteRepository from "./quote.repository.ts";
import { priceCart, totalWeight, type PricedCart } from "../pricing/pricing.ts";
import { quoteShippingOptions } from "../pricing/shipping.ts";
import * as PromotionService from "../promotion/promotion.service.ts";
import type { Promotion } from "../promotion/promotion.ts";

export const QUOTE_TTL_MS = 15 * 60 * 1000;

export function setContact(input: { db: Kysely<Database>; cartId: string; email: string }): Promise<CartView> {
  return Cart.withOpenCart(input, async (trx, cart) => {
    await CartRepository.updateCart(trx, cart.id, { email: input.email.toLowerCase() });
  });
}

export function setShippingAddress(input: { db: Kysely<Database>; cartId: string; address: Address }): Promise<CartView> {
  return Cart.withOpenCart(input, async (trx, cart) => {
    await CartRepository.updateCart(trx, cart.id, { shipping_address: JSON.stringify(normaliseAddress(input.address)) });
  });
}

function requireAddress(cart: CartView): Address {
  if (!cart.shippingAddress) throw new AppError("CART_INCOMPLETE", "Enter a shipping address first", { missing: ["shippingAddress"] });
  return cart.shippingAddress;
}

async function cartLinesForPricing(db: Db, cart: CartView) {
  const rows = (await CartRepository.findCartWithLines(db, cart.id))?.lines ?? [];
  return rows.map((row) => {
    if (row.unit_price === null) {
      throw new AppError("CURRENCY_MISMATCH", `${row.product_name} is no longer sold in ${cart.currency}; remove it to continue`, { sku: row.sku });
    }
    return {
      sku: row.sku,
      productName: row.product_name,
      variantName: row.variant_name,
      unitPrice: row.unit_price,
      quantity: row.quantity,
      weightGrams: row.weight_grams,
      available: row.available,
    };
  });
}

export async function listShippingOptions(input: { db: Db; cartId: string }): Promise<ShippingOption[]> {
  const cart = await Cart.get(input);
  const address = requireAddress(cart);
  const lines = await cartLinesForPricing(input.db, cart);
  return quoteShippingOptions({
    country: address.country,
    currency: cart.currency,
    weightGrams: totalWeight(lines),
    subtotal: cart.subtotal,
  });
}

export function setShippingOption(input: { db: Kysely<Database>; cartId: string; optionId: ShippingOptionId }): Promise<CartView> {
  return Cart.withOpenCart(input, async (trx, cart) => {
    if (!cart.shipping_address) throw new AppError("CART_INCOMPLETE", "Enter a shipping address before choosing shipping", { missing: ["shippingAddress"] });
    await CartRepository.updateCart(trx, cart.id, { shipping_option_id: input.optionId });
  });
}

/**
 * Prices the cart as it is now, failing with a typed error if anything needed is missing. A promo
 * code that can no longer be used is left out of the price and reported as `promotionProblem`;
 * the caller decides whether that is an error (quote) or a price change (placeOrder).
 */
export async function priceCurrentCart(
  db: Db,
  cart: CartView,
  now: Date = new Date(),
): Promise<{ priced: PricedCart; address: Address; email: string; promotion: Promotion | null; promotionProblem: AppError | null }> {
  const missing: string[] = [];
  if (cart.lines.length === 0) missing.push("lines");
  if (!cart.email) missing.push("email");
  if (!cart.shippingAddress) missing.push("shippingAddress");
  if (!cart.shippingOptionId) missing.push("shippingOption");
  if (missing.length > 0 || !cart.email || !cart.shippingAddress || !cart.shippingOptionId) {
    throw new AppError("CART_INCOMPLETE", `Before checking out, add: ${missing.join(", ")}`, { missing });
  }
  const lines = await cartLinesForPricing(db, cart);
  const short = lines.filter((line) => line.quantity > line.available);
  if (short.length > 0) {
    throw new AppError(
      "OUT_OF_STOCK",
      short.map((line) => `${line.productName} (${line.variantName}): ${line.available} left`).join("; "),
      { lines: short.map((line) => ({ sku: line.sku, requested: line.quantity, available: line.available })) },
    );
  }
  const { promotion, problem: promotionProblem } = await PromotionService.resolveForCart(db, {
    code: cart.promoCode,
    currency: cart.currency,
    subtotal: cart.subtotal,
    email: cart.email,
    now,
  });
  const priced = priceCart({
    currency: cart.currency,
    lines,
    address: cart.shippingAddress,
    shippingOptionId: cart.shippingOptionId,
    promotion,
  });
  return { priced, address: cart.shippingAddress, email: cart.email, promotion, promotionProblem };
}

function pricedToQuote(id: string, cartId: string, expiresAt: Date, priced: PricedCart): Quote {
  return {
    id,
    cartId,
    expiresAt: expiresAt.toISOString(),
    currency: priced.currency,
    subtotal: priced.subtotal,
    discount: priced.discount,
    promoCode: priced.promoCode,
    shipping: priced.shipping,
    tax: priced.tax,
    taxInclusive: priced.taxInclusive,
    total: priced.total,
    lines: priced.lines,
    shippingOption: priced.shippingOption,
    taxRateBasisPoints: priced.taxRateBasisPoints,
  };
}

export async function quote(input: { db: Db; cartId: string; now?: Date }): Promise<Quote> {
  const cart = await Cart.get(input);
  if (cart.status !== "open") throw new AppError("CART_CLOSED", "This cart has already been checked out", { cartId: cart.id });
  const { priced, promotionProblem } = await priceCurrentCart(input.db, cart, input.now);
  if (promotionProblem) throw promotionProblem;
  const expiresAt = new Date((input.now ?? new Date()).getTime() + QUOTE_TTL_MS);
  const row = await QuoteRepository.insertQuote(input.db, {
    id: randomUUID(),
    cart_id: cart.id,
    currency: priced.currency,
    subtotal: priced.subtotal,
    shipping: priced.shipping,
    tax: priced.tax,
    discount: priced.discount,
    total: priced.total,
    snapshot: JSON.stringify(priced),
    expires_at: expiresAt,
  });
  return pricedToQuote(row.id, cart.id, expiresAt, priced);
}

export interface PriceDifference {
  lines: { sku: string; productName: string; field: "unitPrice" | "quantity" | "lineTotal" | "discount" | "tax" | "added" | "removed"; was: number; now: number }[];
  totals: { field: "subtotal" | "discount" | "shipping" | "tax" | "total"; was: number; now: number }[];
}

/** Line-by-line difference between the quote the shopper saw and the cart priced now. */
export function diffPricing(was: PricedCart, now: PricedCart): PriceDifference {
  const lines: PriceDifference["lines"] = [];
  const nowBySku = new Map(now.lines.map((line) => [line.sku, line]));
  const wasBySku = new Map(was.lines.map((line) => [line.sku, line]));
  for (const old of was.lines) {
    const current = nowBySku.get(old.sku);
    if (!current) {
      lines.push({ sku: old.sku, productName: old.productName, field: "removed", was: old.quantity, now: 0 });
      continue;
    }
    for (const field of ["unitPrice", "quantity", "lineTotal", "discount", "tax"] as const) {
      if (old[field] !== current[field]) lines.push({ sku: old.sku, productName: old.productName, field, was: old[field], now: current[field] });
    }
  }
  for (const current of now.lines) {
    if (!wasBySku.has(current.sku)) lines.push({ sku: current.sku, productName: current.productName, field: "added", was: 0, now: current.quantity });
  }
  const totals: PriceDifference["totals"] = [];
  for (const field of ["subtotal", "discount", "shipping", "tax", "total"] as const) {
    if (was[field] !== now[field]) totals.push({ field, was: was[field], now: now[field] });
  }
  return { lines, totals };
}

export function hasDifference(diff: PriceDifference): boolean {
  return diff.lines.length > 0 || diff.totals.length > 0;
}


export { placeOrder, RESERVATION_TTL_MS } from "./place-order.ts";
export { confirmPayment } from "./confirm-payment.ts";
