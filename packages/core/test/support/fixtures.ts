// Small fixtures for core's database tests: a cart ready to quote, a quote, and the stock of a SKU read or set.
import type { Kysely } from "kysely";
import { sql } from "kysely";
import { Cart, Checkout, type Address, type Currency, type Database, type Quote, type ShippingOptionId } from "../../src/index.ts";

export const US_ADDRESS: Address = {
  name: "Ada Lovelace",
  line1: "500 Howard St",
  city: "San Francisco",
  region: "CA",
  postalCode: "94105",
  country: "US",
};

export const DE_ADDRESS: Address = { name: "Emmy Noether", line1: "Unter den Linden 6", city: "Berlin", postalCode: "10117", country: "DE" };

export interface ReadyCartOptions {
  currency?: Currency;
  lines?: { sku: string; quantity: number }[];
  email?: string;
  address?: Address;
  shippingOption?: ShippingOptionId;
}

/** A cart with lines, contact, shipping address and shipping option: ready to quote. Returns its id. */
export async function readyCart(db: Kysely<Database>, options: ReadyCartOptions = {}): Promise<string> {
  const cart = await Cart.create({ db, currency: options.currency ?? "USD" });
  for (const line of options.lines ?? [{ sku: "TEE-BLA-M", quantity: 2 }]) await Cart.addLine({ db, cartId: cart.id, ...line });
  await Checkout.setContact({ db, cartId: cart.id, email: options.email ?? "ada@example.com" });
  await Checkout.setShippingAddress({ db, cartId: cart.id, address: options.address ?? (options.currency === "EUR" ? DE_ADDRESS : US_ADDRESS) });
  await Checkout.setShippingOption({ db, cartId: cart.id, optionId: options.shippingOption ?? "standard" });
  return cart.id;
}

/** A ready cart and the quote the shopper confirms. */
export async function quotedCart(db: Kysely<Database>, options: ReadyCartOptions = {}): Promise<{ cartId: string; quote: Quote }> {
  const cartId = await readyCart(db, options);
  return { cartId, quote: await Checkout.quote({ db, cartId }) };
}

/** Units of `sku` still for sale. */
export async function stockOf(db: Kysely<Database>, sku: string): Promise<number> {
  const row = await db.selectFrom("inventory").select("available").where("sku", "=", sku).executeTakeFirstOrThrow();
  return row.available;
}

/**
 * Puts `available` units of `sku` on sale, as a restock or a stock count would: units live orders hold stay held, so
 * `stock_received` (available plus held) moves by as much as `available` does.
 */
export async function setStock(db: Kysely<Database>, sku: string, available: number): Promise<void> {
  const result = await db
    .updateTable("inventory")
    .set({ available, stock_received: sql<number>`stock_received - available + ${available}`, updated_at: sql<Date>`now()` })
    .where("sku", "=", sku)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new Error(`no inventory row for ${sku}`);
}
