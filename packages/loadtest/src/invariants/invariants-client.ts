// Asks the service's admin API (`GET /trpc/admin.invariants`) for its invariant report. The load
// tester imports nothing from the server, so the answer's shape is declared and checked here.

export interface InvariantCheck {
  invariant: string;
  passed: boolean;
  violations: number;
  byKind: Record<string, number>;
}

export interface InvariantViolation {
  invariant: string;
  kind: string;
  subject: string;
  detail: string;
}

export interface InvariantReport {
  checkedAt: string;
  passed: boolean;
  checks: InvariantCheck[];
  violations: InvariantViolation[];
  stock: { skus: number; unitsReceived: number; unitsAvailable: number; unitsHeld: number };
  orders: { total: number; byStatus: Record<string, number> };
  charges: { total: number; authorised: number; captured: number };
  /** How many order numbers the service confirmed (absent from services older than that check). */
  orderNumbersChecked?: number;
}

/** Order numbers per call: the service takes at most 4,000, which fit its 64 KiB request body limit. */
export const ORDER_NUMBERS_PER_CALL = 4000;

export type InvariantsRequestFailure = "unreachable" | "unauthorized" | "not_found" | "http_error" | "bad_response";

export class InvariantsRequestError extends Error {
  override readonly name = "InvariantsRequestError";
  constructor(
    message: string,
    readonly reason: InvariantsRequestFailure,
  ) {
    super(message);
  }
}

export function invariantsUrl(target: string): string {
  return `${target.replace(/\/+$/, "")}/trpc/admin.invariants`;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value) && value >= 0;
const isCountMap = (value: unknown): value is Record<string, number> => isRecord(value) && Object.values(value).every(isCount);

function isCheck(value: unknown): value is InvariantCheck {
  return isRecord(value) && typeof value.invariant === "string" && typeof value.passed === "boolean" && isCount(value.violations) && isCountMap(value.byKind);
}

function isViolation(value: unknown): value is InvariantViolation {
  return isRecord(value) && ["invariant", "kind", "subject", "detail"].every((key) => typeof value[key] === "string");
}

/** The report inside a tRPC answer, or null when the answer does not have the shape this load tester knows. */
export function readReport(body: unknown): InvariantReport | null {
  const data = isRecord(body) && isRecord(body.result) ? body.result.data : undefined;
  if (!isRecord(data)) return null;
  const { stock, orders, charges } = data;
  const isValid =
    typeof data.checkedAt === "string" &&
    typeof data.passed === "boolean" &&
    Array.isArray(data.checks) &&
    data.checks.every(isCheck) &&
    Array.isArray(data.violations) &&
    data.violations.every(isViolation) &&
    isRecord(stock) &&
    ["skus", "unitsReceived", "unitsAvailable", "unitsHeld"].every((key) => isCount(stock[key])) &&
    isRecord(orders) &&
    isCount(orders.total) &&
    isCountMap(orders.byStatus) &&
    isRecord(charges) &&
    ["total", "authorised", "captured"].every((key) => isCount(charges[key]));
  return isValid ? (data as unknown as InvariantReport) : null;
}

function errorMessageOf(body: unknown): string | null {
  return isRecord(body) && isRecord(body.error) && typeof body.error.message === "string" ? body.error.message : null;
}

export async function fetchInvariants(input: {
  target: string;
  token: string;
  /** Where the token came from, for messages (an environment variable's name or a file). */
  tokenSource: string;
  orderNumbers?: readonly string[];
  timeoutMs?: number;
}): Promise<InvariantReport> {
  const url = invariantsUrl(input.target);
  const headers: Record<string, string> = { authorization: `Bearer ${input.token}`, accept: "application/json", "user-agent": "checkout-loadtest invariants" };
  // Order numbers go in a POST body (the query allows it): thousands of them would not fit in a URL.
  const withOrders = input.orderNumbers?.length
    ? { method: "POST", body: JSON.stringify({ orderNumbers: input.orderNumbers }), headers: { ...headers, "content-type": "application/json" } }
    : { method: "GET", headers };
  let response: Response;
  try {
    response = await fetch(url, { ...withOrders, signal: AbortSignal.timeout(input.timeoutMs ?? 30_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new InvariantsRequestError(`could not reach the admin API at ${url} (${why}): is the service running at ${input.target}?`, "unreachable");
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: a proxy's error page, or not the checkout service at all.
  }
  if (response.status === 401) {
    throw new InvariantsRequestError(`the admin API at ${url} refused the token from ${input.tokenSource} (401): use a token from the service's ADMIN_API_TOKENS`, "unauthorized");
  }
  if (response.status === 404) {
    throw new InvariantsRequestError(
      `${url} answered 404: the service has no admin.invariants (it is older than this load tester, or this is not the checkout service)`,
      "not_found",
    );
  }
  if (!response.ok) {
    throw new InvariantsRequestError(`the admin API at ${url} answered ${response.status}: ${errorMessageOf(body) ?? text.slice(0, 200)}`, "http_error");
  }
  const report = readReport(body);
  if (!report) throw new InvariantsRequestError(`the admin API at ${url} answered 200 with something that is not an invariant report`, "bad_response");
  return report;
}
