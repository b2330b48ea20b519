// Order states and their allowed transitions, as data, checked by one small state machine.
import type { OrderStatus } from "../schemas.ts";
import { AppError } from "../error.ts";

export const orderTransitions: Record<OrderStatus, { to: readonly OrderStatus[] }> = {
  pending_payment: { to: ["authorised", "payment_failed", "cancelled"] },
  payment_failed: { to: [] },
  authorised: { to: ["captured", "cancelled"] },
  captured: { to: ["fulfilled", "partially_refunded", "refunded"] },
  fulfilled: { to: ["partially_refunded", "refunded"] },
  partially_refunded: { to: ["partially_refunded", "refunded"] },
  refunded: { to: [] },
  cancelled: { to: [] },
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return orderTransitions[from].to.includes(to);
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) {
    throw new AppError("ILLEGAL_TRANSITION", `An order cannot go from ${from} to ${to}`, { from, to });
  }
}
