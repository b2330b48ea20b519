// The post-run invariant check (config.plugins.checkout-invariants): before the load, make sure the
// admin API answers with the token (exit 2 at once if not, rather than after a long run); after the
// load, ask again and turn the report into verdicts printed and saved beside the thresholds'.
import type { EnsureReport, Verdict } from "../engine/ensure.ts";
import type { Script } from "../script/script-types.ts";
import { InvariantsSetupError, resolveAdminToken, type AdminToken } from "./admin-token.ts";
import { fetchInvariants, InvariantsRequestError, ORDER_NUMBERS_PER_CALL, type InvariantCheck, type InvariantReport } from "./invariants-client.ts";

/** Violations listed one per verdict; the rest are counted in one more. */
export const MAX_VIOLATION_VERDICTS = 20;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const counts = (byKind: Record<string, number>) =>
  Object.entries(byKind)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");

function passedMessage(invariant: string, report: InvariantReport): string {
  const { stock, orders, charges } = report;
  switch (invariant) {
    case "stock":
      return (
        `invariant stock: orders within stock for ${plural(stock.skus, "SKU")}: ${stock.unitsHeld} units held by live orders + ` +
        `${stock.unitsAvailable} available = ${stock.unitsReceived} received`
      );
    case "charges":
      return (
        `invariant charges: ${plural(orders.total, "order")} (${counts(orders.byStatus) || "none"}), ${plural(charges.total, "charge")} ` +
        `(${charges.captured} captured, ${charges.authorised} authorised): each paid order charged once for its total, no money held for unpaid ones`
      );
    case "orders":
      return report.orderNumbersChecked
        ? `invariant orders: each of the ${plural(report.orderNumbersChecked, "order number")} the service acknowledged to this run exists exactly once`
        : "invariant orders: every order checked exists exactly once";
    default:
      return `invariant ${invariant}: holds`;
  }
}

/** One verdict per invariant, then one per listed violation (at most MAX_VIOLATION_VERDICTS, then a count of the rest). */
export function invariantVerdicts(report: InvariantReport, baseline: InvariantReport | null = null): Verdict[] {
  const verdicts: Verdict[] = report.checks.map((check) => {
    const before = baseline?.checks.find((c) => c.invariant === check.invariant && c.violations > 0);
    return {
      metric: `invariants.${check.invariant}`,
      max: 0,
      actual: check.violations,
      passed: check.passed,
      message: check.passed
        ? passedMessage(check.invariant, report)
        : `invariant ${check.invariant}: ${plural(check.violations, "violation")} (${counts(check.byKind)})${before ? `; already ${before.violations} before the load` : ""}`,
    };
  });
  const shown = report.violations.slice(0, MAX_VIOLATION_VERDICTS);
  for (const violation of shown) {
    verdicts.push({
      metric: `invariants.${violation.invariant}.${violation.kind}`,
      max: 0,
      actual: 1,
      passed: false,
      message: `${violation.kind}: ${violation.detail}`,
    });
  }
  const total = report.checks.reduce((sum, check) => sum + check.violations, 0);
  if (total > shown.length) {
    verdicts.push({
      metric: "invariants.more",
      max: 0,
      actual: total - shown.length,
      passed: false,
      message: `… and ${plural(total - shown.length, "more violation")} (GET /trpc/admin.invariants lists them)`,
    });
  }
  return verdicts;
}

/** A check that could not be made after the load fails the run: correctness was not shown. */
export function uncheckedVerdict(error: Error): Verdict {
  return { metric: "invariants", max: 0, actual: null, passed: false, message: `invariants could not be checked after the load: ${error.message}` };
}

/** Violations about the order numbers a call was given (the rest are about the whole database, the same in every call). */
const isOrderNumberKind = (kind: string) => kind === "order_missing" || kind === "order_duplicated";

/**
 * One report from the answers to several calls, each given a batch of order numbers: stock and charges as the last
 * call saw them, and the order-number violations of every batch added up.
 */
export function mergeBatchReports(reports: readonly InvariantReport[]): InvariantReport {
  const last = reports.at(-1);
  if (!last) throw new Error("mergeBatchReports needs at least one report");
  if (reports.length === 1) return last;
  const byKind: Record<string, number> = {};
  for (const report of reports) {
    const orders = report.checks.find((c) => c.invariant === "orders");
    for (const [kind, n] of Object.entries(orders?.byKind ?? {})) {
      if (isOrderNumberKind(kind) || report === last) byKind[kind] = (byKind[kind] ?? 0) + n;
    }
  }
  const violationCount = Object.values(byKind).reduce((a, b) => a + b, 0);
  const ordersCheck: InvariantCheck = { invariant: "orders", passed: violationCount === 0, violations: violationCount, byKind };
  const checks = [...last.checks.filter((c) => c.invariant !== "orders"), ordersCheck];
  return {
    ...last,
    passed: checks.every((c) => c.passed),
    checks,
    violations: [...last.violations.filter((v) => !isOrderNumberKind(v.kind)), ...reports.flatMap((r) => r.violations.filter((v) => isOrderNumberKind(v.kind)))],
    orderNumbersChecked: reports.reduce((n, r) => n + (r.orderNumbersChecked ?? 0), 0),
  };
}

export interface InvariantsStep {
  token: AdminToken;
  /** The report before the load, to tell new violations from old ones. */
  baseline: InvariantReport;
  /**
   * Asks again after the load, with the order numbers the run saw acknowledged (in batches of ORDER_NUMBERS_PER_CALL);
   * never throws: an unanswered check is a failing verdict.
   */
  check(acknowledgedOrders?: readonly string[]): Promise<Verdict[]>;
}

/** Null when the script does not opt in. Throws InvariantsSetupError (exit 2) when the admin API cannot be used. */
export async function prepareInvariants(
  script: Script,
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void; timeoutMs?: number } = {},
): Promise<InvariantsStep | null> {
  if (!script.invariants) return null;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const target = script.target;
  const token = resolveAdminToken({ target, adminTokenEnv: script.invariants.adminTokenEnv, env: options.env });
  const ask = (orderNumbers?: readonly string[]) => fetchInvariants({ target, token: token.token, tokenSource: token.source, orderNumbers, timeoutMs: options.timeoutMs });
  let baseline: InvariantReport;
  try {
    baseline = await ask();
  } catch (error) {
    if (!(error instanceof InvariantsRequestError)) throw error;
    const hint =
      error.reason === "unauthorized" && token.isDevFile
        ? ` That file is rewritten each time \`pnpm start\` runs in development: is the shop at ${target} that one, or does it set ADMIN_API_TOKENS? Then set ${script.invariants.adminTokenEnv}.`
        : "";
    throw new InvariantsSetupError(`${error.message}.${hint} The run was not started.`);
  }
  const already = baseline.passed
    ? ""
    : `; ${plural(
        baseline.checks.reduce((sum, c) => sum + c.violations, 0),
        "violation",
      )} before the load already`;
  log(`invariants: the admin API at ${target} answers (token from ${token.source})${already}; checked again after the load`);
  return {
    token,
    baseline,
    async check(acknowledgedOrders = []) {
      try {
        const unique = [...new Set(acknowledgedOrders)];
        const reports: InvariantReport[] = [];
        for (let i = 0; i === 0 || i < unique.length; i += ORDER_NUMBERS_PER_CALL) reports.push(await ask(unique.slice(i, i + ORDER_NUMBERS_PER_CALL)));
        // A number acknowledged twice is one order (an idempotent replay answers with the same order): checked once.
        return invariantVerdicts(mergeBatchReports(reports), baseline);
      } catch (error) {
        if (error instanceof InvariantsRequestError) return [uncheckedVerdict(error)];
        throw error;
      }
    },
  };
}

/** The threshold report with the invariant verdicts after its own; a violation or an unanswered check fails it. */
export async function judgeInvariants(report: EnsureReport, step: InvariantsStep | null, acknowledgedOrders?: readonly string[]): Promise<EnsureReport> {
  if (!step) return report;
  const verdicts = await step.check(acknowledgedOrders);
  return { ...report, passed: report.passed && verdicts.every((v) => v.passed), verdicts: [...report.verdicts, ...verdicts] };
}

export { InvariantsSetupError };
