// After the shopper answers 3-D Secure: ask the provider how the authorisation ended and settle the order to match.
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { Order } from "../schemas.ts";
import { AppError } from "../error.ts";
import * as OrderModule from "../order/order.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as PaymentRepository from "../payment/payment.repository.ts";
import type * as PaymentOutcome from "../payment/payment-outcome.ts";
import * as ProviderEvents from "../payment/provider-events.ts";
import { PaymentProviderUnavailableError, type AuthorizationState, type PaymentProvider } from "../payment/payment-provider.ts";

async function lookUpAuthorization(payments: PaymentProvider, reference: string, orderId: string): Promise<AuthorizationState | null> {
  try {
    return await payments.findAuthorization({ reference });
  } catch (error) {
    if (!(error instanceof PaymentProviderUnavailableError)) throw error;
    throw new AppError("PAYMENT_UNAVAILABLE", "We could not reach the payment processor to confirm your payment; try again in a moment.", {
      orderId,
    });
  }
}

/**
 * Settles a pending order from the provider's answer: authorised (+ captured when capture is
 * immediate) or failed with its stock released; unchanged while the challenge is still open or when
 * the provider knows no authorisation yet. Idempotent, and safe to race the provider's webhook.
 */
export async function confirmPayment(input: {
  db: Kysely<Database>;
  payments: PaymentProvider;
  captureMode?: PaymentOutcome.CaptureMode;
  orderId: string;
}): Promise<Order> {
  const { db, payments, orderId } = input;
  const captureMode = input.captureMode ?? "immediate";
  const order = await OrderRepository.findOrder(db, orderId);
  if (!order) throw new AppError("NOT_FOUND", "No order with that id. Check the link from your confirmation email.", { orderId });
  if (order.status === "pending_payment") {
    const state = await lookUpAuthorization(payments, order.number, order.id);
    const payment = await PaymentRepository.findLatestPaymentOfOrder(db, order.id);
    // Only the authorisation this order is waiting on may settle it.
    const isThisOrdersAuthorization = state !== null && (!payment?.provider_reference || payment.provider_reference === state.authorizationId);
    if (state && isThisOrdersAuthorization) await ProviderEvents.settleOrder({ db, payments, captureMode, orderId: order.id, state });
  } else if (order.status === "authorised" && captureMode === "immediate") {
    await ProviderEvents.captureIfReachable({ db, payments, orderId: order.id });
  }
  return OrderModule.get({ db, orderId: order.id });
}
