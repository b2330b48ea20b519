// Card testing at the API: the limits from the environment (PAYMENT_DECLINES_PER_*, windows and locks) as core's
// PaymentVelocity.Limits, and each payment attempt's outcome counted (payment_attempts_total) and logged as one
// `payment.attempt` line, which CloudWatch turns into the decline-rate alarm's metric (stacks/Monitoring.ts).
import type { PaymentAttempt, PaymentVelocity } from "@checkout/core";
import type { Env } from "../env.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../http/metrics.ts";

type VelocityEnv = Pick<
  Env,
  | "PAYMENT_DECLINES_PER_CART"
  | "PAYMENT_DECLINES_PER_ADDRESS"
  | "PAYMENT_DECLINES_PER_EMAIL"
  | "PAYMENT_DECLINES_PER_CARD"
  | "PAYMENT_VELOCITY_WINDOW_SECONDS"
  | "PAYMENT_CART_LOCK_SECONDS"
  | "PAYMENT_VELOCITY_LOCK_SECONDS"
  | "PAYMENT_ATTEMPTS_IN_FLIGHT"
  | "CLIENT_LIMITS_EXEMPT"
>;

export function paymentVelocityOf(env: VelocityEnv): PaymentVelocity.Limits {
  const windowMs = env.PAYMENT_VELOCITY_WINDOW_SECONDS * 1000;
  const lockMs = env.PAYMENT_VELOCITY_LOCK_SECONDS * 1000;
  return {
    cart: { maxDeclines: env.PAYMENT_DECLINES_PER_CART, windowMs, lockMs: env.PAYMENT_CART_LOCK_SECONDS * 1000 },
    address: { maxDeclines: env.PAYMENT_DECLINES_PER_ADDRESS, windowMs, lockMs },
    email: { maxDeclines: env.PAYMENT_DECLINES_PER_EMAIL, windowMs, lockMs },
    card: { maxDeclines: env.PAYMENT_DECLINES_PER_CARD, windowMs, lockMs },
    maxInFlight: env.PAYMENT_ATTEMPTS_IN_FLIGHT,
    // The same exemption as the edge's per-client limits.
    exemptAddresses: env.CLIENT_LIMITS_EXEMPT,
  };
}

/** Counts one placeOrder payment attempt and writes its `payment.attempt` log line (outcome, and the limits that refused or locked). */
export function reportPaymentAttempt(ctx: { metrics: Metrics; log: Logger }, report: PaymentAttempt.Report): void {
  ctx.metrics.paymentAttempt(report.outcome);
  ctx.log.info({ outcome: report.outcome, ...(report.limits.length > 0 ? { limits: report.limits } : {}) }, "payment.attempt");
}
