// The order state machine, as data: each action an order can undergo, the statuses it may start from, where it goes,
// and — inside the same table — the guard that explains why it is refused from any other status. Workflows (checkout,
// payments, the hold sweep, operators' actions) ask `guard` once and move the order with `Order.transition`, a
// conditional update, so they never restate these rules.
import { AppError } from "../error.ts";
import { orderStatuses, type OrderStatus } from "../schemas.ts";

export { orderStatuses, type OrderStatus };

/** What a refusal can tell the person asking. */
export interface OrderFacts {
  id: string;
  number: string;
  status: OrderStatus;
}

type Refusal = (order: OrderFacts) => AppError;

interface Action {
  from: readonly OrderStatus[];
  to: OrderStatus;
  /** Why the action is refused from a status outside `from`, when there is more to say than "illegal". */
  refusals?: Partial<Record<OrderStatus, Refusal>>;
}

const needsRefund: Refusal = (order) =>
  new AppError("ORDER_NEEDS_REFUND", `Order ${order.number} is ${order.status}: its payment was captured, so refund it instead of cancelling`, {
    orderId: order.id,
    status: order.status,
  });

const nothingCaptured: Refusal = (order) =>
  new AppError("ILLEGAL_TRANSITION", `Order ${order.number} is ${order.status}: nothing was captured, so cancel it instead of refunding`, {
    orderId: order.id,
    from: order.status,
  });

const refundable = ["captured", "fulfilled", "partially_refunded"] as const satisfies readonly OrderStatus[];

export const orderActions = {
  /** The provider authorised the order's total. */
  authorise: { from: ["pending_payment"], to: "authorised" },
  /** The payment failed (declined, abandoned, unanswered, or the hold ran out): the stock goes back. */
  failPayment: { from: ["pending_payment"], to: "payment_failed" },
  capture: { from: ["authorised"], to: "captured" },
  /** An operator cancels an order whose money was not taken; a captured one must be refunded. */
  cancel: {
    from: ["pending_payment", "authorised"],
    to: "cancelled",
    refusals: { captured: needsRefund, fulfilled: needsRefund, partially_refunded: needsRefund },
  },
  /** Shipped; an order only authorised is captured first. */
  fulfil: { from: ["captured"], to: "fulfilled" },
  refundPart: { from: refundable, to: "partially_refunded", refusals: { pending_payment: nothingCaptured, authorised: nothingCaptured } },
  refundAll: { from: refundable, to: "refunded", refusals: { pending_payment: nothingCaptured, authorised: nothingCaptured } },
} as const satisfies Record<string, Action>;

export type OrderAction = keyof typeof orderActions;

function nextStatuses(from: OrderStatus): OrderStatus[] {
  const actions: Action[] = Object.values(orderActions);
  return [...new Set(actions.filter((action) => action.from.includes(from)).map((action) => action.to))];
}

/** Every status's possible next statuses, derived from the actions. */
export const orderTransitions = {} as Record<OrderStatus, { to: readonly OrderStatus[] }>;
for (const from of orderStatuses) orderTransitions[from] = { to: nextStatuses(from) };

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return orderTransitions[from].to.includes(to);
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw new AppError("ILLEGAL_TRANSITION", `An order cannot go from ${from} to ${to}`, { from, to });
}

/** The status `action` takes this order to, or the typed refusal the table gives for its current status. */
export function guard(action: OrderAction, order: OrderFacts): OrderStatus {
  const rule: Action = orderActions[action];
  if (rule.from.includes(order.status)) return rule.to;
  throw (
    rule.refusals?.[order.status]?.(order) ??
    new AppError("ILLEGAL_TRANSITION", `Order ${order.number} is ${order.status}; it cannot be moved to ${rule.to}`, {
      orderId: order.id,
      from: order.status,
      to: rule.to,
    })
  );
}
