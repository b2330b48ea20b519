// Orders as the shopper and operators see them.
import type { Db } from "../db/database.ts";
import type { Order, OrderStatus } from "../schemas.ts";
import { AppError } from "../error.ts";
import * as OrderRepository from "./order.repository.ts";
import * as PaymentRepository from "../payment/payment.repository.ts";
import { assertTransition } from "./order-state.ts";

export async function get(input: { db: Db; orderId: string }): Promise<Order> {
  const row = await OrderRepository.findOrderWithDetails(input.db, input.orderId);
  if (!row) throw new AppError("NOT_FOUND", "No order with that id. Check the link from your confirmation email.", { orderId: input.orderId });
  return OrderRepository.rowToOrder(row, row.lines_json, row.payment_json ? PaymentRepository.rowToPayment(row.payment_json) : null);
}

/**
 * Moves an order from `from` to `to`: the state machine must allow it, and the row must still be in
 * `from` (so two concurrent transitions cannot both win). Returns whether this call moved it.
 */
export function transition(input: { db: Db; orderId: string; from: OrderStatus; to: OrderStatus }): Promise<boolean> {
  assertTransition(input.from, input.to);
  return OrderRepository.transitionStatus(input.db, input.orderId, input.from, input.to);
}
