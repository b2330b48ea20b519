// Queries behind the operators' order screens: keyset search, every payment of an order, the captured payment locked for a refund.
import { sql } from "kysely";
import type { Db, PaymentRow } from "../db/database.ts";
import type { OrderStatus } from "../schemas.ts";

export interface OrderSearch {
  /** An order number, or part of an email address. */
  query?: string;
  status?: OrderStatus;
  /** A whole email address, compared case-insensitively. */
  email?: string;
  limit: number;
  /** Orders strictly older than this (created_at at microsecond precision as text, then id). */
  before?: { createdAt: string; id: string };
}

/** Escapes LIKE's wildcards so a search for "a_b" does not match "axb". */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** Newest first, one row more than asked for so the caller knows whether there is a next page. */
export function searchOrders(db: Db, search: OrderSearch) {
  let query = db
    .selectFrom("order")
    .select([
      "id",
      "number",
      "status",
      "email",
      "currency",
      "total",
      "created_at",
      sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as("created_at_exact"),
    ]);
  if (search.status) query = query.where("status", "=", search.status);
  if (search.email) query = query.where(sql`lower(email)`, "=", search.email.toLowerCase());
  if (search.query) {
    const text = search.query;
    query = query.where((eb) => eb.or([eb("number", "=", text), eb("email", "ilike", `%${escapeLike(text)}%`)]));
  }
  if (search.before) query = query.where(sql<boolean>`(created_at, id) < (${search.before.createdAt}::timestamptz, ${search.before.id}::uuid)`);
  return query
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(search.limit + 1)
    .execute();
}

export function listPaymentsOfOrder(db: Db, orderId: string): Promise<PaymentRow[]> {
  return db.selectFrom("payment").selectAll().where("order_id", "=", orderId).orderBy("created_at").orderBy("id").execute();
}

/** The order's payment that holds captured money, locked until the transaction ends: refunds of one order take turns. */
export function findCapturedPaymentForUpdate(db: Db, orderId: string) {
  return db
    .selectFrom("payment")
    .selectAll()
    .where("order_id", "=", orderId)
    .where("captured_amount", ">", 0)
    .orderBy("created_at", "desc")
    .orderBy("id")
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
}
