// Payment rows: one per authorisation attempt on an order.
import { sql } from "kysely";
import type { Db, NewPayment, PaymentRow, PaymentTable } from "../db/database.ts";
import type { Updateable } from "kysely";
import type { Payment, PaymentStatus } from "../schemas.ts";
import { assertTransition } from "./payment-state.ts";

export function insertPayment(db: Db, payment: NewPayment) {
  return db.insertInto("payment").values(payment).returningAll().executeTakeFirstOrThrow();
}

/** Updates a payment; a change of status must be a move the payment state machine allows (payment-state.ts). */
export function updatePayment(db: Db, payment: Pick<PaymentRow, "id" | "status">, changes: Updateable<PaymentTable>) {
  if (changes.status !== undefined && changes.status !== payment.status) assertTransition(payment.status, changes.status as PaymentStatus);
  return db
    .updateTable("payment")
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where("id", "=", payment.id)
    .execute();
}

export function findLatestPaymentOfOrder(db: Db, orderId: string) {
  return db.selectFrom("payment").selectAll().where("order_id", "=", orderId).orderBy("created_at", "desc").orderBy("id").limit(1).executeTakeFirst();
}

export function rowToPayment(row: Pick<PaymentRow, "id" | "status" | "amount" | "currency" | "card_brand" | "card_last4" | "decline_code" | "next_action_url">): Payment {
  return {
    id: row.id,
    status: row.status,
    amount: row.amount,
    currency: row.currency,
    cardBrand: row.card_brand,
    cardLast4: row.card_last4,
    declineCode: row.decline_code,
    nextActionUrl: row.next_action_url,
  };
}

export function findPaymentById(db: Db, paymentId: string) {
  return db.selectFrom("payment").selectAll().where("id", "=", paymentId).executeTakeFirst();
}
