// The card processor as the domain sees it. Our service only ever holds a provider token, never
// a card number; every call carries an idempotency key so a retry never charges twice.
import type { Currency } from "../money.ts";

export interface CardSummary {
  brand: string;
  last4: string;
  /**
   * The processor's stable identifier of the card number (the same for every token of one card, never the number
   * itself), when it gives one: limits per card key on it.
   */
  fingerprint?: string;
}

/**
 * The provider's answer to an authorisation. An authorisation carries the amount and currency the provider holds, as it
 * says them (never assumed from the request), so what it authorised is compared with the order by `Payment.settle`.
 */
export type AuthorizeResult =
  | { status: "authorized"; authorizationId: string; amount: number; currency: Currency; card: CardSummary }
  | { status: "declined"; code: string; message: string; card: CardSummary | null }
  /** The card needs a 3-D Secure challenge: the shopper completes it at `nextActionUrl` (the provider's own origin). */
  | { status: "requires_action"; authorizationId: string; amount: number; currency: Currency; nextActionUrl: string; card: CardSummary };

/** What the provider knows about an authorisation, looked up after the fact (reconciler, 3-D Secure, webhooks). */
export interface AuthorizationState {
  authorizationId: string;
  status: "requires_action" | "authorized" | "failed" | "captured" | "voided";
  amount: number;
  currency: Currency;
  capturedAmount: number;
  refundedAmount: number;
  card: CardSummary;
  /** The decline code when status is "failed". */
  failureCode: string | null;
}

export interface PaymentProvider {
  readonly name: string;
  /** How long one call may wait for the provider before it fails as unavailable, if the client knows. */
  readonly timeoutMs?: number;
  authorize(input: { token: string; amount: number; currency: Currency; idempotencyKey: string; reference: string }): Promise<AuthorizeResult>;
  capture(input: { authorizationId: string; amount: number; idempotencyKey: string }): Promise<{ captureId: string }>;
  void(input: { authorizationId: string; idempotencyKey: string }): Promise<void>;
  refund(input: { authorizationId: string; amount: number; idempotencyKey: string }): Promise<{ refundId: string }>;
  /** The authorisation made for `reference` (our order number), or null if the provider never made one. */
  findAuthorization(input: { reference: string }): Promise<AuthorizationState | null>;
  /**
   * The card behind a payment token (brand, last four and fingerprint) before anything is authorised, so limits per
   * card apply before the card is tried; null for a token the provider does not know. Optional: without it the
   * fingerprint is learnt from the authorisation's answer.
   */
  retrieveToken?(input: { token: string }): Promise<{ card: CardSummary } | null>;
}

/** The provider could not be reached or answered garbage: the outcome of the call is unknown. */
export class PaymentProviderUnavailableError extends Error {
  override readonly name = "PaymentProviderUnavailableError";
}

/** The provider rejected the token itself (unknown, used or expired) rather than the card. */
export class PaymentTokenRejectedError extends Error {
  override readonly name = "PaymentTokenRejectedError";
}
