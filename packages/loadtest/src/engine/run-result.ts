// The serialisable outcome of a run (or one shard of it), exact merging of shards, and its summary in ms.
import * as hdr from "hdr-histogram-js";
import type { Histogram } from "hdr-histogram-js";
import { mergeFailureCauses } from "./failure-causes.ts";

/** Histograms hold microseconds from 1 µs to 60 s at 3 significant digits. */
export const HISTOGRAM_LOWEST_US = 1;
export const HISTOGRAM_HIGHEST_US = 60_000_000;

export function createLatencyHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: HISTOGRAM_LOWEST_US,
    highestTrackableValue: HISTOGRAM_HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
    bitBucketSize: 32,
    useWebAssembly: false,
  });
}

/** Records a duration in ms, clamped into the histogram's range. */
export function recordMs(histogram: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  histogram.recordValue(Math.min(HISTOGRAM_HIGHEST_US, Math.max(HISTOGRAM_LOWEST_US, us)));
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(base64: string): Histogram {
  const decoded = hdr.decodeFromCompressedBase64(base64, 32, false);
  // Re-home into a fixed-range histogram so merged histograms share one layout.
  const histogram = createLatencyHistogram();
  histogram.add(decoded);
  decoded.destroy();
  return histogram;
}

export interface RunCounters {
  arrivalsPlanned: number;
  vusersCreated: number;
  vusersCompleted: number;
  vusersFailed: number;
  /** Arrivals refused because the phase's maxVusers were alive. */
  vusersDropped: number;
  /** Arrivals launched more than `lateThresholdMs` after their intended time. */
  arrivalsLate: number;
  requests: number;
  responses: number;
  /** Responses outside a step's expectStatus. */
  unexpectedStatus: number;
  /** Flow failures not tied to a transport error, by kind: ECAPTURE (path matched nothing, as Artillery), ETEMPLATE … */
  vuserErrors: Record<string, number>;
  /** Requests that got no response, by kind: ECONNREFUSED, ETIMEDOUT, ECONNRESET … */
  errors: Record<string, number>;
  statusCodes: Record<string, number>;
  /**
   * Failed virtual users by cause, each counted once: `scenario · step N METHOD url · cause`, the cause a status and
   * the error code its body names, a transport error or a flow error (failure-causes.ts). At most
   * FAILURE_CAUSE_LIMIT keys besides "other". Absent in results saved before it was kept.
   */
  failures?: Record<string, number>;
}

export interface IntervalResult {
  /** Offset of the interval start from the run start, in ms. */
  startMs: number;
  requests: number;
  responses: number;
  errors: number;
  /** Responses outside a step's `expect` that ended in this interval (absent in results saved before it was kept). */
  unexpected?: number;
  /** 5xx responses that ended in this interval and were not already counted in `unexpected` (absent in older results). */
  serverErrors?: number;
  vusersCreated: number;
  /** Latency (µs) of the responses that ended in this interval. */
  latency: string;
}

export interface RunResult {
  version: 1;
  /** Wall-clock start of the run (epoch ms). */
  startedAt: number;
  durationMs: number;
  intervalMs: number;
  lateThresholdMs: number;
  /** Largest lateness of any launched arrival, in ms. */
  maxLatenessMs: number;
  aborted: boolean;
  counters: RunCounters;
  /** hdr-histogram-js compressed base64, microseconds. */
  histograms: {
    /** From the intended send time: the honest latency. */
    latency: string;
    /** From the actual send time: what a closed-model tool would report. */
    serviceTime: string;
    /** Latency by `METHOD url-template`. */
    endpoints: Record<string, string>;
  };
  intervals: IntervalResult[];
  /**
   * Values of the variable named by `config.plugins.checkout-invariants.acknowledgedOrders`, one per successful
   * capture: the order numbers the service acknowledged to this run's virtual users.
   */
  acknowledgedOrders?: string[];
}

/** Requests of an interval that failed: no response, a response a step's `expect` refused, or any other 5xx. */
export function intervalFailures(interval: Pick<IntervalResult, "errors" | "unexpected" | "serverErrors">): number {
  return interval.errors + (interval.unexpected ?? 0) + (interval.serverErrors ?? 0);
}

export function createCounters(): RunCounters {
  return {
    arrivalsPlanned: 0,
    vusersCreated: 0,
    vusersCompleted: 0,
    vusersFailed: 0,
    vusersDropped: 0,
    arrivalsLate: 0,
    requests: 0,
    responses: 0,
    unexpectedStatus: 0,
    vuserErrors: {},
    errors: {},
    statusCodes: {},
    failures: {},
  };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
}

function mergeEncoded(encoded: string[]): string {
  const merged = createLatencyHistogram();
  for (const base64 of encoded) {
    const histogram = decodeHistogram(base64);
    merged.add(histogram);
    histogram.destroy();
  }
  const result = encodeHistogram(merged);
  merged.destroy();
  return result;
}

/** Merges shard results exactly: counters add, histograms add bucket by bucket, intervals line up by start. */
export function mergeRunResults(results: RunResult[]): RunResult {
  const first = results[0];
  if (!first) throw new Error("mergeRunResults needs at least one result");
  const counters = createCounters();
  for (const { counters: c } of results) {
    for (const key of Object.keys(counters) as (keyof RunCounters)[]) {
      const value = c[key];
      if (typeof value === "number") (counters[key] as number) += value;
    }
    addCounts(counters.errors, c.errors);
    addCounts(counters.statusCodes, c.statusCodes);
    addCounts(counters.vuserErrors, c.vuserErrors);
  }
  counters.failures = mergeFailureCauses(results.map((r) => r.counters.failures));
  const endpointNames = new Set(results.flatMap((r) => Object.keys(r.histograms.endpoints)));
  const endpoints: Record<string, string> = {};
  for (const name of endpointNames) {
    endpoints[name] = mergeEncoded(results.flatMap((r) => r.histograms.endpoints[name] ?? []));
  }
  const byStart = new Map<number, IntervalResult[]>();
  for (const interval of results.flatMap((r) => r.intervals)) {
    byStart.set(interval.startMs, [...(byStart.get(interval.startMs) ?? []), interval]);
  }
  const intervals = [...byStart.entries()]
    .sort(([a], [b]) => a - b)
    .map(([startMs, parts]) => ({
      startMs,
      requests: parts.reduce((s, p) => s + p.requests, 0),
      responses: parts.reduce((s, p) => s + p.responses, 0),
      errors: parts.reduce((s, p) => s + p.errors, 0),
      unexpected: parts.reduce((s, p) => s + (p.unexpected ?? 0), 0),
      serverErrors: parts.reduce((s, p) => s + (p.serverErrors ?? 0), 0),
      vusersCreated: parts.reduce((s, p) => s + p.vusersCreated, 0),
      latency: mergeEncoded(parts.map((p) => p.latency)),
    }));
  return {
    version: 1,
    startedAt: Math.min(...results.map((r) => r.startedAt)),
    durationMs: Math.max(...results.map((r) => r.durationMs)),
    intervalMs: first.intervalMs,
    lateThresholdMs: first.lateThresholdMs,
    maxLatenessMs: Math.max(...results.map((r) => r.maxLatenessMs)),
    aborted: results.some((r) => r.aborted),
    counters,
    histograms: {
      latency: mergeEncoded(results.map((r) => r.histograms.latency)),
      serviceTime: mergeEncoded(results.map((r) => r.histograms.serviceTime)),
      endpoints,
    },
    intervals,
    ...(results.some((r) => r.acknowledgedOrders) ? { acknowledgedOrders: results.flatMap((r) => r.acknowledgedOrders ?? []) } : {}),
  };
}

export interface LatencySummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
}

/** The latency (ms) at a percentile (0–100) of a latency histogram: the one percentile every summary and chart uses. */
export function latencyAtPercentile(histogram: Histogram, percentile: number): number {
  return histogram.getValueAtPercentile(percentile) / 1000;
}

export function summarizeHistogram(histogram: Histogram): LatencySummary {
  const ms = (us: number) => us / 1000;
  if (histogram.totalCount === 0) {
    return { count: 0, min: 0, max: 0, mean: 0, p50: 0, p75: 0, p90: 0, p95: 0, p99: 0, p999: 0 };
  }
  return {
    count: histogram.totalCount,
    min: ms(histogram.minNonZeroValue),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
    p50: latencyAtPercentile(histogram, 50),
    p75: latencyAtPercentile(histogram, 75),
    p90: latencyAtPercentile(histogram, 90),
    p95: latencyAtPercentile(histogram, 95),
    p99: latencyAtPercentile(histogram, 99),
    p999: latencyAtPercentile(histogram, 99.9),
  };
}

export function summarizeEncoded(base64: string): LatencySummary {
  const histogram = decodeHistogram(base64);
  const summary = summarizeHistogram(histogram);
  histogram.destroy();
  return summary;
}

/** The load through a stretch of the run: every saved interval that overlaps [startMs, endMs), merged exactly. */
export function summarizeWindow(result: RunResult, startMs: number, endMs: number): { requests: number; failed: number; latency: LatencySummary } {
  const inWindow = result.intervals.filter((i) => i.startMs + result.intervalMs > startMs && i.startMs < endMs);
  const merged = createLatencyHistogram();
  for (const interval of inWindow) {
    const histogram = decodeHistogram(interval.latency);
    merged.add(histogram);
    histogram.destroy();
  }
  const latency = summarizeHistogram(merged);
  merged.destroy();
  return { requests: inWindow.reduce((n, i) => n + i.requests, 0), failed: inWindow.reduce((n, i) => n + intervalFailures(i), 0), latency };
}

export interface RunSummary {
  durationMs: number;
  counters: RunCounters;
  /** Per second over the run's duration. */
  rates: { arrivals: number; requests: number; responses: number };
  /** Latency from the intended send time, ms. */
  latency: LatencySummary;
  /** Latency from the actual send time, ms (for comparison only). */
  serviceTime: LatencySummary;
  endpoints: Record<string, LatencySummary>;
  /** Artillery's error rate: vusers.failed / vusers.created, as a fraction. */
  vuserFailureRate: number;
  /** Ours: (requests without a response + responses outside expectStatus) / requests, as a fraction. */
  requestErrorRate: number;
  intervals: (Omit<IntervalResult, "latency"> & { latency: LatencySummary })[];
}

export function countRequestErrors(counters: RunCounters): number {
  return Object.values(counters.errors).reduce((s, n) => s + n, 0) + counters.unexpectedStatus;
}

export function summarize(result: RunResult): RunSummary {
  const { counters } = result;
  const seconds = result.durationMs / 1000 || 1;
  return {
    durationMs: result.durationMs,
    counters,
    rates: {
      arrivals: counters.vusersCreated / seconds,
      requests: counters.requests / seconds,
      responses: counters.responses / seconds,
    },
    latency: summarizeEncoded(result.histograms.latency),
    serviceTime: summarizeEncoded(result.histograms.serviceTime),
    endpoints: Object.fromEntries(Object.entries(result.histograms.endpoints).map(([name, base64]) => [name, summarizeEncoded(base64)])),
    vuserFailureRate: counters.vusersCreated === 0 ? 0 : counters.vusersFailed / counters.vusersCreated,
    requestErrorRate: counters.requests === 0 ? 0 : countRequestErrors(counters) / counters.requests,
    intervals: result.intervals.map((interval) => ({ ...interval, latency: summarizeEncoded(interval.latency) })),
  };
}
