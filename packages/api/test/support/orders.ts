// Orders and payments as the database holds them, and an order placed the way the shopper's browser places one.
import type { Database } from "@checkout/core";
import type { Kysely } from "kysely";
import { CARDS, readyCart, type TestApp } from "./app.ts";

/** The orders of one cart (or of several: at least one), oldest first. */
export function ordersOf(db: Kysely<Database>, cartIds: string | readonly string[]) {
  const ids = typeof cartIds === "string" ? [cartIds] : [...cartIds];
  return db.selectFrom("order").selectAll().where("cart_id", "in", ids).orderBy("created_at").orderBy("id").execute();
}

/** The payment rows of an order. */
export function paymentsOf(db: Kysely<Database>, orderId: string) {
  return db.selectFrom("payment").selectAll().where("order_id", "=", orderId).execute();
}

/** Readies a cart (`lines`, default 2 × TEE-BLA-M), quotes it and places the order with `card` over tRPC. */
export async function placeOrder(t: TestApp, options: { lines?: { sku: string; quantity: number }[]; card?: string } = {}) {
  const cartId = await readyCart(t.client, options.lines);
  const quote = await t.client.checkout.quote.mutate({ cartId });
  const order = await t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(options.card ?? CARDS.success) });
  return { cartId, quoteId: quote.id, order };
}
