// Compares two saved runs of the same script: each metric's change from the baseline to the current run, with a
// bootstrap confidence interval from resampling whole windows of each run (seeded, so the same two files always give
// the same answer). A metric fails only when even the interval's favourable end is worse than its limit: noise
// between two runs of one target passes, a target that has become slower fails.
import type { SavedRun } from "../report/saved-run.ts";
import { createRandom, randomIndex } from "./random.ts";
import { PERCENTILES, type CompareMetric, type LatencyMetric, type RegressionLimit } from "./regression-limits.ts";
import { chooseWindowIntervals, cutWindows, latencyBucketValues, type LatencyWindow, type RunWindows } from "./run-windows.ts";

export const DEFAULT_ITERATIONS = 2000;
export const DEFAULT_CONFIDENCE = 0.95;
export const DEFAULT_SEED = 20_240_601;
/** Fewer windows with data than this, and a metric is not judged: a bootstrap over a handful of windows says little. */
export const MIN_WINDOWS = 5;
/** Runs whose request counts or durations differ by more than this share are flagged: they did not apply the same load. */
export const LOAD_MISMATCH = 0.1;

export interface CompareOptions {
  /** The metrics judged, each with its limit. */
  limits: RegressionLimit[];
  /** Metrics shown without a limit (never failing); p50 by default, unless it has a limit. */
  informational?: CompareMetric[];
  iterations?: number;
  /** Two-sided confidence of the interval, e.g. 0.95. */
  confidence?: number;
  seed?: number;
  /** Window length in ms; by default about 5 s, shorter for short runs. */
  windowMs?: number;
}

/** How a change is expressed: a share of the baseline, milliseconds, or percentage points of error rate. */
export type ChangeUnit = "relative" | "ms" | "points";

export interface MetricComparison {
  metric: CompareMetric;
  unit: ChangeUnit;
  /** Latencies in ms, the error rate in %; null when the run has none. */
  baseline: number | null;
  current: number | null;
  /** current vs baseline in `unit` (relative: 0.5 = 50 % slower). */
  change: number | null;
  /** The confidence interval of the change, in `unit`. */
  interval: { low: number; high: number } | null;
  limit: RegressionLimit | null;
  /** fail: the interval's low end is above the limit; insufficient: too little data to judge; info: no limit. */
  verdict: "pass" | "fail" | "insufficient" | "info";
  /** Why a metric could not be judged. */
  note?: string;
}

export interface WindowPoint {
  startMs: number;
  requests: number;
  failures: number;
  responses: number;
  /** ms; null when the window had no response. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface RunSide {
  startedAt: number;
  durationMs: number;
  requests: number;
  responses: number;
  aborted: boolean;
  /** Strict checks saved with the run that did not hold, by name. */
  failedChecks: string[];
  windows: WindowPoint[];
}

export interface Comparison {
  baseline: RunSide;
  current: RunSide;
  windowMs: number;
  iterations: number;
  confidence: number;
  seed: number;
  metrics: MetricComparison[];
  /** False when any judged metric failed. */
  passed: boolean;
  /** Why the two runs may not be comparable. */
  notes: string[];
}

/** HDR's rank for a percentile: the count the value must cover, rounded up (as getValueAtPercentile). */
function rankAt(percentile: number, total: number): number {
  const fp = (percentile / 100) * total;
  const ulp = fp > 0 ? 2 ** (Math.floor(Math.log2(fp)) - 52) : 0;
  return Math.max(Math.ceil(fp - ulp), 1);
}

interface Sample {
  requests: number;
  failures: number;
  responses: number;
  sumUs: number;
}

/** Windows of both runs mapped onto one compact bucket axis, and a buffer to add resampled windows into. */
class BucketAxis {
  readonly highest: Float64Array;
  private readonly positions = new Map<LatencyWindow, Int32Array>();
  readonly counts: Float64Array;

  constructor(windows: LatencyWindow[]) {
    const used = [...new Set(windows.flatMap((w) => [...w.buckets]))].sort((a, b) => a - b);
    const at = new Map(used.map((bucket, position) => [bucket, position]));
    const values = latencyBucketValues().highest;
    this.highest = Float64Array.from(used.map((bucket) => values[bucket] ?? 0));
    this.counts = new Float64Array(used.length);
    for (const window of windows)
      this.positions.set(
        window,
        Int32Array.from(window.buckets, (bucket) => at.get(bucket) ?? 0),
      );
  }

  /** Adds the windows into the buffer (cleared first) and returns their totals. */
  fill(windows: LatencyWindow[]): Sample {
    this.counts.fill(0);
    const sample: Sample = { requests: 0, failures: 0, responses: 0, sumUs: 0 };
    for (const window of windows) {
      const positions = this.positions.get(window);
      if (!positions) throw new Error("a window outside the axis");
      for (let k = 0; k < positions.length; k++) this.counts[positions[k] ?? 0]! += window.counts[k] ?? 0;
      sample.requests += window.requests;
      sample.failures += window.failures;
      sample.responses += window.responses;
      sample.sumUs += window.sumUs;
    }
    return sample;
  }

  /** The buffer's latency (ms) at each percentile, which must be ascending. */
  percentiles(ascending: number[], total: number): number[] {
    const result: number[] = [];
    let running = 0;
    let position = 0;
    for (const percentile of ascending) {
      const rank = rankAt(percentile, total);
      while (position < this.counts.length && running + (this.counts[position] ?? 0) < rank) running += this.counts[position++] ?? 0;
      result.push((this.highest[Math.min(position, this.highest.length - 1)] ?? 0) / 1000);
    }
    return result;
  }
}

interface Statistics {
  /** ms by latency metric; absent with no response. */
  latency: Partial<Record<LatencyMetric, number>>;
  /** %; absent with no request. */
  errorRate?: number;
}

function statistics(axis: BucketAxis, windows: LatencyWindow[], metrics: LatencyMetric[]): Statistics {
  const sample = axis.fill(windows);
  const result: Statistics = sample.requests > 0 ? { latency: {}, errorRate: (sample.failures / sample.requests) * 100 } : { latency: {} };
  if (sample.responses === 0) return result;
  const percentileMetrics = metrics.filter((m): m is Exclude<LatencyMetric, "mean"> => m !== "mean").sort((a, b) => PERCENTILES[a] - PERCENTILES[b]);
  const values = axis.percentiles(
    percentileMetrics.map((m) => PERCENTILES[m]),
    sample.responses,
  );
  percentileMetrics.forEach((metric, i) => {
    result.latency[metric] = values[i] ?? 0;
  });
  if (metrics.includes("mean")) result.latency.mean = sample.sumUs / sample.responses / 1000;
  return result;
}

function value(stats: Statistics, metric: CompareMetric): number | undefined {
  return metric === "error_rate" ? stats.errorRate : stats.latency[metric];
}

function changeOf(unit: ChangeUnit, baseline: number, current: number): number {
  return unit === "relative" ? current / baseline - 1 : current - baseline;
}

/** The q-quantile of sorted values, interpolated between neighbours. */
function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  const lower = sorted[below] ?? 0;
  const upper = sorted[Math.min(below + 1, sorted.length - 1)] ?? lower;
  return lower + (upper - lower) * (at - below);
}

function windowPoints(axis: BucketAxis, windows: RunWindows): WindowPoint[] {
  return windows.windows.map((window) => {
    const stats = statistics(axis, [window], ["p50", "p95", "p99"]);
    return {
      startMs: window.startMs,
      requests: window.requests,
      failures: window.failures,
      responses: window.responses,
      p50: stats.latency.p50 ?? null,
      p95: stats.latency.p95 ?? null,
      p99: stats.latency.p99 ?? null,
    };
  });
}

function side(saved: SavedRun, windows: WindowPoint[]): RunSide {
  return {
    startedAt: saved.startedAt,
    durationMs: saved.durationMs,
    requests: saved.counters.requests,
    responses: saved.counters.responses,
    aborted: saved.aborted,
    failedChecks: (saved.verdicts ?? []).filter((v) => !v.passed).map((v) => v.metric),
    windows,
  };
}

function differsBy(a: number, b: number): boolean {
  return Math.abs(a - b) > LOAD_MISMATCH * Math.max(a, b);
}

function comparabilityNotes(baseline: SavedRun, current: SavedRun): string[] {
  const notes: string[] = [];
  if (differsBy(baseline.counters.requests, current.counters.requests)) {
    notes.push(
      `the runs sent different load (${baseline.counters.requests} requests in the baseline, ${current.counters.requests} now): a change may come from the load, not the target`,
    );
  }
  if (differsBy(baseline.durationMs, current.durationMs)) {
    notes.push(`the runs lasted differently (${(baseline.durationMs / 1000).toFixed(1)} s and ${(current.durationMs / 1000).toFixed(1)} s)`);
  }
  if (baseline.aborted) notes.push("the baseline run was aborted before its phases ended");
  if (current.aborted) notes.push("the current run was aborted before its phases ended");
  return notes;
}

/** Compares `current` with `baseline` on each limited metric (and the informational ones). */
export function compareRuns(baseline: SavedRun, current: SavedRun, options: CompareOptions): Comparison {
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  const seed = options.seed ?? DEFAULT_SEED;
  // One window length for both runs, chosen from the shorter one, so their windows hold as much time each.
  const shorter = baseline.intervals.length <= current.intervals.length ? baseline : current;
  const windowMs = chooseWindowIntervals(shorter, options.windowMs) * shorter.intervalMs;
  const baseWindows = cutWindows(baseline, Math.max(1, Math.round(windowMs / baseline.intervalMs)));
  const currentWindows = cutWindows(current, Math.max(1, Math.round(windowMs / current.intervalMs)));
  const axis = new BucketAxis([...baseWindows.windows, ...currentWindows.windows]);

  const limited = options.limits.map((l) => l.metric);
  const informational = (options.informational ?? ["p50"]).filter((m) => !limited.includes(m));
  const rows: { metric: CompareMetric; limit: RegressionLimit | null; unit: ChangeUnit }[] = [
    ...options.limits.map((limit) => ({ metric: limit.metric, limit, unit: limit.unit })),
    ...informational.map((metric) => ({ metric, limit: null, unit: (metric === "error_rate" ? "points" : "relative") as ChangeUnit })),
  ];
  const latencyMetrics = [...new Set(rows.map((r) => r.metric).filter((m): m is LatencyMetric => m !== "error_rate"))];

  const pointBaseline = statistics(axis, baseWindows.windows, latencyMetrics);
  const pointCurrent = statistics(axis, currentWindows.windows, latencyMetrics);

  // The bootstrap: each replicate resamples each run's windows with replacement, as many as it has.
  const random = createRandom(seed);
  const changes = rows.map(() => [] as number[]);
  const resample = (windows: LatencyWindow[]) => Array.from({ length: windows.length }, () => windows[randomIndex(random, windows.length)]!);
  const hasData = baseWindows.windows.length > 0 && currentWindows.windows.length > 0;
  for (let i = 0; hasData && i < iterations; i++) {
    const b = statistics(axis, resample(baseWindows.windows), latencyMetrics);
    const c = statistics(axis, resample(currentWindows.windows), latencyMetrics);
    rows.forEach((row, r) => {
      const before = value(b, row.metric);
      const after = value(c, row.metric);
      if (before === undefined || after === undefined || (row.unit === "relative" && before === 0)) return;
      changes[r]!.push(changeOf(row.unit, before, after));
    });
  }

  const windowsWith = (windows: RunWindows, metric: CompareMetric) => windows.windows.filter((w) => (metric === "error_rate" ? w.requests : w.responses) > 0).length;
  const alpha = 1 - confidence;
  const metrics: MetricComparison[] = rows.map((row, r) => {
    const before = value(pointBaseline, row.metric) ?? null;
    const after = value(pointCurrent, row.metric) ?? null;
    const base = { metric: row.metric, unit: row.unit, baseline: before, current: after, limit: row.limit };
    const fewest = Math.min(windowsWith(baseWindows, row.metric), windowsWith(currentWindows, row.metric));
    const replicates = changes[r]!.sort((x, y) => x - y);
    if (before === null || after === null || (row.unit === "relative" && before === 0)) {
      return { ...base, change: null, interval: null, verdict: "insufficient", note: "one of the runs has no data for it" };
    }
    const change = changeOf(row.unit, before, after);
    if (fewest < MIN_WINDOWS || replicates.length < iterations * 0.9) {
      return { ...base, change, interval: null, verdict: "insufficient", note: `${fewest} windows with data, ${MIN_WINDOWS} needed to judge` };
    }
    const interval = { low: quantile(replicates, alpha / 2), high: quantile(replicates, 1 - alpha / 2) };
    const verdict = row.limit === null ? "info" : interval.low > row.limit.max ? "fail" : "pass";
    return { ...base, change, interval, verdict };
  });

  return {
    baseline: side(baseline, windowPoints(axis, baseWindows)),
    current: side(current, windowPoints(axis, currentWindows)),
    windowMs,
    iterations,
    confidence,
    seed,
    metrics,
    passed: metrics.every((m) => m.verdict !== "fail"),
    notes: comparabilityNotes(baseline, current),
  };
}
