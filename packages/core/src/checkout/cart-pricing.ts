// The cart priced as it is now for checkout (stock and promotion checked), and the difference between two pricings:
// shared by the quote the shopper confirms and placeOrder's re-check, so neither imports the other.
import type { Address, Cart as CartView } from "../schemas.ts";
import type { Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as CartRepository from "../cart/cart.repository.ts";
import { priceCart, type PricedCart } from "../pricing/pricing.ts";
import * as PromotionService from "../promotion/promotion.service.ts";
import type { Promotion } from "../promotion/promotion.ts";

/**
 * The cart's lines with today's prices and stock, refusing a line no longer sold in the cart's currency. `rows` are the
 * cart's line rows when the caller has just read them with the cart (same transaction): they are not read again.
 */
export async function cartLinesForPricing(db: Db, cart: CartView, rows?: readonly CartRepository.CartLineDetailRow[]) {
  rows ??= (await CartRepository.findCartWithLines(db, cart.id))?.lines ?? [];
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

/**
 * Prices the cart as it is now, failing with a typed error if anything needed is missing. A promo
 * code that can no longer be used is left out of the price and reported as `promotionProblem`;
 * the caller decides whether that is an error (quote) or a price change (placeOrder).
 */
export async function priceCurrentCart(
  db: Db,
  cart: CartView,
  now: Date = new Date(),
  /** The cart's line rows, read with `cart` by the caller; read here when not given. */
  lineRows?: readonly CartRepository.CartLineDetailRow[],
): Promise<{ priced: PricedCart; address: Address; email: string; promotion: Promotion | null; promotionProblem: AppError | null }> {
  const missing: string[] = [];
  if (cart.lines.length === 0) missing.push("lines");
  if (!cart.email) missing.push("email");
  if (!cart.shippingAddress) missing.push("shippingAddress");
  if (!cart.shippingOptionId) missing.push("shippingOption");
  if (missing.length > 0 || !cart.email || !cart.shippingAddress || !cart.shippingOptionId) {
    throw new AppError("CART_INCOMPLETE", `Before checking out, add: ${missing.join(", ")}`, { missing });
  }
  const lines = await cartLinesForPricing(db, cart, lineRows);
  const short = lines.filter((line) => line.quantity > line.available);
  if (short.length > 0) {
    throw new AppError("OUT_OF_STOCK", short.map((line) => `${line.productName} (${line.variantName}): ${line.available} left`).join("; "), {
      lines: short.map((line) => ({ sku: line.sku, requested: line.quantity, available: line.available })),
    });
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
