// The card processor as the domain sees it. Our service only ever holds a provider token, never
// a card number; every call carries an idempotency key so a retry never charges twice.
import type { Currency } from "../money.ts";

export interface CardSummary {
  brand: string;
  last4: string;
}

export type AuthorizeResult =
  | { status: "authorized"; authorizationId: string; card: CardSummary }
  | { status: "declined"; code: string; message: string; card: CardSummary | null };

export interface PaymentProvider {
  readonly name: string;
  authorize(input: {
    token: string;
    amount: number;
    currency: Currency;
    idempotencyKey: string;
    reference: string;
  }): Promise<AuthorizeResult>;
  capture(input: { authorizationId: string; amount: number; idempotencyKey: string }): Promise<{ captureId: string }>;
  void(input: { authorizationId: string; idempotencyKey: string }): Promise<void>;
  refund(input: { authorizationId: string; amount: number; idempotencyKey: string }): Promise<{ refundId: string }>;
}

/** The provider could not be reached or answered garbage: the outcome of the call is unknown. */
export class PaymentProviderUnavailableError extends Error {
  override readonly name = "PaymentProviderUnavailableError";
}

/** The provider rejected the token itself (unknown, used or expired) rather than the card. */
export class PaymentTokenRejectedError extends Error {
  override readonly name = "PaymentTokenRejectedError";
}
