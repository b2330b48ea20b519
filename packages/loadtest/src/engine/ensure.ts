// Checks a run against the script's ensure thresholds, with Artillery's metric names plus ours.
import type { Condition, Ensure } from "../script/script-types.ts";
import { compileCondition } from "./ensure-expression.ts";
import { summarize, type RunResult, type RunSummary } from "./run-result.ts";

/** Share of arrivals that may start late (their wait still counts in the latencies) before the run fails. */
export const LATE_ARRIVAL_TOLERANCE = 0.01;

/**
 * Late arrivals a run may have whatever its size: the first launch of a run (a cold connection, code not yet
 * optimised) can miss its time by a few milliseconds on a busy machine, and 1 % of a ten-arrival run is no arrival.
 */
export const LATE_ARRIVALS_ALWAYS_TOLERATED = 1;

export interface Verdict {
  metric: string;
  max: number | null;
  /** The measured value, or null when the metric is unknown or not evaluated. */
  actual: number | null;
  passed: boolean;
  message: string;
}

export interface EnsureReport {
  passed: boolean;
  verdicts: Verdict[];
  /** True when every planned arrival was launched on time: otherwise the run did not apply the load it claims. */
  isOnSchedule: boolean;
}

/** Artillery's `http.response_time.<stat>` names and the latency summary field each reads. */
export const LATENCY_STATS: Record<string, Exclude<keyof RunSummary["latency"], "count">> = {
  min: "min",
  max: "max",
  mean: "mean",
  median: "p50",
  p50: "p50",
  p75: "p75",
  p90: "p90",
  p95: "p95",
  p99: "p99",
  p999: "p999",
};

/** The value of a metric by name, or undefined when the name is not known or the run has no value for it. Latencies in ms, rates in %. */
export function readMetric(summary: RunSummary, metric: string): number | undefined {
  const latencyPrefix = "http.response_time.";
  if (metric.startsWith(latencyPrefix)) {
    const key = LATENCY_STATS[metric.slice(latencyPrefix.length)];
    // With no response there is no latency to judge: as in Artillery, the metric is absent and a check on it fails.
    return key === undefined || summary.latency.count === 0 ? undefined : summary.latency[key];
  }
  const { counters } = summary;
  // Counter families are read as 0 when nothing was counted (Artillery leaves them out, which fails any check on them).
  if (metric.startsWith("http.codes.")) {
    const code = metric.slice(11);
    if (/^\d{3}$/.test(code)) return counters.statusCodes[code] ?? 0;
    // A class of codes (`http.codes.5xx`): the sum of its codes' counts.
    if (/^[1-5]xx$/.test(code)) return Object.entries(counters.statusCodes).reduce((sum, [status, count]) => (status[0] === code[0] ? sum + count : sum), 0);
    return undefined;
  }
  if (metric.startsWith("errors.")) {
    const kind = metric.slice(7);
    return (counters.errors[kind] ?? 0) + (counters.vuserErrors[kind] ?? 0);
  }
  switch (metric) {
    case "http.requests":
      return counters.requests;
    case "http.responses":
      return counters.responses;
    case "http.request_rate":
      return summary.rates.requests;
    case "http.request_error_rate":
      return summary.requestErrorRate * 100;
    case "vusers.created":
      return counters.vusersCreated;
    case "vusers.completed":
      return counters.vusersCompleted;
    case "vusers.failed":
      return counters.vusersFailed;
    case "vusers.dropped":
      return counters.vusersDropped;
    case "vusers.late":
      return counters.arrivalsLate;
    default:
      return undefined;
  }
}

/** Artillery's threshold test is `metric < max`: strictly below. */
function checkBelow(metric: string, actual: number | undefined, max: number): Verdict {
  if (actual === undefined) return { metric, max, actual: null, passed: false, message: `${metric}: no such metric in this run` };
  const passed = actual < max;
  return { metric, max, actual, passed, message: `${metric} = ${round(actual)} ${passed ? "<" : ">="} ${max}` };
}

function checkCondition(summary: RunSummary, condition: Condition): Verdict {
  const base = { metric: condition.expression, max: null };
  const optional = condition.strict ? "" : " (optional: reported, does not fail the run)";
  let compiled;
  try {
    compiled = compileCondition(condition.expression);
  } catch (error) {
    return { ...base, actual: null, passed: !condition.strict, message: `condition "${condition.expression}" is not valid: ${(error as Error).message}${optional}` };
  }
  const { value, missing } = compiled.evaluate((name) => readMetric(summary, name));
  const holds = missing.length === 0 && value === 1;
  const values = compiled.names.map((name) => `${name} = ${readMetric(summary, name) === undefined ? "absent" : round(readMetric(summary, name) ?? 0)}`);
  return {
    ...base,
    actual: missing.length === 0 ? value : null,
    passed: holds || !condition.strict,
    message: `${holds ? "holds" : "does not hold"}: ${condition.expression} (${values.join(", ")})${holds ? "" : optional}`,
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export function evaluateEnsure({ ensure, result }: { ensure: Ensure; result: RunResult }): EnsureReport {
  const summary = summarize(result);
  const verdicts: Verdict[] = ensure.thresholds.map(({ metric, max }) => checkBelow(metric, readMetric(summary, metric), max));
  if (ensure.maxErrorRate !== undefined) {
    // Artillery: (vusers.created - vusers.completed) / vusers.created * 100 <= maxErrorRate.
    const { vusersCreated, vusersCompleted } = summary.counters;
    const max = ensure.maxErrorRate;
    if (vusersCreated === 0) {
      verdicts.push({ metric: "maxErrorRate", max, actual: null, passed: false, message: "maxErrorRate: no virtual user was created, so there is no error rate to judge" });
    } else {
      const actual = ((vusersCreated - vusersCompleted) / vusersCreated) * 100;
      const passed = actual <= max;
      verdicts.push({ metric: "maxErrorRate", max, actual, passed, message: `maxErrorRate: ${round(actual)} % of virtual users did not complete ${passed ? "<=" : ">"} ${max} %` });
    }
  }
  for (const condition of ensure.conditions) verdicts.push(checkCondition(summary, condition));
  const { vusersDropped, arrivalsLate, arrivalsPlanned } = summary.counters;
  // A dropped arrival is load that was never applied: always a failure. A late one was applied and
  // its wait is already in the latencies, so a handful (generator warm-up) is reported, not failed.
  const lateTolerated = Math.max(LATE_ARRIVALS_ALWAYS_TOLERATED, arrivalsPlanned * LATE_ARRIVAL_TOLERANCE);
  const isOnSchedule = vusersDropped === 0 && arrivalsLate <= lateTolerated && !result.aborted;
  verdicts.push({
    metric: "arrivals.on_schedule",
    max: 0,
    actual: vusersDropped + arrivalsLate,
    passed: isOnSchedule,
    message: isOnSchedule
      ? arrivalsLate === 0
        ? `all ${arrivalsPlanned} arrivals launched on time`
        : `${arrivalsLate} of ${arrivalsPlanned} arrivals launched more than ${result.lateThresholdMs} ms late (worst ${round(result.maxLatenessMs)} ms), ` +
          `within the tolerance (${LATE_ARRIVAL_TOLERANCE * 100} % of arrivals, at least ${LATE_ARRIVALS_ALWAYS_TOLERATED}); their wait is counted in the latencies`
      : `${result.aborted ? "the run was aborted; " : ""}${vusersDropped} of ${arrivalsPlanned} arrivals dropped (maxVusers) and ${arrivalsLate} launched more than ` +
        `${result.lateThresholdMs} ms late (worst ${round(result.maxLatenessMs)} ms): the run did not apply the load it claims`,
  });
  return { passed: verdicts.every((v) => v.passed), verdicts, isOnSchedule };
}
