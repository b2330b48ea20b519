// Placing orders in core's tests: straight through Checkout.placeOrder with a (fake) provider, never over HTTP.
import type { Kysely } from "kysely";
import { Checkout, type Database, type OrderRow, type PaymentProvider } from "../../src/index.ts";
import { quotedCart, type ReadyCartOptions } from "./fixtures.ts";

type PlaceOrderInput = Parameters<typeof Checkout.placeOrder>[0];
export type PlaceOptions = Partial<Omit<PlaceOrderInput, "db" | "payments" | "cartId" | "quoteId">>;

export interface PlaceResult {
  /** The order placeOrder answered with, or null when it threw. */
  placed: Awaited<ReturnType<typeof Checkout.placeOrder>> | null;
  /** What placeOrder threw, or null. */
  error: unknown;
  /** The cart's latest order row, whatever happened (undefined when no order was written). */
  row: OrderRow | undefined;
}

let tokens = 0;
/** A fresh payment token, as the card field would give (the fake provider accepts any). */
export const newToken = () => `tok_test_${++tokens}_${Date.now()}`;

/** Calls placeOrder for a quoted cart and reports what happened, whether it answered or threw. */
export async function placeOrder(db: Kysely<Database>, payments: PaymentProvider, input: { cartId: string; quoteId: string } & PlaceOptions): Promise<PlaceResult> {
  const outcome = await Checkout.placeOrder({ db, payments, paymentToken: newToken(), ...input }).then(
    (placed) => ({ placed, error: null as unknown }),
    (error: unknown) => ({ placed: null, error }),
  );
  const row = await db.selectFrom("order").selectAll().where("cart_id", "=", input.cartId).orderBy("created_at", "desc").executeTakeFirst();
  return { ...outcome, row };
}

/** A ready cart, its quote and placeOrder with `payments`: the whole checkout in one call. */
export async function checkout(
  db: Kysely<Database>,
  payments: PaymentProvider,
  options: ReadyCartOptions & PlaceOptions = {},
): Promise<PlaceResult & { cartId: string; quoteId: string; total: number }> {
  const { currency, lines, email, address, shippingOption, ...place } = options;
  const { cartId, quote } = await quotedCart(db, { currency, lines, email, address, shippingOption });
  return { ...(await placeOrder(db, payments, { cartId, quoteId: quote.id, ...place })), cartId, quoteId: quote.id, total: quote.total };
}

/** The payment rows of an order, oldest first. */
export function paymentsOf(db: Kysely<Database>, orderId: string) {
  return db.selectFrom("payment").selectAll().where("order_id", "=", orderId).orderBy("created_at").execute();
}

/** The actions of an entity's audit trail, in order. */
export async function actionsOf(db: Kysely<Database>, entity: string, entityId: string): Promise<string[]> {
  const rows = await db.selectFrom("audit_log").select("action").where("entity", "=", entity).where("entity_id", "=", entityId).orderBy("id").execute();
  return rows.map((row) => row.action);
}
