// Orders as the shopper and operators see them.
import type { Db } from "../db/database.ts";
import type { Order } from "../schemas.ts";
import { AppError } from "../error.ts";
import * as OrderRepository from "./order.repository.ts";
import * as PaymentRepository from "../payment/payment.repository.ts";

export async function get(input: { db: Db; orderId: string }): Promise<Order> {
  const row = await OrderRepository.findOrder(input.db, input.orderId);
  if (!row) throw new AppError("NOT_FOUND", "No order with that id. Check the link from your confirmation email.", { orderId: input.orderId });
  const [lines, payment] = await Promise.all([
    OrderRepository.listOrderLines(input.db, row.id),
    PaymentRepository.findLatestPaymentOfOrder(input.db, row.id),
  ]);
  return OrderRepository.rowToOrder(row, lines, payment ? PaymentRepository.rowToPayment(payment) : null);
}
