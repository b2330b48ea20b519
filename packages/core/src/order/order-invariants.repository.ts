// Read-only queries behind the invariant check: stock per SKU against the units live orders hold,
// orders by status, payments by status, and each order's charges grouped by shape.
import { sql, type RawBuilder } from "kysely";
import type { Db } from "../db/database.ts";

/** Order statuses whose stock was given back (payment failed, cancelled): their lines hold nothing. */
const RELEASED_STATUSES = ["payment_failed", "cancelled"] as const;

export interface StockBalanceRow {
  sku: string;
  /** Null when order lines name a SKU that has no inventory row. */
  available: number | null;
  stock_received: number | null;
  /** Units on lines of orders that still hold their stock. */
  held: number;
}

/** Every SKU with an inventory row or a live order line, with what is available, what was received and what orders hold. */
export async function listStockBalances(db: Db): Promise<StockBalanceRow[]> {
  const result = await sql<StockBalanceRow>`
    with held as (
      select l.sku, sum(l.quantity)::int8 as held
      from order_line l join "order" o on o.id = l.order_id
      where o.status not in (${sql.join(RELEASED_STATUSES.map((s) => sql.lit(s)))})
      group by l.sku
    )
    select coalesce(i.sku, h.sku) as sku, i.available, i.stock_received, coalesce(h.held, 0)::int8 as held
    from inventory i full outer join held h on h.sku = i.sku
    order by 1`.execute(db);
  return result.rows;
}

export async function countOrdersByStatus(db: Db): Promise<{ status: string; orders: number }[]> {
  const result = await sql<{ status: string; orders: number }>`
    select status, count(*)::int8 as orders from "order" group by status order by status`.execute(db);
  return result.rows;
}

export interface PaymentTotalsRow {
  status: string;
  currency: string;
  payments: number;
  amount: number;
  captured: number;
  refunded: number;
}

export async function summarizePayments(db: Db): Promise<PaymentTotalsRow[]> {
  const result = await sql<PaymentTotalsRow>`
    select status, currency, count(*)::int8 as payments, sum(amount)::int8 as amount,
      sum(captured_amount)::int8 as captured, sum(refunded_amount)::int8 as refunded
    from payment group by status, currency order by status, currency`.execute(db);
  return result.rows;
}

/** A charge holds or took the shopper's money: an open authorisation, or a capture (refunded or not). */
const isCharge = sql`(p.status in ('authorised', 'captured', 'refunded') or p.captured_amount > 0)`;
/** A capture took the money. */
const isCapture = sql`(p.status in ('captured', 'refunded') or p.captured_amount > 0)`;

/**
 * One row per order: its charges, captures, and whether every charge is for the order's total in
 * its currency (and every capture took exactly the total).
 */
function chargesPerOrder(): RawBuilder<unknown> {
  return sql`
    select o.id, o.number, o.status, o.total, o.currency, o.created_at,
      count(p.id) filter (where ${isCharge})::int8 as charges,
      count(p.id) filter (where ${isCapture})::int8 as captures,
      coalesce(bool_and(p.amount = o.total and p.currency = o.currency) filter (where ${isCharge}), true)
        and coalesce(bool_and(p.captured_amount = o.total) filter (where ${isCapture}), true) as amounts_match
    from "order" o left join payment p on p.order_id = o.id
    group by o.id`;
}

export interface ChargeShape {
  status: string;
  charges: number;
  captures: number;
  amounts_match: boolean;
}

/** How many orders have each (status, charges, captures, amounts match) shape: a handful of rows however many orders there are. */
export async function countOrdersByChargeShape(db: Db): Promise<(ChargeShape & { orders: number })[]> {
  const result = await sql<ChargeShape & { orders: number }>`
    with per_order as (${chargesPerOrder()})
    select status, charges, captures, amounts_match, count(*)::int8 as orders
    from per_order group by status, charges, captures, amounts_match order by status, charges, captures`.execute(db);
  return result.rows;
}

export interface OrderChargesRow extends ChargeShape {
  id: string;
  number: string;
  total: number;
  currency: string;
}

/** The oldest `limit` orders of one shape, to name them. */
export async function listOrdersOfChargeShape(db: Db, shape: ChargeShape, limit: number): Promise<OrderChargesRow[]> {
  const result = await sql<OrderChargesRow>`
    with per_order as (${chargesPerOrder()})
    select id, number, status, total, currency, charges, captures, amounts_match from per_order
    where status = ${shape.status} and charges = ${shape.charges} and captures = ${shape.captures} and amounts_match = ${shape.amounts_match}
    order by created_at, id limit ${limit}`.execute(db);
  return result.rows;
}

/** Which of these order numbers exist, with how many rows each has. */
export async function countOrdersByNumber(db: Db, numbers: readonly string[]): Promise<{ number: string; orders: number }[]> {
  if (numbers.length === 0) return [];
  const result = await sql<{ number: string; orders: number }>`
    select number, count(*)::int8 as orders from "order" where number = any(${[...numbers]}::text[]) group by number`.execute(db);
  return result.rows;
}
