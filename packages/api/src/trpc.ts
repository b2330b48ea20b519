// initTRPC once: the procedure builder, and the mapping from domain errors to transport errors.
import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { ZodError } from "zod";
import { isAppError, type ErrorCode } from "@checkout/core";
import type { Context } from "./context.ts";
import { databaseUnavailableError, isDatabaseUnavailable } from "./http/database-unavailable.ts";

const transportCodes: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_INPUT: "BAD_REQUEST",
  NOT_FOUND: "NOT_FOUND",
  CART_CLOSED: "CONFLICT",
  CART_INCOMPLETE: "PRECONDITION_FAILED",
  CURRENCY_MISMATCH: "UNPROCESSABLE_CONTENT",
  OUT_OF_STOCK: "CONFLICT",
  QUANTITY_LIMIT: "UNPROCESSABLE_CONTENT",
  SHIPPING_UNAVAILABLE: "UNPROCESSABLE_CONTENT",
  QUOTE_EXPIRED: "PRECONDITION_FAILED",
  PRICE_CHANGED: "CONFLICT",
  CHECKOUT_IN_PROGRESS: "CONFLICT",
  ALREADY_ORDERED: "CONFLICT",
  PAYMENT_DECLINED: "PAYMENT_REQUIRED",
  PAYMENT_TOKEN_INVALID: "UNPROCESSABLE_CONTENT",
  PAYMENT_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  ILLEGAL_TRANSITION: "CONFLICT",
  PROMO_INVALID: "UNPROCESSABLE_CONTENT",
  PROMO_EXHAUSTED: "CONFLICT",
  IDEMPOTENCY_KEY_REQUIRED: "BAD_REQUEST",
  IDEMPOTENCY_KEY_REUSED: "UNPROCESSABLE_CONTENT",
  IDEMPOTENCY_IN_PROGRESS: "CONFLICT",
  ORDER_NEEDS_REFUND: "CONFLICT",
  REFUND_TOO_LARGE: "UNPROCESSABLE_CONTENT",
  PAYMENT_ATTEMPTS_LOCKED: "TOO_MANY_REQUESTS",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
};

export function transportCodeOf(code: ErrorCode): TRPC_ERROR_CODE_KEY {
  return transportCodes[code];
}

function describeZodError(error: ZodError): { message: string; issues: { path: string; message: string }[] } {
  const issues = error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
  const message = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join("; ");
  return { message: `Invalid input: ${message}`, issues };
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error, ctx }) {
    const cause = error.cause;
    if (cause instanceof ZodError) {
      const described = describeZodError(cause);
      return { ...shape, message: described.message, data: { ...shape.data, stack: undefined, appCode: "BAD_INPUT", issues: described.issues } };
    }
    if (isAppError(cause)) {
      return { ...shape, data: { ...shape.data, stack: undefined, appCode: cause.code, details: cause.details ?? null } };
    }
    if (cause instanceof SyntaxError) {
      return { ...shape, message: `The request body is not valid JSON: ${cause.message}`, data: { ...shape.data, stack: undefined, appCode: "BAD_INPUT" } };
    }
    if (error.code === "INTERNAL_SERVER_ERROR") {
      return {
        ...shape,
        message: `Something went wrong on our side. Quote request id ${ctx?.requestId ?? "unknown"} if you contact support.`,
        data: { ...shape.data, stack: undefined, appCode: "INTERNAL" },
      };
    }
    return { ...shape, data: { ...shape.data, stack: undefined, appCode: error.code } };
  },
});

/** Turns a domain AppError thrown by core into a TRPCError with the matching status. */
const mapDomainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isAppError(result.error.cause)) {
    const cause = result.error.cause;
    throw new TRPCError({ code: transportCodes[cause.code], message: cause.message, cause });
  }
  if (!result.ok && isDatabaseUnavailable(result.error.cause)) throw databaseUnavailableError(result.error.cause);
  return result;
});

export const router = t.router;
export const procedure = t.procedure.use(mapDomainErrors);
export const createCallerFactory = t.createCallerFactory;
