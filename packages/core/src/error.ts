// One error type for the domain: a string code the API maps to a transport status at its edge.

export const errorCodes = [
  "BAD_INPUT",
  "NOT_FOUND",
  "CART_CLOSED",
  "CART_INCOMPLETE",
  "CURRENCY_MISMATCH",
  "OUT_OF_STOCK",
  "QUANTITY_LIMIT",
  "SHIPPING_UNAVAILABLE",
  "QUOTE_EXPIRED",
  "PRICE_CHANGED",
  "CHECKOUT_IN_PROGRESS",
  "ALREADY_ORDERED",
  "PAYMENT_DECLINED",
  "PAYMENT_TOKEN_INVALID",
  "PAYMENT_UNAVAILABLE",
  "ILLEGAL_TRANSITION",
  "AMOUNT_MISMATCH",
  "PROMO_INVALID",
  "PROMO_EXHAUSTED",
  "IDEMPOTENCY_KEY_REQUIRED",
  "IDEMPOTENCY_KEY_REUSED",
  "IDEMPOTENCY_IN_PROGRESS",
  "ORDER_NEEDS_REFUND",
  "REFUND_TOO_LARGE",
  "REFUND_PENDING",
  "PAYMENT_ATTEMPTS_LOCKED",
  "RATE_LIMITED",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export class AppError extends Error {
  override readonly name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
