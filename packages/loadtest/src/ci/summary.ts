// The machine-readable summary of a run (`run --summary FILE`): a versioned public contract, described by
// schema/summary.v1.schema.json. Fields may be added within schemaVersion 1; renaming, removing or changing the
// meaning of one is a new schemaVersion.
import { readFileSync } from "node:fs";
import type { Verdict } from "../engine/ensure.ts";
import { evaluateEnsure } from "../engine/ensure.ts";
import { summarize, type LatencySummary } from "../engine/run-result.ts";
import type { SavedRun } from "../report/saved-run.ts";
import type { Ensure } from "../script/script-types.ts";

export const SUMMARY_SCHEMA_VERSION = 1;

export type CheckKind = "threshold" | "condition" | "invariant" | "schedule" | "generator";

/** One judgement of the run. `passed` says whether the check held; only a strict check that did not hold fails the run. */
export interface SummaryCheck {
  kind: CheckKind;
  /** The metric (`http.response_time.p95`), the condition's expression, `invariants.stock`, `arrivals.on_schedule`, `generators.0`. */
  name: string;
  passed: boolean;
  /** False for an `ensure` condition marked `strict: false`: reported, never fails the run. */
  strict: boolean;
  message: string;
  /** The measured value (latencies in ms, rates in %), or null when there is none. */
  actual: number | null;
  /** The threshold's maximum (the run passes below it), or null when the check has no single limit. */
  limit: number | null;
}

/** One load generator of a distributed run. */
export interface GeneratorSummary {
  /** 0-based shard index. */
  index: number;
  /** What an operator can look up: "local pid 12345", or an ECS task ARN. */
  id: string;
  platform: "local" | "fargate";
  /** True when it ran its share of the arrivals and its result was merged. */
  passed: boolean;
  message: string;
  /** Requests it sent, when its result was merged. */
  requests: number | null;
}

/** Latency in milliseconds, from the HDR histogram (3 significant digits). */
export type SummaryLatency = Pick<LatencySummary, "count" | "min" | "mean" | "p50" | "p75" | "p90" | "p95" | "p99" | "p999" | "max">;

export interface LoadTestSummary {
  schemaVersion: 1;
  tool: { name: string; version: string };
  script: { path: string | null; environment: string | null; scenario: string | null };
  /** The base URL the load was sent to. */
  target: string;
  /** ISO 8601, UTC. */
  startedAt: string;
  durationMs: number;
  /** True when the run was stopped before its phases ended (Ctrl-C). */
  aborted: boolean;
  /** "fail" when any strict check did not hold. */
  verdict: "pass" | "fail";
  counters: {
    arrivalsPlanned: number;
    vusersCreated: number;
    vusersCompleted: number;
    vusersFailed: number;
    vusersDropped: number;
    arrivalsLate: number;
    requests: number;
    responses: number;
    unexpectedStatus: number;
    statusCodes: Record<string, number>;
    errors: Record<string, number>;
    vuserErrors: Record<string, number>;
    /** Failed virtual users by cause (scenario, step, request, status and error code); at most 50 causes, the rest "other". */
    failures: Record<string, number>;
  };
  /** From each request's intended send time: the latency a shopper saw, including any wait for the generator. */
  latency: SummaryLatency;
  /** From each request's actual send time (what a closed-model tool reports), for comparison only. */
  serviceTime: SummaryLatency;
  rates: {
    arrivalsPerSecond: number;
    requestsPerSecond: number;
    responsesPerSecond: number;
    /** (requests without a response + responses a step's expect refused) / requests, a fraction from 0 to 1. */
    requestErrorRate: number;
    /** Failed virtual users / created virtual users, a fraction from 0 to 1. */
    vuserFailureRate: number;
  };
  /** Latency by `METHOD url-template`. */
  endpoints: Record<string, SummaryLatency>;
  checks: SummaryCheck[];
  generators?: GeneratorSummary[];
}

export interface SummaryMeta {
  /** The script file that was run (null for `quick`), with the environment (-e) and scenario chosen. */
  script: { path: string | null; environment?: string | null; scenario?: string | null };
  target: string;
  /** The generators of a distributed run: listed, and each one a check. */
  generators?: GeneratorSummary[];
  /** Defaults to this package's name on the command line and its version. */
  tool?: { name: string; version: string };
}

let toolVersion: string | undefined;

/** The load tester as it names itself in summaries and reports. */
export function toolInfo(): { name: string; version: string } {
  toolVersion ??= (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  return { name: "checkout-loadtest", version: toolVersion };
}

/** The metric names `evaluateEnsure` gives threshold verdicts. */
function thresholdNames(ensure: Ensure): Set<string> {
  return new Set([...ensure.thresholds.map((t) => t.metric), ...(ensure.maxErrorRate === undefined ? [] : ["maxErrorRate"])]);
}

/** What kind of judgement a saved verdict is, from its metric name and the script's `ensure`. */
export function checkKind(verdict: Verdict, ensure: Ensure | undefined): CheckKind {
  const { metric } = verdict;
  if (metric === "arrivals.on_schedule") return "schedule";
  if (metric === "invariants" || metric.startsWith("invariants.")) return "invariant";
  if (metric === "generators" || metric.startsWith("generators.")) return "generator";
  if (ensure) {
    if (thresholdNames(ensure).has(metric)) return "threshold";
    if (ensure.conditions.some((c) => c.expression === metric)) return "condition";
  }
  // Results saved without their ensure: a threshold has a maximum, a condition has none.
  return verdict.max === null ? "condition" : "threshold";
}

/** A saved verdict as a check: a condition's verdict passes when it is optional, so whether it held is read from its value. */
export function toCheck(verdict: Verdict, ensure: Ensure | undefined): SummaryCheck {
  const kind = checkKind(verdict, ensure);
  const base = { kind, name: verdict.metric, message: verdict.message, actual: verdict.actual, limit: verdict.max };
  if (kind !== "condition") return { ...base, passed: verdict.passed, strict: true };
  const condition = ensure?.conditions.find((c) => c.expression === verdict.metric);
  const held = verdict.actual === 1;
  // Without the script's ensure: a condition that passed without holding can only be an optional one.
  const strict = condition ? condition.strict : !(verdict.passed && !held);
  return { ...base, passed: strict ? verdict.passed : held, strict };
}

function generatorCheck(generator: GeneratorSummary): SummaryCheck {
  return { kind: "generator", name: `generators.${generator.index}`, passed: generator.passed, strict: true, message: generator.message, actual: null, limit: null };
}

function latency(summary: LatencySummary): SummaryLatency {
  const { count, min, mean, p50, p75, p90, p95, p99, p999, max } = summary;
  return { count, min, mean, p50, p75, p90, p95, p99, p999, max };
}

/**
 * The summary of a saved run. Its checks are the verdicts saved with it (a result saved without them is judged again
 * on its thresholds and schedule; invariants cannot be), then one per generator the meta names.
 */
export function buildSummary(saved: SavedRun, meta: SummaryMeta): LoadTestSummary {
  const summary = summarize(saved);
  const verdicts = saved.verdicts ?? evaluateEnsure({ ensure: saved.ensure ?? { thresholds: [], conditions: [] }, result: saved }).verdicts;
  const checks = verdicts.map((v) => toCheck(v, saved.ensure));
  for (const generator of meta.generators ?? []) {
    const check = generatorCheck(generator);
    if (!checks.some((c) => c.name === check.name)) checks.push(check);
  }
  const c = saved.counters;
  return {
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    tool: meta.tool ?? toolInfo(),
    script: { path: meta.script.path, environment: meta.script.environment ?? null, scenario: meta.script.scenario ?? null },
    target: meta.target,
    startedAt: new Date(saved.startedAt).toISOString(),
    durationMs: saved.durationMs,
    aborted: saved.aborted,
    verdict: checks.every((check) => check.passed || !check.strict) ? "pass" : "fail",
    counters: {
      arrivalsPlanned: c.arrivalsPlanned,
      vusersCreated: c.vusersCreated,
      vusersCompleted: c.vusersCompleted,
      vusersFailed: c.vusersFailed,
      vusersDropped: c.vusersDropped,
      arrivalsLate: c.arrivalsLate,
      requests: c.requests,
      responses: c.responses,
      unexpectedStatus: c.unexpectedStatus,
      statusCodes: { ...c.statusCodes },
      errors: { ...c.errors },
      vuserErrors: { ...c.vuserErrors },
      failures: { ...(c.failures ?? {}) },
    },
    latency: latency(summary.latency),
    serviceTime: latency(summary.serviceTime),
    rates: {
      arrivalsPerSecond: summary.rates.arrivals,
      requestsPerSecond: summary.rates.requests,
      responsesPerSecond: summary.rates.responses,
      requestErrorRate: summary.requestErrorRate,
      vuserFailureRate: summary.vuserFailureRate,
    },
    endpoints: Object.fromEntries(Object.entries(summary.endpoints).map(([name, s]) => [name, latency(s)])),
    checks,
    ...(meta.generators ? { generators: meta.generators.map((g) => ({ ...g })) } : {}),
  };
}
