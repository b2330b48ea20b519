// Payment rows: one per authorisation attempt on an order.
import { sql } from "kysely";
import type { Db, NewPayment, PaymentRow, PaymentTable } from "../db/database.ts";
import type { Updateable } from "kysely";
import type { Payment } from "../schemas.ts";

export function insertPayment(db: Db, payment: NewPayment) {
  return db.insertInto("payment").values(payment).returningAll().executeTakeFirstOrThrow();
}

export function updatePayment(db: Db, paymentId: string, changes: Updateable<PaymentTable>) {
  return db.updateTable("payment").set({ ...changes, updated_at: sql<Date>`now()` }).where("id", "=", paymentId).execute();
}

export function findLatestPaymentOfOrder(db: Db, orderId: string) {
  return db
    .selectFrom("payment")
    .selectAll()
    .where("order_id", "=", orderId)
    .orderBy("created_at", "desc")
    .orderBy("id")
    .limit(1)
    .executeTakeFirst();
}

export function rowToPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    status: row.status as Payment["status"],
    amount: row.amount,
    currency: row.currency as Payment["currency"],
    cardBrand: row.card_brand,
    cardLast4: row.card_last4,
    declineCode: row.decline_code,
    nextActionUrl: row.next_action_url,
  };
}

export function findPaymentById(db: Db, paymentId: string) {
  return db.selectFrom("payment").selectAll().where("id", "=", paymentId).executeTakeFirst();
}
