// Checkout: contact, shipping address and option, the quote the shopper confirms, and placing
// the order: stock reserved by the database before the card is authorised, and an order that is
// either fully placed or cleanly failed.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { normaliseAddress, type Address, type Cart as CartView, type Quote, type ShippingOption, type ShippingOptionId } from "../schemas.ts";
import type { Database, Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as Cart from "../cart/cart.ts";
import * as CartRepository from "../cart/cart.repository.ts";
import type { StockPolicy } from "../inventory/stock-policy.ts";
import * as QuoteRepository from "./quote.repository.ts";
import { cartLinesForPricing, priceCurrentCart } from "./cart-pricing.ts";
import { totalWeight, type PricedCart } from "../pricing/pricing.ts";
import { quoteShippingOptions } from "../pricing/shipping.ts";

export const QUOTE_TTL_MS = 15 * 60 * 1000;

export function setContact(input: { db: Kysely<Database>; cartId: string; email: string; policy?: StockPolicy }): Promise<CartView> {
  return Cart.updateOpenCart({ db: input.db, cartId: input.cartId, changes: { email: input.email.toLowerCase() }, policy: input.policy });
}

export function setShippingAddress(input: { db: Kysely<Database>; cartId: string; address: Address; policy?: StockPolicy }): Promise<CartView> {
  return Cart.updateOpenCart({ db: input.db, cartId: input.cartId, changes: { shipping_address: JSON.stringify(normaliseAddress(input.address)) }, policy: input.policy });
}

function requireAddress(cart: CartView): Address {
  if (!cart.shippingAddress) throw new AppError("CART_INCOMPLETE", "Enter a shipping address first", { missing: ["shippingAddress"] });
  return cart.shippingAddress;
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

export function setShippingOption(input: { db: Kysely<Database>; cartId: string; optionId: ShippingOptionId; policy?: StockPolicy }): Promise<CartView> {
  return Cart.updateOpenCart({
    db: input.db,
    cartId: input.cartId,
    changes: { shipping_option_id: input.optionId },
    requireAddress: { message: "Enter a shipping address before choosing shipping" },
    policy: input.policy,
  });
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
  // The cart and its lines, read once: pricing uses the same rows.
  const found = await CartRepository.findCartWithLines(input.db, input.cartId);
  if (!found) throw Cart.notFound(input.cartId);
  const cart = Cart.rowToCart(found.cart, found.lines);
  if (cart.status !== "open") throw new AppError("CART_CLOSED", "This cart has already been checked out", { cartId: cart.id });
  const { priced, promotionProblem } = await priceCurrentCart(input.db, cart, input.now, found.lines);
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

export { diffPricing, hasDifference, priceCurrentCart, type PriceDifference } from "./cart-pricing.ts";
export { placeOrder, RESERVATION_TTL_MS } from "./place-order.ts";
export { confirmPayment } from "./confirm-payment.ts";
