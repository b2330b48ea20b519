// initTRPC once: the procedure builder with each procedure's edge policy (its meta), and the one mapping
// from domain and edge errors to transport errors.
import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { ZodError } from "zod";
import { isAppError, type ErrorCode } from "@checkout/core";
import type { Context } from "./context.ts";
import type { ProcedureContextOverride } from "./telemetry/tracing.ts";
import { databaseUnavailableError, isDatabaseUnavailable } from "./http/database-unavailable.ts";
import { isEdgeError } from "./http/edge-error.ts";
import type { RateClass } from "./http/client-limits.ts";
import type { AdmissionClass } from "./http/admission.ts";

/**
 * A procedure's policy at the HTTP edge, declared beside it with `.meta()` and enforced by the one request
 * pipeline (packages/api/src/http/trpc-handler.ts) for every way in: plain, any header, GET or POST.
 * Nothing is batchable: the pipeline refuses every tRPC batch.
 */
export interface ProcedureMeta {
  /** The per-client token bucket this procedure draws from (RATE_LIMIT_<CLASS>_PER_MINUTE). */
  rateClass: RateClass;
  /** The input carries a capability (a cart or order id): accepted in a POST body, never in a URL. */
  carriesCapability?: boolean;
  /** Whose admission slots it takes: the shoppers' (default) or the operators' own few (admin.*). */
  admission?: AdmissionClass;
  /** An Idempotency-Key header is required; keys are scoped by this function of the input (null: invalid input). */
  idempotency?: { scopeOf(input: unknown): string | null };
}

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
  // The processor authorised another amount or currency than the order's: its answer is wrong, not the caller's input.
  AMOUNT_MISMATCH: "BAD_GATEWAY",
  PROMO_INVALID: "UNPROCESSABLE_CONTENT",
  PROMO_EXHAUSTED: "CONFLICT",
  IDEMPOTENCY_KEY_REQUIRED: "BAD_REQUEST",
  IDEMPOTENCY_KEY_REUSED: "UNPROCESSABLE_CONTENT",
  IDEMPOTENCY_IN_PROGRESS: "CONFLICT",
  ORDER_NEEDS_REFUND: "CONFLICT",
  REFUND_TOO_LARGE: "UNPROCESSABLE_CONTENT",
  REFUND_PENDING: "CONFLICT",
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

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    defaultMeta: { rateClass: "cart" },
    errorFormatter({ shape, error, ctx }) {
      const cause = error.cause;
      if (cause instanceof ZodError) {
        const described = describeZodError(cause);
        return { ...shape, message: described.message, data: { ...shape.data, stack: undefined, appCode: "BAD_INPUT", issues: described.issues } };
      }
      if (isAppError(cause)) {
        return { ...shape, data: { ...shape.data, stack: undefined, appCode: cause.code, details: cause.details ?? null } };
      }
      if (isEdgeError(cause)) {
        return { ...shape, data: { ...shape.data, stack: undefined, appCode: cause.code, details: cause.options.details ?? null } };
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

/** The one mapping to transport errors: domain AppErrors, edge refusals, an unreachable database, anything else as-is. */
export function toTransportError(cause: unknown): TRPCError {
  if (cause instanceof TRPCError) {
    if (isAppError(cause.cause) || isEdgeError(cause.cause) || isDatabaseUnavailable(cause.cause)) return toTransportError(cause.cause);
    return cause;
  }
  if (isAppError(cause)) return new TRPCError({ code: transportCodes[cause.code], message: cause.message, cause });
  if (isEdgeError(cause)) return new TRPCError({ code: cause.transportCode, message: cause.message, cause });
  if (isDatabaseUnavailable(cause)) return databaseUnavailableError(cause);
  return getTRPCErrorFromUnknown(cause);
}

/**
 * The one middleware every procedure runs through: a domain or database error becomes the transport error the HTTP
 * pipeline answers with (so a procedure's span, and any in-process caller, sees the same code), inside a span per
 * procedure when tracing is on (telemetry/tracing.ts). One middleware, not two: each level of tRPC's middleware chain
 * copies the call's options object, a measurable share of a cached read's CPU.
 */
const procedureEdge = t.middleware(({ ctx, path, type, next }) => {
  // A traced procedure runs with its span's own database and provider handles (telemetry/tracing.ts).
  const run = async (traced?: ProcedureContextOverride) => {
    const result = await (traced ? next({ ctx: traced }) : next());
    if (!result.ok && (isAppError(result.error.cause) || isDatabaseUnavailable(result.error.cause))) return { ...result, error: toTransportError(result.error.cause) };
    return result;
  };
  return ctx.tracing ? ctx.tracing.traceProcedure(ctx, { path, type }, run) : run();
});

export const router = t.router;
export const procedure = t.procedure.use(procedureEdge);
