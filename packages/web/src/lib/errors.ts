// Reads the typed error the API sends (appCode, details, issues) out of whatever a call threw.
import { ApiError } from "../trpc.ts";

export interface FieldIssue {
  path: string;
  message: string;
}

export interface AppErrorInfo {
  code: string;
  message: string;
  details: Record<string, unknown>;
  issues: FieldIssue[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

export function describeError(error: unknown): AppErrorInfo {
  if (error instanceof ApiError) {
    const data: unknown = error.data;
    const record = isRecord(data) ? data : {};
    const code = typeof record.appCode === "string" ? record.appCode : typeof record.code === "string" ? record.code : "NETWORK";
    const issues = Array.isArray(record.issues) ? record.issues.filter(isRecord).map((issue) => ({ path: String(issue.path ?? ""), message: String(issue.message ?? "") })) : [];
    const message = data === undefined ? "We could not reach the shop. Check your connection and try again." : error.message || "Something went wrong. Please try again.";
    return { code, message, details: isRecord(record.details) ? record.details : {}, issues };
  }
  if (error instanceof Error) return { code: "CLIENT", message: error.message, details: {}, issues: [] };
  return { code: "CLIENT", message: "Something went wrong. Please try again.", details: {}, issues: [] };
}

export function errorCodeOf(error: unknown): string {
  return describeError(error).code;
}

/**
 * Codes whose request may be sent again unchanged (same Idempotency-Key, same payment token): the
 * server could not finish it (payment processor or database unreachable, load shed, a lost
 * response, the same key still running), so the outcome is unknown or nothing happened yet.
 */
const retryableCodes = new Set(["PAYMENT_UNAVAILABLE", "OVERLOADED", "SERVICE_UNAVAILABLE", "NETWORK", "IDEMPOTENCY_IN_PROGRESS", "INTERNAL"]);

export function isRetryable(info: AppErrorInfo): boolean {
  return retryableCodes.has(info.code);
}

/** The wait the server asked for (details.retryAfterSeconds), when it gave one. */
export function retryAfterSecondsOf(info: AppErrorInfo): number | null {
  const seconds = info.details.retryAfterSeconds;
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : null;
}

/** When the server said the shopper may try again (details.lockedUntil, an ISO time), when it said so. */
export function lockedUntilOf(info: AppErrorInfo): Date | null {
  const value = info.details.lockedUntil;
  if (typeof value !== "string") return null;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time;
}
