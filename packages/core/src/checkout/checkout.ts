// Checkout: contact, shipping address and option, the quote the shopper confirms, and placing
// the order: stock reserved by the database before the card is authorised, and an order that is
// either fully placed or cleanly failed.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Currency } from "../money.ts";
import {
  normaliseAddress,
  type Address,
  type Cart as CartView,
  type Order,
  type Quote,
  type ShippingOption,
  type ShippingOptionId,
} from "../schemas.ts";
import type { Database, Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as Cart from "../cart/cart.ts";
import * as CartRepository from "../cart/cart.repository.ts";
import * as InventoryRepository from "../inventory/inventory.repository.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as OrderModule from "../order/order.ts";
import * as PaymentRepository from "../payment/payment.repository.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as QuoteRepository from "./quote.repository.ts";
import { priceCart, totalWeight, type PricedCart } from "../pricing/pricing.ts";
import { quoteShippingOptions } from "../pricing/shipping.ts";
import {
  PaymentProviderUnavailableError,
  PaymentTokenRejectedError,
  type AuthorizeResult,
  type PaymentProvider,
} from "../payment/payment-provider.ts";

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

/** Prices the cart as it is now, failing with a typed error if anything needed is missing. */
async function priceCurrentCart(db: Db, cart: CartView): Promise<{ priced: PricedCart; address: Address; email: string }> {
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
  const priced = priceCart({
    currency: cart.currency,
    lines,
    address: cart.shippingAddress,
    shippingOptionId: cart.shippingOptionId,
  });
  return { priced, address: cart.shippingAddress, email: cart.email };
}

function pricedToQuote(id: string, cartId: string, expiresAt: Date, priced: PricedCart): Quote {
  return {
    id,
    cartId,
    expiresAt: expiresAt.toISOString(),
    currency: priced.currency,
    subtotal: priced.subtotal,
    shipping: priced.shipping,
    tax: priced.tax,
    total: priced.total,
    lines: priced.lines,
    shippingOption: priced.shippingOption,
    taxRateBasisPoints: priced.taxRateBasisPoints,
  };
}

export async function quote(input: { db: Db; cartId: string; now?: Date }): Promise<Quote> {
  const cart = await Cart.get(input);
  if (cart.status !== "open") throw new AppError("CART_CLOSED", "This cart has already been checked out", { cartId: cart.id });
  const { priced } = await priceCurrentCart(input.db, cart);
  const expiresAt = new Date((input.now ?? new Date()).getTime() + QUOTE_TTL_MS);
  const row = await QuoteRepository.insertQuote(input.db, {
    id: randomUUID(),
    cart_id: cart.id,
    currency: priced.currency,
    subtotal: priced.subtotal,
    shipping: priced.shipping,
    tax: priced.tax,
    total: priced.total,
    snapshot: JSON.stringify(priced),
    expires_at: expiresAt,
  });
  return pricedToQuote(row.id, cart.id, expiresAt, priced);
}

export interface PriceDifference {
  lines: { sku: string; productName: string; field: "unitPrice" | "quantity" | "lineTotal" | "tax" | "added" | "removed"; was: number; now: number }[];
  totals: { field: "subtotal" | "shipping" | "tax" | "total"; was: number; now: number }[];
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
    for (const field of ["unitPrice", "quantity", "lineTotal", "tax"] as const) {
      if (old[field] !== current[field]) lines.push({ sku: old.sku, productName: old.productName, field, was: old[field], now: current[field] });
    }
  }
  for (const current of now.lines) {
    if (!wasBySku.has(current.sku)) lines.push({ sku: current.sku, productName: current.productName, field: "added", was: 0, now: current.quantity });
  }
  const totals: PriceDifference["totals"] = [];
  for (const field of ["subtotal", "shipping", "tax", "total"] as const) {
    if (was[field] !== now[field]) totals.push({ field, was: was[field], now: now[field] });
  }
  return { lines, totals };
}

function hasDifference(diff: PriceDifference): boolean {
  return diff.lines.length > 0 || diff.totals.length > 0;
}

/** The provider's idempotency key for authorising an order: one order, at most one authorisation. */
export function authorizationKey(orderId: string): string {
  return `order_${orderId}_authorize`;
}

export async function placeOrder(input: {
  db: Kysely<Database>;
  cartId: string;
  quoteId: string;
  paymentToken: string;
  payments: PaymentProvider;
  now?: Date;
}): Promise<Order> {
  const now = input.now ?? new Date();
  const quoteRow = await QuoteRepository.findQuote(input.db, input.quoteId);
  if (!quoteRow || quoteRow.cart_id !== input.cartId) {
    throw new AppError("NOT_FOUND", "That quote does not belong to this cart; review your order again", { quoteId: input.quoteId });
  }
  if (quoteRow.expires_at.getTime() <= now.getTime()) {
    throw new AppError("QUOTE_EXPIRED", "Your order summary has expired; review the latest total and place the order again", {
      quoteId: quoteRow.id,
      expiredAt: quoteRow.expires_at.toISOString(),
    });
  }
  const quoted = quoteRow.snapshot as unknown as PricedCart;

  // Unit of work 1: validate against the quote, write the order, reserve stock. All or nothing.
  const order = await input.db.transaction().execute(async (trx) => {
    const cartRow = await CartRepository.findCartForUpdate(trx, input.cartId);
    if (!cartRow) throw new AppError("NOT_FOUND", "This cart does not exist or has expired", { cartId: input.cartId });
    const live = await OrderRepository.findLiveOrderOfCart(trx, cartRow.id);
    if (live && live.status === "pending_payment") {
      throw new AppError("CHECKOUT_IN_PROGRESS", "This order is already being placed; wait a moment and check your confirmation", {
        orderId: live.id,
      });
    }
    if (live || cartRow.status !== "open") {
      throw new AppError("ALREADY_ORDERED", "This cart has already been ordered", { orderId: live?.id ?? null });
    }
    const cart = Cart.rowToCart(cartRow, (await CartRepository.findCartWithLines(trx, cartRow.id))?.lines ?? []);
    const { priced, address, email } = await priceCurrentCart(trx, cart);
    const diff = diffPricing(quoted, priced);
    if (hasDifference(diff)) {
      throw new AppError("PRICE_CHANGED", "Your order total has changed since you reviewed it; please check the new total", {
        ...diff,
        quotedTotal: quoted.total,
        currentTotal: priced.total,
      });
    }
    const orderRow = await OrderRepository.insertOrder(trx, {
      id: randomUUID(),
      cart_id: cart.id,
      quote_id: quoteRow.id,
      status: "pending_payment",
      email,
      shipping_address: JSON.stringify(address),
      shipping_option: JSON.stringify(priced.shippingOption),
      currency: priced.currency,
      subtotal: priced.subtotal,
      shipping: priced.shipping,
      tax: priced.tax,
      total: priced.total,
    });
    await OrderRepository.insertOrderLines(
      trx,
      priced.lines.map((line, position) => ({
        order_id: orderRow.id,
        position,
        sku: line.sku,
        product_name: line.productName,
        variant_name: line.variantName,
        unit_price: line.unitPrice,
        quantity: line.quantity,
        line_total: line.lineTotal,
        tax: line.tax,
      })),
    );
    // Reserve in SKU order so two orders over the same SKUs never deadlock.
    for (const line of [...priced.lines].sort((a, b) => a.sku.localeCompare(b.sku))) {
      if (!(await InventoryRepository.reserve(trx, line.sku, line.quantity))) {
        throw new AppError("OUT_OF_STOCK", `${line.productName} (${line.variantName}) sold out while you were checking out`, {
          sku: line.sku,
          requested: line.quantity,
        });
      }
    }
    await Audit.record(trx, { entity: "order", entityId: orderRow.id, action: "order.created", data: { status: "pending_payment", total: priced.total, currency: priced.currency } });
    return orderRow;
  });

  // The provider call happens outside any transaction: no row lock is held while we wait on it.
  let result: AuthorizeResult;
  try {
    result = await input.payments.authorize({
      token: input.paymentToken,
      amount: order.total,
      currency: order.currency as Currency,
      idempotencyKey: authorizationKey(order.id),
      reference: order.number,
    });
  } catch (error) {
    if (error instanceof PaymentTokenRejectedError) {
      await failOrder(input.db, order.id, input.payments.name, { code: "token_rejected", message: error.message, card: null, amount: order.total, currency: order.currency });
      throw new AppError("PAYMENT_TOKEN_INVALID", "The card details expired or were already used; enter your card again", { orderId: order.id });
    }
    if (error instanceof PaymentProviderUnavailableError) {
      // The outcome is unknown, so the order stays pending_payment with its stock reserved; the
      // authorisation key is derived from the order, so resolving it later cannot charge twice.
      throw new AppError("PAYMENT_UNAVAILABLE", "We could not reach the payment processor. Your card has not been charged twice; try again shortly.", {
        orderId: order.id,
      });
    }
    throw error;
  }

  if (result.status === "declined") {
    await failOrder(input.db, order.id, input.payments.name, { ...result, amount: order.total, currency: order.currency });
    throw new AppError("PAYMENT_DECLINED", result.message, { code: result.code, orderId: order.id });
  }

  await input.db.transaction().execute(async (trx) => {
    if (!(await OrderModule.transition({ db: trx, orderId: order.id, from: "pending_payment", to: "authorised" }))) {
      throw new AppError("ILLEGAL_TRANSITION", "The order changed while its payment was authorised", { orderId: order.id });
    }
    const payment = await PaymentRepository.insertPayment(trx, {
      id: randomUUID(),
      order_id: order.id,
      provider: input.payments.name,
      provider_reference: result.authorizationId,
      status: "authorised",
      amount: order.total,
      currency: order.currency,
      card_brand: result.card.brand,
      card_last4: result.card.last4,
    });
    await CartRepository.updateCart(trx, order.cart_id, { status: "completed" });
    await Audit.record(trx, { entity: "payment", entityId: payment.id, action: "payment.authorised", data: { orderId: order.id, amount: order.total } });
    await Audit.record(trx, { entity: "order", entityId: order.id, action: "order.authorised", data: { from: "pending_payment", to: "authorised" } });
  });
  return OrderModule.get({ db: input.db, orderId: order.id });
}

/** Marks an order's payment as failed and gives its stock back, in one transaction. */
async function failOrder(
  db: Kysely<Database>,
  orderId: string,
  provider: string,
  failure: { code: string; message: string; card: { brand: string; last4: string } | null; amount: number; currency: string },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await OrderModule.transition({ db: trx, orderId, from: "pending_payment", to: "payment_failed" }))) return;
    for (const line of await OrderRepository.listOrderLines(trx, orderId)) {
      await InventoryRepository.release(trx, line.sku, line.quantity);
    }
    const payment = await PaymentRepository.insertPayment(trx, {
      id: randomUUID(),
      order_id: orderId,
      provider,
      status: "declined",
      amount: failure.amount,
      currency: failure.currency,
      card_brand: failure.card?.brand ?? null,
      card_last4: failure.card?.last4 ?? null,
      decline_code: failure.code,
    });
    await Audit.record(trx, { entity: "payment", entityId: payment.id, action: "payment.declined", data: { orderId, code: failure.code } });
    await Audit.record(trx, { entity: "order", entityId: orderId, action: "order.payment_failed", data: { from: "pending_payment", to: "payment_failed" } });
  });
}
