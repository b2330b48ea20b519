// Refusals made at the HTTP edge, before any procedure runs: each a typed code a client can act on,
// carried to the one error mapper (packages/api/src/trpc.ts) like a domain AppError.
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

const edgeCodes = {
  BAD_INPUT: "BAD_REQUEST",
  NOT_FOUND: "NOT_FOUND",
  METHOD_NOT_ALLOWED: "METHOD_NOT_SUPPORTED",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  BATCHING_DISABLED: "BAD_REQUEST",
  IDEMPOTENCY_KEY_REQUIRED: "BAD_REQUEST",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  JSON_TOO_DEEP: "BAD_REQUEST",
  JSON_STRING_TOO_LONG: "BAD_REQUEST",
  REQUEST_TIMEOUT: "TIMEOUT",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
  OVERLOADED: "SERVICE_UNAVAILABLE",
} as const satisfies Record<string, TRPC_ERROR_CODE_KEY>;

export type EdgeErrorCode = keyof typeof edgeCodes;

export class EdgeError extends Error {
  override readonly name = "EdgeError";
  constructor(
    readonly code: EdgeErrorCode,
    message: string,
    readonly options: {
      details?: Record<string, unknown>;
      /** Sent as Retry-After. */
      retryAfterSeconds?: number;
      /** The connection cannot carry another request (unread or half-read body). */
      closeConnection?: boolean;
      /** Sent as Allow with a 405. */
      allow?: string;
    } = {},
  ) {
    super(message);
  }

  get transportCode(): TRPC_ERROR_CODE_KEY {
    return edgeCodes[this.code];
  }
}

export function isEdgeError(error: unknown): error is EdgeError {
  return error instanceof EdgeError;
}
