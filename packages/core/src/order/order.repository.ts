// Order persistence: orders, their lines, and guarded status updates.
import { sql } from "kysely";
import type { Db, NewOrder, NewOrderLine, OrderLineRow, OrderRow, PaymentRow } from "../db/database.ts";
import { compileOnce } from "../db/compiled-query.ts";
import type { Address, Order, OrderStatus, Payment, ShippingOption } from "../schemas.ts";

export function insertOrder(db: Db, order: NewOrder) {
  return db.insertInto("order").values(order).returningAll().executeTakeFirstOrThrow();
}

export function insertOrderLines(db: Db, lines: NewOrderLine[]) {
  return db.insertInto("order_line").values(lines).execute();
}

export function findOrder(db: Db, orderId: string) {
  return db.selectFrom("order").selectAll().where("id", "=", orderId).executeTakeFirst();
}

/** Reads the order and holds its row lock until the transaction ends, so status changes wait their turn. */
export function findOrderForUpdate(db: Db, orderId: string) {
  return db.selectFrom("order").selectAll().where("id", "=", orderId).forUpdate().executeTakeFirst();
}

export function findOrderByNumber(db: Db, number: string) {
  return db.selectFrom("order").selectAll().where("number", "=", number).executeTakeFirst();
}

/**
 * Every order of the cart, newest first: its live one (at most one is not payment_failed) and the attempts before it.
 * A cart has few (declines per cart are limited), so placeOrder reads them in one statement and looks among them.
 */
export function listOrdersOfCart(db: Db, cartId: string): Promise<OrderRow[]> {
  return ordersOfCart.execute(db, { cartId });
}

const ordersOfCart = compileOnce<{ cartId: string }, OrderRow>(["cartId"], (db, { cartId }) =>
  db.selectFrom("order").selectAll().where("cart_id", "=", cartId).orderBy("created_at", "desc").orderBy("id"),
);

/**
 * Takes the authorisation claim of a pending order whose provider never answered (no payment row):
 * only when nobody holds it (null or run out by `now`). One conditional update, so of two callers at
 * most one wins; no row lock is held while the winner then calls the provider.
 */
export async function claimAuthorization(db: Db, input: { orderId: string; until: Date; now: Date }): Promise<boolean> {
  const result = await db
    .updateTable("order")
    .set({ authorizing_until: input.until })
    .where("id", "=", input.orderId)
    .where("status", "=", "pending_payment")
    .where((eb) => eb.or([eb("authorizing_until", "is", null), eb("authorizing_until", "<=", input.now)]))
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom("payment").select("payment.id").whereRef("payment.order_id", "=", "order.id"))))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Gives the claim back, only if it is still the one this caller took (`until`). */
export async function releaseAuthorizationClaim(db: Db, input: { orderId: string; until: Date }): Promise<void> {
  await db.updateTable("order").set({ authorizing_until: null }).where("id", "=", input.orderId).where("authorizing_until", "=", input.until).execute();
}

export function listOrderLines(db: Db, orderId: string) {
  return db.selectFrom("order_line").selectAll().where("order_id", "=", orderId).orderBy("position").execute();
}

/**
 * Moves an order from `from` to `to` only if it is still in `from`; returns whether it moved. Leaving pending_payment
 * also ends any authorisation claim: a claim guards only a pending order (from retries and the reconciler).
 */
export async function transitionStatus(db: Db, orderId: string, from: OrderStatus, to: OrderStatus): Promise<boolean> {
  const changes = from === "pending_payment" ? { status: to, authorizing_until: null } : { status: to };
  const result = await db
    .updateTable("order")
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where("id", "=", orderId)
    .where("status", "=", from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** What an order shows of each line; its picture is the variant's (or product's) as the catalogue has it now. */
export type OrderLineView = Pick<OrderLineRow, "sku" | "product_name" | "variant_name" | "unit_price" | "quantity" | "line_total" | "discount" | "tax"> & {
  image: string | null;
};

/** An order row with its lines (in position order) and its latest payment, as JSON built by the database. */
export interface OrderWithDetailsRow extends OrderRow {
  lines_json: OrderLineView[];
  payment_json: Pick<PaymentRow, "id" | "status" | "amount" | "currency" | "card_brand" | "card_last4" | "decline_code" | "next_action_url"> | null;
}

/** The order, its lines and its latest payment in one statement (the shopper's confirmation, and every order answer). */
export async function findOrderWithDetails(db: Db, orderId: string): Promise<OrderWithDetailsRow | undefined> {
  const [row] = await orderWithDetails.execute(db, { orderId });
  return row;
}

const orderWithDetails = compileOnce<{ orderId: string }, OrderWithDetailsRow>(["orderId"], (db, { orderId }) =>
  db
    .selectFrom("order as o")
    .selectAll("o")
    .select(
      sql<OrderLineView[]>`coalesce((select json_agg(json_build_object('sku', l.sku, 'product_name', l.product_name, 'variant_name', l.variant_name,
        'unit_price', l.unit_price, 'quantity', l.quantity, 'line_total', l.line_total, 'discount', l.discount, 'tax', l.tax,
        'image', (select coalesce(v.image, p.image) from variant v join product p on p.id = v.product_id where v.sku = l.sku)) order by l.position)
        from order_line l where l.order_id = o.id), '[]'::json)`.as("lines_json"),
    )
    .select(
      sql<OrderWithDetailsRow["payment_json"]>`(select json_build_object('id', p.id, 'status', p.status, 'amount', p.amount, 'currency', p.currency,
        'card_brand', p.card_brand, 'card_last4', p.card_last4, 'decline_code', p.decline_code, 'next_action_url', p.next_action_url)
        from payment p where p.order_id = o.id order by p.created_at desc, p.id limit 1)`.as("payment_json"),
    )
    .where("o.id", "=", orderId),
);

export function rowToOrder(row: OrderRow, lines: readonly OrderLineView[], payment: Payment | null): Order {
  return {
    id: row.id,
    number: row.number,
    status: row.status,
    email: row.email,
    shippingAddress: row.shipping_address as Address,
    shippingOption: row.shipping_option as unknown as ShippingOption,
    currency: row.currency,
    subtotal: row.subtotal,
    discount: row.discount,
    promoCode: row.promo_code,
    shipping: row.shipping,
    tax: row.tax,
    taxInclusive: row.tax_inclusive,
    total: row.total,
    lines: lines.map((line) => ({
      sku: line.sku,
      productName: line.product_name,
      variantName: line.variant_name,
      unitPrice: line.unit_price,
      quantity: line.quantity,
      lineTotal: line.line_total,
      discount: line.discount,
      tax: line.tax,
      image: line.image ?? "",
    })),
    payment,
    placedAt: row.created_at.toISOString(),
  };
}
