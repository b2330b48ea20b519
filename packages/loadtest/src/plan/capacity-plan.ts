// Capacity planning from a saved stress run: the highest throughput whose windows still met the thresholds (the knee),
// that rate per API process, and how many API tasks of the deployed size carry a target rate with headroom.
//
// The rule, exactly (the README says the same):
//  1. The run's intervals (1 s by default) from the first to the last whole one in which requests were sent form the
//     load span; an interval with nothing recorded counts as empty. Windows are `windowSeconds` of consecutive intervals,
//     sliding by one interval; a load span shorter than a window is one window. A window that sent no request is idle
//     and not judged.
//  2. A window's rate is the responses it received per second. Its latency percentiles come from the merged HDR
//     histogram of its intervals (latency from each request's intended start); its request error rate is requests
//     that failed (no response, or a response outside the step's expect) / requests sent.
//  3. A window MEETS when every applied threshold holds (value <= max), and the server kept up: the requests left
//     unanswered (requests sent − responses − transport errors, in the window) are at most 5 % of its requests or the
//     backlog the latency limit itself implies, request rate × the p95 limit (Little's law), whichever is larger.
//     Within that it is only the requests in flight at the window's edge; beyond it the backlog is growing, which is
//     overload even when the responses that did come back were fast.
//  4. The first window, in time order, that does not meet is the first broken window. The KNEE is the window with the
//     highest rate among the windows before it (ties: the earliest). No window before it → the run never met the
//     thresholds, and there is no plan. No broken window → the knee is the highest rate of the run, a lower bound.
//  5. Per API process = knee rate / the API processes that served the run. Tasks = ceil(target × (1 + headroom) /
//     (per-process rate × API processes per task)), at least the autoscaling minimum; flagged above the maximum.
import { API_TASK_SIZE, vcpuOf, type ApiTaskSize } from "../../../../stacks/api-task-size.ts";
import type { Histogram } from "hdr-histogram-js";
import { createLatencyHistogram, decodeHistogram, intervalFailures, summarizeHistogram, type IntervalResult, type LatencySummary } from "../engine/run-result.ts";
import type { SavedRun } from "../report/saved-run.ts";
import type { Ensure } from "../script/script-types.ts";
import { LATENCY_STATS } from "../engine/ensure.ts";

/** The service levels the service claims; they apply when the script sets no threshold of that kind. */
export const SERVICE_LEVELS = { p95Ms: 300, requestErrorRatePercent: 0.01 } as const;
export const DEFAULT_WINDOW_SECONDS = 5;
export const DEFAULT_HEADROOM = 0.3;
/** Unanswered requests a window may leave at its end, as a share of its requests (at least; see backlogLimit). */
export const BACKLOG_TOLERANCE = 0.05;

/** A run that cannot be planned from at all (no intervals, bad options): a usage error, not a measurement. */
export class CapacityPlanError extends Error {
  override readonly name = "CapacityPlanError";
}

type LatencyStat = Exclude<keyof LatencySummary, "count">;

/** What a threshold measures in a window. */
export type WindowMeasure =
  | { kind: "latency"; stat: LatencyStat }
  /** Failed requests (transport errors + responses outside expect) / requests, in %. */
  | { kind: "requestErrorRate" }
  /** Artillery's maxErrorRate (failed virtual users, %): per window, transport errors / virtual users created. */
  | { kind: "vuserErrorRate" };

export interface PlanThreshold {
  /** The metric as the script names it: `http.response_time.p95`, `http.request_error_rate`, `maxErrorRate`. */
  metric: string;
  max: number;
  unit: "ms" | "%";
  measure: WindowMeasure;
  source: "script" | "service level";
}

export interface IgnoredThreshold {
  metric: string;
  reason: string;
}

export interface WindowVerdict {
  startMs: number;
  endMs: number;
  requests: number;
  responses: number;
  /** Requests that got no response (timeouts, resets, refused). */
  errors: number;
  vusersCreated: number;
  /** Requests sent per second. */
  requestRate: number;
  /** Responses received per second: the window's rate. */
  responseRate: number;
  latency: LatencySummary;
  /** Failed requests (transport errors + responses outside expect) / requests, in %. */
  requestErrorRatePercent: number;
  /** Failed requests / virtual users created, in % (an estimate of Artillery's failed-vuser share). */
  vuserErrorRatePercent: number;
  /** (responses + transport errors) / requests. */
  completionRatio: number;
  /** requests − responses − transport errors: the backlog the window added (negative when it drained one). */
  unanswered: number;
  /** The most `unanswered` may be: max(5 % of requests, request rate × the backlog latency limit). */
  unansweredLimit: number;
  met: boolean;
  /** Why it did not meet, one line per broken limit. */
  failures: string[];
}

export interface TaskEstimate {
  targetRps: number;
  headroom: number;
  /** target × (1 + headroom). */
  requiredRps: number;
  perTaskRps: number;
  /** requiredRps / perTaskRps before rounding. */
  exactTasks: number;
  /** ceil(exactTasks), at least taskSize.minTasks. */
  tasks: number;
  isAtMinimum: boolean;
  exceedsMax: boolean;
}

export interface CapacityPlan {
  windowSeconds: number;
  /** The latency limit (ms) the backlog allowance uses: the p95 threshold, else the first latency threshold. */
  backlogLatencyMs: number;
  intervalMs: number;
  thresholds: PlanThreshold[];
  ignoredThresholds: IgnoredThreshold[];
  windows: WindowVerdict[];
  firstBroken: WindowVerdict | null;
  /** null: the first window already broke, so the run never met the thresholds. */
  knee: WindowVerdict | null;
  /** True when no window broke: the run never reached the limit and the knee is only a lower bound. */
  isLowerBound: boolean;
  /** API processes that served the run. */
  processes: number;
  perProcessRps: number | null;
  taskSize: ApiTaskSize;
  /** null without a target, or without a knee. */
  target: TaskEstimate | null;
  /** Assumptions and caveats to print with the numbers. */
  notes: string[];
}

export interface PlanOptions {
  /** API processes that served the run. Default 1. */
  processes?: number;
  targetRps?: number;
  /** Extra capacity over the target, as a fraction. Default 0.3. */
  headroom?: number;
  windowSeconds?: number;
  taskSize?: ApiTaskSize;
}

/**
 * The thresholds a window is judged by: the script's latency and error-rate thresholds, with the service levels
 * (p95 300 ms, request errors 0.01 %) standing in for a kind the script does not set.
 */
export function thresholdsForPlan(ensure: Ensure | undefined): { thresholds: PlanThreshold[]; ignored: IgnoredThreshold[] } {
  const thresholds: PlanThreshold[] = [];
  const ignored: IgnoredThreshold[] = [];
  const latencyPrefix = "http.response_time.";
  for (const { metric, max } of ensure?.thresholds ?? []) {
    if (metric.startsWith(latencyPrefix)) {
      const stat = LATENCY_STATS[metric.slice(latencyPrefix.length)];
      if (stat) thresholds.push({ metric, max, unit: "ms", measure: { kind: "latency", stat }, source: "script" });
      else ignored.push({ metric, reason: "unknown latency statistic" });
    } else if (metric === "http.request_error_rate") {
      thresholds.push({ metric, max, unit: "%", measure: { kind: "requestErrorRate" }, source: "script" });
    } else {
      ignored.push({ metric, reason: "a whole-run total, not a limit a window can be held to" });
    }
  }
  if (ensure?.maxErrorRate !== undefined) {
    thresholds.push({ metric: "maxErrorRate", max: ensure.maxErrorRate, unit: "%", measure: { kind: "vuserErrorRate" }, source: "script" });
  }
  for (const condition of ensure?.conditions ?? []) {
    ignored.push({ metric: condition.expression, reason: "conditions are judged over the whole run, not per window" });
  }
  if (!thresholds.some((t) => t.measure.kind === "latency")) {
    thresholds.push({ metric: "http.response_time.p95", max: SERVICE_LEVELS.p95Ms, unit: "ms", measure: { kind: "latency", stat: "p95" }, source: "service level" });
  }
  if (!thresholds.some((t) => t.measure.kind !== "latency")) {
    thresholds.push({
      metric: "http.request_error_rate",
      max: SERVICE_LEVELS.requestErrorRatePercent,
      unit: "%",
      measure: { kind: "requestErrorRate" },
      source: "service level",
    });
  }
  return { thresholds, ignored };
}

/** The latency threshold that stands for the service level: p95 when one applies, else the first latency threshold. */
export function primaryLatencyThreshold(thresholds: PlanThreshold[]): (PlanThreshold & { measure: { kind: "latency" } }) | undefined {
  const latency = thresholds.filter((t): t is PlanThreshold & { measure: { kind: "latency" } } => t.measure.kind === "latency");
  return latency.find((t) => t.measure.stat === "p95") ?? latency[0];
}

function measureWindow(window: Omit<WindowVerdict, "met" | "failures">, measure: WindowMeasure): number {
  switch (measure.kind) {
    case "latency":
      return window.latency[measure.stat];
    case "requestErrorRate":
      return window.requestErrorRatePercent;
    case "vuserErrorRate":
      return window.vuserErrorRatePercent;
  }
}

function round(value: number): number {
  return Number(value.toPrecision(4));
}

/**
 * The intervals from the first to the last that sent a request, with empty ones filling any gap. A last interval cut
 * short by the end of the run is left out (a fraction of a second of drain would skew a window's rate), unless the run
 * has nothing else.
 */
function loadSpan(saved: SavedRun): IntervalResult[] {
  const { intervalMs } = saved;
  const byIndex = new Map(saved.intervals.map((interval) => [Math.round(interval.startMs / intervalMs), interval]));
  const withRequests = [...byIndex].filter(([, interval]) => interval.requests > 0);
  const whole = withRequests.filter(([, interval]) => intervalMsOf(saved, interval) === intervalMs);
  const sending = (whole.length > 0 ? whole : withRequests).map(([index]) => index);
  if (sending.length === 0) return [];
  const first = Math.min(...sending);
  const last = Math.max(...sending);
  const span: IntervalResult[] = [];
  for (let index = first; index <= last; index++) {
    span.push(byIndex.get(index) ?? { startMs: index * intervalMs, requests: 0, responses: 0, errors: 0, vusersCreated: 0, latency: "" });
  }
  return span;
}

function intervalMsOf(saved: SavedRun, interval: IntervalResult): number {
  const width = Math.min(saved.intervalMs, saved.durationMs - interval.startMs);
  return width > 0 ? width : saved.intervalMs;
}

/** Judges every window of the run against the thresholds, in time order. */
export function evaluateWindows({
  saved,
  thresholds,
  windowSeconds = DEFAULT_WINDOW_SECONDS,
}: {
  saved: SavedRun;
  thresholds: PlanThreshold[];
  windowSeconds?: number;
}): WindowVerdict[] {
  const span = loadSpan(saved);
  const size = Math.min(span.length, Math.max(1, Math.round((windowSeconds * 1000) / saved.intervalMs)));
  // Only the current window's intervals stay decoded: an hour-long run has thousands of them.
  const decoded = new Map<number, Histogram | null>();
  const histogramAt = (index: number): Histogram | null => {
    let histogram = decoded.get(index);
    if (histogram === undefined) {
      const base64 = span[index]?.latency;
      histogram = base64 ? decodeHistogram(base64) : null;
      decoded.set(index, histogram);
    }
    return histogram;
  };
  const backlogLimitMs = primaryLatencyThreshold(thresholds)?.max ?? SERVICE_LEVELS.p95Ms;
  const windows: WindowVerdict[] = [];
  try {
    for (let first = 0; first + size <= span.length && size > 0; first++) {
      decoded.get(first - 1)?.destroy();
      decoded.delete(first - 1);
      const parts = span.slice(first, first + size);
      const sum = (key: "requests" | "responses" | "errors" | "vusersCreated") => parts.reduce((s, p) => s + p[key], 0);
      const requests = sum("requests");
      if (requests === 0) continue;
      const merged = createLatencyHistogram();
      for (let index = first; index < first + size; index++) {
        const histogram = histogramAt(index);
        if (histogram) merged.add(histogram);
      }
      const latency = summarizeHistogram(merged);
      merged.destroy();
      const startMs = parts[0]?.startMs ?? 0;
      const durationMs = parts.reduce((s, p) => s + intervalMsOf(saved, p), 0);
      const seconds = durationMs / 1000;
      const responses = sum("responses");
      const errors = sum("errors");
      // Failed requests: no response, a response outside the step's expect, or any other 5xx.
      const failed = parts.reduce((s, p) => s + intervalFailures(p), 0);
      const vusersCreated = sum("vusersCreated");
      const measured = {
        startMs,
        endMs: startMs + durationMs,
        requests,
        responses,
        errors,
        vusersCreated,
        requestRate: requests / seconds,
        responseRate: responses / seconds,
        latency,
        requestErrorRatePercent: (failed / requests) * 100,
        vuserErrorRatePercent: vusersCreated === 0 ? (failed > 0 ? 100 : 0) : Math.min(100, (failed / vusersCreated) * 100),
        completionRatio: (responses + errors) / requests,
        unanswered: requests - responses - errors,
        unansweredLimit: Math.max(BACKLOG_TOLERANCE * requests, (requests / seconds) * (backlogLimitMs / 1000)),
      };
      const failures = thresholds.flatMap((threshold) => {
        const value = measureWindow(measured, threshold.measure);
        return value <= threshold.max ? [] : [`${threshold.metric} ${round(value)} ${threshold.unit} > ${threshold.max}`];
      });
      if (measured.unanswered > measured.unansweredLimit) {
        failures.push(`fell behind: ${measured.unanswered} of ${requests} requests unanswered > ${Math.floor(measured.unansweredLimit)} allowed`);
      }
      windows.push({ ...measured, met: failures.length === 0, failures });
    }
  } finally {
    for (const histogram of decoded.values()) histogram?.destroy();
  }
  return windows;
}

/** The knee: the highest-rate window before the first broken one (see the rule at the top of this file). */
export function findKnee(windows: WindowVerdict[]): { knee: WindowVerdict | null; firstBroken: WindowVerdict | null } {
  const brokenAt = windows.findIndex((w) => !w.met);
  const candidates = brokenAt === -1 ? windows : windows.slice(0, brokenAt);
  let knee: WindowVerdict | null = null;
  for (const window of candidates) if (!knee || window.responseRate > knee.responseRate) knee = window;
  return { knee, firstBroken: brokenAt === -1 ? null : (windows[brokenAt] ?? null) };
}

/** The highest-rate window that met after the first broken one, when it beats the knee. */
function findLaterBest(windows: WindowVerdict[], knee: WindowVerdict | null, firstBroken: WindowVerdict | null): WindowVerdict | null {
  if (!knee || !firstBroken) return null;
  let best: WindowVerdict | null = null;
  for (const window of windows.slice(windows.indexOf(firstBroken) + 1)) {
    if (window.met && window.responseRate > (best ?? knee).responseRate) best = window;
  }
  return best;
}

/** Tasks to carry `targetRps` with `headroom` to spare, when one API process sustains `perProcessRps`. */
export function estimateTasks({
  targetRps,
  headroom,
  perProcessRps,
  taskSize = API_TASK_SIZE,
}: {
  targetRps: number;
  headroom: number;
  perProcessRps: number;
  taskSize?: ApiTaskSize;
}): TaskEstimate {
  if (!(targetRps > 0)) throw new CapacityPlanError(`the target rate must be a positive number of requests/s, got ${targetRps}`);
  if (!(headroom >= 0)) throw new CapacityPlanError(`the headroom must be a fraction >= 0 (0.3 = 30 %), got ${headroom}`);
  if (!(perProcessRps > 0)) throw new CapacityPlanError(`the per-process rate must be positive, got ${perProcessRps}`);
  const requiredRps = targetRps * (1 + headroom);
  const perTaskRps = perProcessRps * taskSize.apiProcessesPerTask;
  const exactTasks = requiredRps / perTaskRps;
  // toPrecision keeps 10000 × 1.3 / 1300 = 10.000000000000002 from rounding up to 11.
  const tasks = Math.max(taskSize.minTasks, Math.ceil(Number(exactTasks.toPrecision(12))));
  return {
    targetRps,
    headroom,
    requiredRps,
    perTaskRps,
    exactTasks,
    tasks,
    isAtMinimum: tasks === taskSize.minTasks,
    exceedsMax: tasks > taskSize.maxTasks,
  };
}

/** The whole plan for a saved run. Throws CapacityPlanError when the run has no interval that sent a request. */
export function planCapacity(saved: SavedRun, options: PlanOptions = {}): CapacityPlan {
  const processes = options.processes ?? 1;
  const headroom = options.headroom ?? DEFAULT_HEADROOM;
  const windowSeconds = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const taskSize = options.taskSize ?? API_TASK_SIZE;
  if (!(Number.isInteger(processes) && processes >= 1)) throw new CapacityPlanError(`the API processes must be a whole number >= 1, got ${processes}`);
  if (!(windowSeconds > 0)) throw new CapacityPlanError(`the window must be a positive number of seconds, got ${windowSeconds}`);
  if (!saved.intervals.some((interval) => interval.requests > 0)) {
    throw new CapacityPlanError("the result has no interval in which a request was sent: there is nothing to plan from");
  }
  const { thresholds, ignored } = thresholdsForPlan(saved.ensure);
  const windows = evaluateWindows({ saved, thresholds, windowSeconds });
  const { knee, firstBroken } = findKnee(windows);
  const perProcessRps = knee ? knee.responseRate / processes : null;
  const target =
    perProcessRps !== null && perProcessRps > 0 && options.targetRps !== undefined ? estimateTasks({ targetRps: options.targetRps, headroom, perProcessRps, taskSize }) : null;

  const notes = [
    `One core of the machine that ran the test is taken as one Fargate vCPU; a task has ${vcpuOf(taskSize)} vCPU and runs ${taskSize.apiProcessesPerTask} API process(es).`,
    `The load generator (and, for a local run, the database) shared the machine with the ${processes} API process(es) that served the run, so the per-process rate is conservative.`,
  ];
  if (!saved.ensure) notes.push("The result has no saved ensure config (saved before plan existed, or by quick): the service levels apply.");
  if (knee && !firstBroken) {
    notes.push("No window broke: the run never reached the limit, so the knee is a lower bound and the task count an upper bound. Ramp higher to find the knee.");
  }
  const laterBest = findLaterBest(windows, knee, firstBroken);
  if (laterBest) {
    notes.push(
      `After the first broken window, windows met again at higher rates (up to ${Math.round(laterBest.responseRate)} responses/s, ` +
        `${laterBest.startMs / 1000}–${laterBest.endMs / 1000} s): the first break may have been transient (warm-up, another program on the machine). ` +
        "The knee still stops at the first break; warm the API up with a first phase, and re-run to check.",
    );
  }
  if (saved.counters.unexpectedStatus > 0 && saved.intervals.every((interval) => interval.unexpected === undefined)) {
    notes.push(`${saved.counters.unexpectedStatus} responses outside expectStatus are not recorded per interval, so the window error rates count only transport errors.`);
  }
  if (saved.counters.arrivalsLate > 0) {
    notes.push(
      `${saved.counters.arrivalsLate} arrivals launched more than ${saved.lateThresholdMs} ms late (the generator fell behind); their wait is in the latencies, which only makes the knee more conservative.`,
    );
  }
  if (saved.counters.vusersDropped > 0) notes.push(`${saved.counters.vusersDropped} arrivals were dropped (maxVusers); drops are not recorded per interval.`);
  if (saved.aborted) notes.push("The run was aborted before its schedule ended.");

  return {
    windowSeconds,
    backlogLatencyMs: primaryLatencyThreshold(thresholds)?.max ?? SERVICE_LEVELS.p95Ms,
    intervalMs: saved.intervalMs,
    thresholds,
    ignoredThresholds: ignored,
    windows,
    firstBroken,
    knee,
    isLowerBound: knee !== null && firstBroken === null,
    processes,
    perProcessRps,
    taskSize,
    target,
    notes,
  };
}
