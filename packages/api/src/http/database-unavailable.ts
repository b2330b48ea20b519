// Errors that mean the database cannot be reached right now (restart, failover, terminated backends,
// refused or timed-out connections), as opposed to a bug: the caller gets 503 + Retry-After, not a 500.
import { TRPCError } from "@trpc/server";

/** SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, cannot connect now). */
const UNAVAILABLE_SQLSTATE = /^(08|57P)/;
const UNAVAILABLE_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN"]);
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /is not currently accepting connections/,
  /^Client has encountered a connection error and is not queryable/,
  /^the database system is (starting up|shutting down|in recovery mode)/,
];

export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_NODE_CODES.has(code))) return true;
  return UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(error.message));
}

export const DATABASE_RETRY_AFTER_SECONDS = 1;

export function databaseUnavailableError(cause: unknown): TRPCError {
  return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: `The database is unavailable; retry in ${DATABASE_RETRY_AFTER_SECONDS} s`, cause });
}
