// After the shopper answers 3-D Secure: ask the provider how the authorisation ended and settle the order to match.
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { Order } from "../schemas.ts";
import { AppError } from "../error.ts";
import * as OrderModule from "../order/order.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as PaymentRepository from "../payment/payment.repository.ts";
import type * as PaymentOutcome from "../payment/payment-outcome.ts";
import type { PaymentProvider } from "../payment/payment-provider.ts";
import { required } from "../payment/provider-call.ts";
import { captureIfReachable, settle } from "../payment/settle.ts";

/**
 * Settles a pending order from the provider's answer: authorised (+ captured when capture is
 * immediate) or failed with its stock released; unchanged while the challenge is still open or when
 * the provider knows no authorisation yet. Idempotent, and safe to race the provider's webhook.
 */
export async function confirmPayment(input: { db: Kysely<Database>; payments: PaymentProvider; captureMode?: PaymentOutcome.CaptureMode; orderId: string }): Promise<Order> {
  const { db, payments, orderId } = input;
  const captureMode = input.captureMode ?? "immediate";
  const order = await OrderRepository.findOrder(db, orderId);
  if (!order) throw new AppError("NOT_FOUND", "No order with that id. Check the link from your confirmation email.", { orderId });
  if (order.status === "pending_payment") {
    const state = await required(() => payments.findAuthorization({ reference: order.number }), {
      orderId: order.id,
      message: "We could not reach the payment processor to confirm your payment; try again in a moment.",
    });
    const payment = await PaymentRepository.findLatestPaymentOfOrder(db, order.id);
    // Only the authorisation this order is waiting on may settle it; none yet means the provider is still deciding.
    const isThisOrdersAuthorization = state !== null && (!payment?.provider_reference || payment.provider_reference === state.authorizationId);
    if (isThisOrdersAuthorization) await settle({ db, payments, captureMode, order, state, actor: "shopper" });
  } else if (order.status === "authorised" && captureMode === "immediate") {
    await captureIfReachable({ db, payments, order, actor: "shopper" });
  }
  return OrderModule.get({ db, orderId: order.id });
}
