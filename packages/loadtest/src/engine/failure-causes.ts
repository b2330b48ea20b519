// Why virtual users failed, counted by cause: the scenario, the step as written in its flow, the request, and what went
// wrong there (the status and the error code its body names, a transport error, or a flow error such as ECAPTURE).
// The target decides what its bodies say, so a run keeps at most FAILURE_CAUSE_LIMIT distinct causes; the rest are
// counted under OTHER_FAILURES. Every failed virtual user is counted exactly once.
import type { RunCounters } from "./run-result.ts";

/** The distinct causes a run (or a merge of runs) keeps by name. */
export const FAILURE_CAUSE_LIMIT = 50;
/** Where failures beyond the limit are counted. */
export const OTHER_FAILURES = "other";
/** Lines failureLines prints before summarising the rest in one. */
export const FAILURE_LINES_SHOWN = 20;

/**
 * An error response's body is kept up to this many bytes even when no step asked for it (http-connection.ts), and a
 * longer body is not searched for an error code: what a failure costs stays small whatever the target sends.
 */
export const ERROR_BODY_LIMIT_BYTES = 16 * 1024;

/** What an error code may look like to be named in a cause: a word, as tRPC's codes and most APIs' are. */
const errorCodePattern = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

/** `check out · step 8 POST /trpc/checkout.placeOrder`: where in the script a failure happened. */
export function failureSite(scenario: string, step: string, method: string, url: string): string {
  return `${scenario} · step ${step} ${method} ${url}`;
}

/** A failure's key: where it happened and why (`412 PRECONDITION_FAILED (QUOTE_EXPIRED)`, `ECONNREFUSED` …). */
export function failureKey(site: string, cause: string): string {
  return `${site} · ${cause}`;
}

function codeOf(value: unknown): string | undefined {
  return typeof value === "string" && errorCodePattern.test(value) ? value : undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * The error code an error response's JSON body names, or undefined. tRPC's shape first — `{"error":{"message",
 * "code":-32009,"data":{"code":"CONFLICT","httpStatus":409,"appCode":"OUT_OF_STOCK"}}}`, its transformer's
 * `{"error":{"json":{…}}}` and a batch's list — with the application's own code after it when the body has one
 * (`CONFLICT (OUT_OF_STOCK)`); then `{"error":{"code":"…"}}`, `{"error":"…"}` and `{"code":"…"}`.
 */
export function errorCodeOfBody(body: string | undefined): string | undefined {
  if (!body || body.length > ERROR_BODY_LIMIT_BYTES) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (Array.isArray(document)) document = document.find((item) => asRecord(item)?.error !== undefined);
  const root = asRecord(document);
  if (!root) return undefined;
  const rawError = root.error;
  if (typeof rawError === "string") return codeOf(rawError);
  const outer = asRecord(rawError);
  const error = asRecord(outer?.json) ?? outer;
  const data = asRecord(error?.data);
  const code = codeOf(data?.code) ?? codeOf(error?.code) ?? codeOf(root.code);
  if (!code) return undefined;
  const appCode = codeOf(data?.appCode);
  return appCode && appCode !== code ? `${code} (${appCode})` : code;
}

/** A response's part of a cause: `409 CONFLICT (OUT_OF_STOCK)`, or the bare status when the body names no code. */
export function responseCause(status: number, body: string | undefined): string {
  const code = errorCodeOfBody(body);
  return code ? `${status} ${code}` : String(status);
}

function causeCount(causes: Record<string, number>): number {
  const keys = Object.keys(causes).length;
  return Object.hasOwn(causes, OTHER_FAILURES) ? keys - 1 : keys;
}

/** Counts one failure under `key`, or under OTHER_FAILURES when `key` is new and the limit is reached. */
export function countFailure(causes: Record<string, number>, key: string): void {
  const kept = Object.hasOwn(causes, key) || causeCount(causes) < FAILURE_CAUSE_LIMIT ? key : OTHER_FAILURES;
  causes[kept] = (causes[kept] ?? 0) + 1;
}

/**
 * The sum of several runs' causes, key by key; when together they name more than the limit, the most frequent are
 * kept (ties by name) and the rest move to OTHER_FAILURES. The total is always exact, and so is every cause whenever
 * the union fits the limit; the result does not depend on the order of `all`.
 */
export function mergeFailureCauses(all: readonly (Record<string, number> | undefined)[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const causes of all) {
    for (const [key, count] of Object.entries(causes ?? {})) sum[key] = (sum[key] ?? 0) + count;
  }
  if (causeCount(sum) <= FAILURE_CAUSE_LIMIT) return sum;
  const named = Object.entries(sum)
    .filter(([key]) => key !== OTHER_FAILURES)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  const kept: Record<string, number> = Object.fromEntries(named.slice(0, FAILURE_CAUSE_LIMIT));
  kept[OTHER_FAILURES] = (sum[OTHER_FAILURES] ?? 0) + named.slice(FAILURE_CAUSE_LIMIT).reduce((total, [, count]) => total + count, 0);
  return kept;
}

/** The causes with their counts, most frequent first (OTHER_FAILURES last): rows for a report's table. */
export function failureCauseRows(counters: Pick<RunCounters, "failures">): [cause: string, count: string][] {
  const entries = Object.entries(counters.failures ?? {}).filter(([, count]) => count !== 0);
  const named = entries.filter(([key]) => key !== OTHER_FAILURES).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  const other = entries.find(([key]) => key === OTHER_FAILURES);
  const rows = other ? [...named, [`${OTHER_FAILURES} (causes beyond the first ${FAILURE_CAUSE_LIMIT})`, other[1]] as const] : named;
  return rows.map(([cause, count]) => [cause, String(count)]);
}

/**
 * The run's errors in one line, for the summary: transport errors, flow errors and responses outside a step's
 * `expect`, and how many virtual users failed. It says "none" only when nothing failed.
 */
export function errorsLine(counters: RunCounters): string {
  const kinds = [...Object.entries(counters.errors), ...Object.entries(counters.vuserErrors)].map(([kind, count]) => `${kind}: ${count}`);
  if (counters.unexpectedStatus > 0) kinds.push(`unexpected status: ${counters.unexpectedStatus}`);
  if (counters.vusersFailed === 0) return `errors: ${kinds.join(", ") || "none"}`;
  const failed = `${counters.vusersFailed} virtual user${counters.vusersFailed === 1 ? "" : "s"} failed`;
  return `errors: ${kinds.length > 0 ? `${kinds.join(", ")}; ${failed}` : failed}`;
}

/**
 * Why virtual users failed, one line per cause, most frequent first: `  3  check out · step 8 POST
 * /trpc/checkout.placeOrder · 412 PRECONDITION_FAILED (QUOTE_EXPIRED)`. Printed after the errors line; none when
 * nothing failed.
 */
export function failureLines(counters: Pick<RunCounters, "failures">): string[] {
  const rows = failureCauseRows(counters);
  if (rows.length === 0) return [];
  const shown = rows.slice(0, FAILURE_LINES_SHOWN);
  const width = Math.max(...shown.map(([, count]) => count.length));
  const lines = ["failed virtual users by cause (scenario · step · status and error code):", ...shown.map(([cause, count]) => `  ${count.padStart(width)}  ${cause}`)];
  const rest = rows.slice(FAILURE_LINES_SHOWN);
  if (rest.length > 0) {
    const total = rest.reduce((sum, [, count]) => sum + Number(count), 0);
    lines.push(`  … ${rest.length} more causes, ${total} failures (the saved result has them all)`);
  }
  return lines;
}
