// Calling the payment provider when it may not answer. A provider that cannot be reached (or answers garbage) leaves
// the outcome of the call unknown; every provider key is derived from the order, so whoever retries cannot charge twice.
// These two wrappers are the only places that turn "unreachable" into something else.
import { AppError } from "../error.ts";
import { PaymentProviderUnavailableError, type PaymentProvider } from "./payment-provider.ts";

/** The provider timeout assumed when the provider does not say its own. */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 30_000;
/** Beyond the provider's timeout, how long a claim on a provider call lasts: time to record the answer. */
export const CLAIM_MARGIN_MS = 5_000;

/**
 * How long one request holds a claim on a provider call it is making (an order's authorisation, a refund): the call
 * and recording its answer. Others keep off until it is done or has run out; a claim left behind by a crash runs out.
 */
export function providerClaimMs(payments: PaymentProvider): number {
  return (payments.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS) + CLAIM_MARGIN_MS;
}

export type Reached<T> = { isReached: true; value: T } | { isReached: false };

/** Runs one provider call; an unreachable provider gives `{ isReached: false }` (to retry later), any other error is thrown. */
export async function reach<T>(call: () => Promise<T>): Promise<Reached<T>> {
  try {
    return { isReached: true, value: await call() };
  } catch (error) {
    if (error instanceof PaymentProviderUnavailableError) return { isReached: false };
    throw error;
  }
}

/** Runs one provider call for a person waiting on it: an unreachable provider becomes a typed PAYMENT_UNAVAILABLE (503). */
export async function required<T>(call: () => Promise<T>, input: { orderId: string; message: string }): Promise<T> {
  const reached = await reach(call);
  if (!reached.isReached) throw new AppError("PAYMENT_UNAVAILABLE", input.message, { orderId: input.orderId });
  return reached.value;
}
