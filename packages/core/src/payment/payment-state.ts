// A payment's states and their allowed moves, as data; and the one reading of what the provider says about an
// authorisation (`verdictOf`). Every path that learns a provider's answer — placeOrder's own call, a webhook, the
// shopper's confirmPayment, the reconciler, an operator's cancel — reads it here, so they cannot disagree.
import { AppError } from "../error.ts";
import { paymentStatuses, type PaymentStatus } from "../schemas.ts";
import type { AuthorizationState, CardSummary } from "./payment-provider.ts";

export { paymentStatuses, type PaymentStatus };

/**
 * The moves a payment may make. A partial refund keeps a payment captured; the full one makes it refunded. A payment
 * the hold sweep declined while its authorisation was still open at the provider is voided once that is closed.
 */
export const paymentTransitions: Record<PaymentStatus, readonly PaymentStatus[]> = {
  requires_action: ["authorised", "declined", "voided"],
  authorised: ["captured", "voided"],
  declined: ["voided", "declined"],
  captured: ["refunded"],
  voided: [],
  refunded: [],
};

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return paymentTransitions[from].includes(to);
}

export function assertTransition(from: PaymentStatus, to: PaymentStatus): void {
  if (!canTransition(from, to)) throw new AppError("ILLEGAL_TRANSITION", `A payment cannot go from ${from} to ${to}`, { from, to });
}

/** A decline as the authorise call answers it: the provider holds no authorisation for it. */
export interface DeclinedAuthorization {
  status: "declined";
  code: string;
  card: CardSummary | null;
}

/**
 * What the provider says about an order's payment, from any path: the answer to our authorise call (where a 3-D Secure
 * challenge also names its page), a lookup, or a webhook; null when the provider knows no authorisation for the order.
 */
export type ProviderState = (AuthorizationState & { nextActionUrl?: string }) | DeclinedAuthorization | null;

/** The decline code recorded when the provider voided the authorisation itself. */
export const AUTHORIZATION_VOIDED = "authorization_voided";
/** The decline code recorded when the provider never made an authorisation for the order. */
export const NO_AUTHORIZATION = "no_authorization";
/** The decline code recorded when a failure comes without a code of its own. */
export const UNSPECIFIED_DECLINE = "declined";

export type Verdict =
  /** The shopper still owes the 3-D Secure challenge: the order keeps waiting with its stock held. */
  | { kind: "awaiting_action" }
  /** The provider holds the money (and has already taken it when `isCaptured`). */
  | { kind: "authorised"; isCaptured: boolean }
  /** Nothing is held: the order fails with this decline code and its stock goes back. */
  | { kind: "failed"; code: string };

/** The one reading of a provider's answer. */
export function verdictOf(state: ProviderState): Verdict {
  if (state === null) return { kind: "failed", code: NO_AUTHORIZATION };
  switch (state.status) {
    case "requires_action":
      return { kind: "awaiting_action" };
    case "authorized":
      return { kind: "authorised", isCaptured: false };
    case "captured":
      return { kind: "authorised", isCaptured: true };
    case "declined":
      return { kind: "failed", code: state.code };
    case "failed":
      return { kind: "failed", code: state.failureCode ?? UNSPECIFIED_DECLINE };
    case "voided":
      return { kind: "failed", code: AUTHORIZATION_VOIDED };
  }
}
