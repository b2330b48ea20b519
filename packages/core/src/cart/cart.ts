// The cart: lines of SKUs and quantities in one currency. Prices are always read from the
// catalogue at the moment they are shown; the client never supplies one.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Currency } from "../money.ts";
import * as Money from "../money.ts";
import { AddressSchema, MAX_CART_LINES, type Cart, type CartCurrencyChange, type CartLine, type RemovedCartLine, type ShippingOptionId } from "../schemas.ts";
import type { CartRow, CartUpdate, Database, Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as CartRepository from "./cart.repository.ts";
import * as CatalogRepository from "../catalog/catalog.repository.ts";
import * as StockPolicy from "../inventory/stock-policy.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as PromotionRepository from "../promotion/promotion.repository.ts";

/** The shop's stock policy, for the functions that answer with a cart (its lines' maxQuantity); the default when not given. */
type PolicyInput = { policy?: StockPolicy.StockPolicy };

export function rowToCart(row: CartRow, lines: CartRepository.CartLineDetailRow[], policy: StockPolicy.StockPolicy = StockPolicy.DEFAULT_STOCK_POLICY): Cart {
  const units = lines.reduce((count, line) => count + line.quantity, 0);
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
      maxQuantity: StockPolicy.maxUnitsOfLine(policy, line.available, units - line.quantity),
    };
  });
  const address = row.shipping_address ? AddressSchema.safeParse(row.shipping_address) : null;
  return {
    id: row.id,
    currency: row.currency as Currency,
    status: row.status,
    lines: cartLines,
    itemCount: units,
    subtotal: Money.sum(cartLines.map((line) => line.lineTotal)),
    email: row.email,
    shippingAddress: address?.success ? address.data : null,
    shippingOptionId: (row.shipping_option_id as ShippingOptionId | null) ?? null,
    promoCode: row.promo_code,
  };
}

export function notFound(cartId: string): AppError {
  return new AppError("NOT_FOUND", "This cart does not exist or has expired. Start a new cart.", { cartId });
}

export async function create(input: { db: Db; currency: Currency } & PolicyInput): Promise<Cart> {
  const row = await CartRepository.insertOpenCart(input.db, { id: randomUUID(), currency: input.currency });
  return rowToCart(row, [], input.policy);
}

export async function get(input: { db: Db; cartId: string } & PolicyInput): Promise<Cart> {
  const found = await CartRepository.findCartWithLines(input.db, input.cartId);
  if (!found) throw notFound(input.cartId);
  return rowToCart(found.cart, found.lines, input.policy);
}

/**
 * Runs `change` on an open cart inside a transaction that holds the cart's row lock, then returns
 * the cart as it now is. Concurrent edits to one cart serialise; edits to different carts do not.
 * Taking the lock marks the cart as just changed (its updated_at), so no edit needs to touch it again.
 */
export async function withOpenCart(input: { db: Kysely<Database>; cartId: string } & PolicyInput, change: (trx: Db, cart: CartRow) => Promise<void>): Promise<Cart> {
  return input.db.transaction().execute(async (trx) => {
    const row = await CartRepository.touchCartForUpdate(trx, input.cartId);
    if (!row) throw notFound(input.cartId);
    if (row.status !== "open") throw closed(row.id);
    await change(trx, row);
    const found = await CartRepository.findCartWithLines(trx, row.id);
    if (!found) throw notFound(input.cartId);
    return rowToCart(found.cart, found.lines, input.policy);
  });
}

function closed(cartId: string): AppError {
  return new AppError("CART_CLOSED", "This cart has already been checked out. Start a new cart to buy more.", { cartId });
}

/**
 * Changes fields of an open cart in one statement (no transaction: a single-row update is atomic) and returns the cart
 * as it then is. A missing cart is NOT_FOUND, a closed one CART_CLOSED, and with `requireAddress` a cart without a
 * shipping address is CART_INCOMPLETE: only when the update changed nothing is the cart read again to say which.
 */
export async function updateOpenCart(input: { db: Db; cartId: string; changes: CartUpdate; requireAddress?: { message: string } } & PolicyInput): Promise<Cart> {
  const row = await CartRepository.updateOpenCart(input.db, input.cartId, input.changes, { requireAddress: input.requireAddress !== undefined });
  if (!row) {
    const current = await CartRepository.findCart(input.db, input.cartId);
    if (!current) throw notFound(input.cartId);
    if (current.status !== "open") throw closed(current.id);
    throw new AppError("CART_INCOMPLETE", input.requireAddress?.message ?? "This cart is not ready for that yet", { missing: ["shippingAddress"] });
  }
  const found = await CartRepository.findCartWithLines(input.db, row.id);
  if (!found) throw notFound(input.cartId);
  return rowToCart(found.cart, found.lines, input.policy);
}

/** The variant if `quantity` units of it can go in a cart in `currency`: it exists, is sold in that currency and has that many for sale. */
async function assertSellable(db: Db, currency: Currency, sku: string, quantity: number) {
  const variant = await CatalogRepository.findVariantBySku(db, currency, sku);
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
  return variant;
}

/** The stock policy for `quantity` units of one SKU in this cart, beside the units of every other SKU in it. */
async function assertWithinPolicy(
  db: Db,
  input: { cart: CartRow; sku: string; quantity: number; unitsOfSkuNow: number; cartUnits: number; policy: StockPolicy.StockPolicy },
): Promise<void> {
  const variant = await assertSellable(db, input.cart.currency as Currency, input.sku, input.quantity);
  const { cartUnits } = input;
  StockPolicy.assertWithinLimits(input.policy, {
    sku: input.sku,
    label: `${variant.product_name} (${variant.variant_name})`,
    quantity: input.quantity,
    available: variant.available,
    otherUnits: cartUnits - input.unitsOfSkuNow,
  });
}

/**
 * Adds units of a SKU; a SKU already in the cart gets its one line raised, so the per-item cap holds
 * however the units arrive. `policy` is the shop's stock policy (the default when not given).
 */
export function addLine(input: { db: Kysely<Database>; cartId: string; sku: string; quantity: number; policy?: StockPolicy.StockPolicy }): Promise<Cart> {
  const policy = input.policy ?? StockPolicy.DEFAULT_STOCK_POLICY;
  return withOpenCart(input, async (trx, cart) => {
    const summary = await CartRepository.summariseLines(trx, cart.id, input.sku);
    const existing = summary.lineOfSku;
    const quantity = (existing?.quantity ?? 0) + input.quantity;
    await assertWithinPolicy(trx, { cart, sku: input.sku, quantity, unitsOfSkuNow: existing?.quantity ?? 0, cartUnits: summary.units, policy });
    if (existing) {
      await CartRepository.setLineQuantity(trx, existing.id, quantity);
    } else {
      if (summary.lines >= MAX_CART_LINES) {
        throw new AppError("QUANTITY_LIMIT", `A cart holds at most ${MAX_CART_LINES} different items`, { cartId: cart.id, maxLines: MAX_CART_LINES });
      }
      await CartRepository.insertLine(trx, { id: randomUUID(), cart_id: cart.id, sku: input.sku, quantity });
    }
  });
}

export function updateLine(input: { db: Kysely<Database>; cartId: string; lineId: string; quantity: number; policy?: StockPolicy.StockPolicy }): Promise<Cart> {
  const policy = input.policy ?? StockPolicy.DEFAULT_STOCK_POLICY;
  return withOpenCart(input, async (trx, cart) => {
    const line = await CartRepository.findLine(trx, cart.id, input.lineId);
    if (!line) throw new AppError("NOT_FOUND", "That item is no longer in your cart", { lineId: input.lineId });
    const { units } = await CartRepository.summariseLines(trx, cart.id, line.sku);
    await assertWithinPolicy(trx, { cart, sku: line.sku, quantity: input.quantity, unitsOfSkuNow: line.quantity, cartUnits: units, policy });
    await CartRepository.setLineQuantity(trx, line.id, input.quantity);
  });
}

export function removeLine(input: { db: Kysely<Database>; cartId: string; lineId: string } & PolicyInput): Promise<Cart> {
  return withOpenCart(input, async (trx, cart) => {
    const result = await CartRepository.deleteLine(trx, cart.id, input.lineId);
    if (Number(result.numDeletedRows) === 0) {
      throw new AppError("NOT_FOUND", "That item is no longer in your cart", { lineId: input.lineId });
    }
  });
}

/** "Desk Lamp", "Black T-shirt (M) and Mug (Sand)", "A, B and C": a product with one variant goes by its own name. */
function nameLines(lines: readonly RemovedCartLine[]): string {
  const names = lines.map((line) => (line.variantName === "Default" ? line.productName : `${line.productName} (${line.variantName})`));
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/**
 * Moves an open cart to another currency in one transaction: every line keeps its quantity and is priced from its
 * variant's price in the new currency (a cart's prices are always read in its own currency). A line with no price in
 * it is refused by name (CURRENCY_MISMATCH, nothing changed) unless `removeUnavailable`, when it is removed and
 * reported. A promo code that only works in the old currency is taken off and reported. The contact, address and
 * shipping choice stay (every option is priced in both currencies); every quote of the cart expires, so an order is
 * only ever placed from a quote in the cart's currency. Not while a payment for the cart is in progress.
 */
export async function setCurrency(input: { db: Kysely<Database>; cartId: string; currency: Currency; removeUnavailable?: boolean } & PolicyInput): Promise<CartCurrencyChange> {
  let removed: RemovedCartLine[] = [];
  let removedPromoCode: string | null = null;
  const cart = await withOpenCart(input, async (trx, row) => {
    if (row.currency === input.currency) return;
    const orders = await OrderRepository.listOrdersOfCart(trx, row.id);
    const paying = orders.find((order) => order.status === "pending_payment");
    if (paying) {
      throw new AppError("CHECKOUT_IN_PROGRESS", "Your payment for this cart is still being processed, so its currency cannot change now", {
        orderId: paying.id,
        retryAfterSeconds: 5,
      });
    }
    const lines = await CartRepository.listLinesPricedIn(trx, row.id, input.currency);
    const unavailable = lines.filter((line) => line.amount === null);
    removed = unavailable.map((line) => ({ sku: line.sku, productName: line.product_name, variantName: line.variant_name, quantity: line.quantity }));
    if (unavailable.length > 0 && !input.removeUnavailable) {
      const verb = unavailable.length === 1 ? "is" : "are";
      throw new AppError(
        "CURRENCY_MISMATCH",
        `${nameLines(removed)} ${verb} not sold in ${input.currency}; remove ${unavailable.length === 1 ? "it" : "them"} to switch to ${input.currency}`,
        {
          currency: input.currency,
          lines: unavailable.map((line, at) => ({ lineId: line.id, ...removed[at] })),
        },
      );
    }
    await CartRepository.deleteLines(
      trx,
      row.id,
      unavailable.map((line) => line.id),
    );
    const promotion = row.promo_code ? await PromotionRepository.findPromotionByCode(trx, row.promo_code) : undefined;
    const promoCurrency = promotion?.currency?.trim() || null;
    const isPromoForOtherCurrency = promoCurrency !== null && promoCurrency !== input.currency;
    if (isPromoForOtherCurrency) removedPromoCode = row.promo_code;
    await CartRepository.updateCart(trx, row.id, { currency: input.currency, ...(isPromoForOtherCurrency ? { promo_code: null } : {}) });
    await CartRepository.expireQuotesOfCart(trx, row.id);
  });
  return { cart, removed, removedPromoCode };
}
