// What a run counts and measures as it goes: counters, per-interval series, latency histograms, the order numbers
// acknowledged, progress snapshots as intervals close, and the RunResult at the end.
import type { Histogram } from "hdr-histogram-js";
import {
  createCounters,
  createLatencyHistogram,
  encodeHistogram,
  recordMs,
  summarizeHistogram,
  type IntervalResult,
  type LatencySummary,
  type RunCounters,
  type RunResult,
} from "./run-result.ts";
import { countFailure } from "./failure-causes.ts";

export interface ProgressSnapshot {
  elapsedMs: number;
  counters: RunCounters;
  /** Largest lateness (ms) of any arrival launched since the previous snapshot: how far behind schedule the run fell. */
  maxLatenessMs?: number;
  /** The interval that just closed; `encodedLatency` (its histogram) only with `progressHistograms`. */
  interval: Omit<IntervalResult, "latency"> & { latency: LatencySummary; encodedLatency?: string };
}

export type VuOutcome = "completed" | "failed" | "aborted";

export interface Interval {
  requests: number;
  responses: number;
  errors: number;
  unexpected: number;
  serverErrors: number;
  vusersCreated: number;
  latency: Histogram;
}

export interface MetricsOptions {
  intervalMs: number;
  lateThresholdMs: number;
  arrivalsPlanned: number;
  /** Every endpoint the script calls; with more than one, each gets its own latency histogram. */
  endpointNames: string[];
  /** The captured variable holding order numbers the service acknowledged (checkout-invariants acknowledgedOrders). */
  acknowledgedVariable: string | undefined;
  onProgress?(snapshot: ProgressSnapshot): void;
  progressHistograms?: boolean;
}

export class RunMetrics {
  readonly counters: RunCounters = createCounters();
  private maxLatenessMs = 0;
  private maxLatenessSinceReportMs = 0;
  private readonly serviceTime = createLatencyHistogram();
  private readonly intervals: (Interval | undefined)[] = [];
  private readonly endpointHistograms: Map<string, Histogram>;
  // The order numbers the service acknowledged, for the post-run check that each exists exactly once.
  private readonly acknowledged: string[] = [];
  private reportedIntervals = 0;

  constructor(private readonly options: MetricsOptions) {
    this.counters.arrivalsPlanned = options.arrivalsPlanned;
    // With one endpoint its histogram is the overall latency.
    const { endpointNames } = options;
    this.endpointHistograms = new Map(endpointNames.length > 1 ? endpointNames.map((name) => [name, createLatencyHistogram()]) : []);
  }

  endpointHistogram(name: string): Histogram | null {
    return this.endpointHistograms.get(name) ?? null;
  }

  recordDropped(): void {
    this.counters.vusersDropped++;
  }

  /** A virtual user launched `latenessMs` after its intended time. */
  recordArrival(intendedMs: number, latenessMs: number): void {
    if (latenessMs > this.options.lateThresholdMs) this.counters.arrivalsLate++;
    if (latenessMs > this.maxLatenessMs) this.maxLatenessMs = latenessMs;
    if (latenessMs > this.maxLatenessSinceReportMs) this.maxLatenessSinceReportMs = latenessMs;
    this.counters.vusersCreated++;
    this.intervalAt(intendedMs).vusersCreated++;
  }

  recordRequest(sentMs: number): void {
    this.counters.requests++;
    this.intervalAt(sentMs).requests++;
  }

  /** A response: latency from the intended time (interval, endpoint) and from the send; returns its interval. */
  recordResponse(status: number, intendedMs: number, sentMs: number, endMs: number, endpointHistogram: Histogram | null): Interval {
    const { counters } = this;
    counters.responses++;
    counters.statusCodes[status] = (counters.statusCodes[status] ?? 0) + 1;
    const interval = this.intervalAt(endMs);
    interval.responses++;
    // The overall latency histogram is the sum of the interval ones, so each response is recorded once for both.
    recordMs(interval.latency, endMs - intendedMs);
    recordMs(this.serviceTime, endMs - sentMs);
    if (endpointHistogram) recordMs(endpointHistogram, endMs - intendedMs);
    return interval;
  }

  /** A 5xx the step expected (or had no expectation about): still a failed request in the interval's series. */
  recordServerError(interval: Interval): void {
    interval.serverErrors++;
  }

  recordUnexpectedStatus(interval: Interval): void {
    this.counters.unexpectedStatus++;
    interval.unexpected++;
  }

  /** A request that got no response, by kind (ECONNREFUSED, ETIMEDOUT …). */
  recordTransportError(kind: string, atMs: number): void {
    this.counters.errors[kind] = (this.counters.errors[kind] ?? 0) + 1;
    this.intervalAt(atMs).errors++;
  }

  /** A flow failure not tied to a transport error: ECAPTURE, ETEMPLATE, EREQUEST, EINTERNAL. */
  countVuserError(kind: string): void {
    this.counters.vuserErrors[kind] = (this.counters.vuserErrors[kind] ?? 0) + 1;
  }

  /** A virtual user that failed, by where and why (failure-causes.ts): called once per failed user. */
  recordFailure(key: string): void {
    this.counters.failures ??= {};
    countFailure(this.counters.failures, key);
  }

  /** A captured value, kept when it is the acknowledged order number. */
  recordCapture(name: string, value: unknown): void {
    if (name === this.options.acknowledgedVariable && (typeof value === "string" || typeof value === "number")) {
      this.acknowledged.push(String(value));
    }
  }

  recordVuserEnd(outcome: VuOutcome): void {
    if (outcome === "completed") this.counters.vusersCompleted++;
    else if (outcome === "failed") this.counters.vusersFailed++;
  }

  private intervalAt(ms: number): Interval {
    const index = ms > 0 ? Math.floor(ms / this.options.intervalMs) : 0;
    let interval = this.intervals[index];
    if (!interval) {
      interval = { requests: 0, responses: 0, errors: 0, unexpected: 0, serverErrors: 0, vusersCreated: 0, latency: createLatencyHistogram() };
      this.intervals[index] = interval;
    }
    return interval;
  }

  /** Hands each interval that closed by `upToMs` to onProgress, once. */
  reportProgress(upToMs: number): void {
    const { intervalMs, onProgress, progressHistograms } = this.options;
    const closed = Math.floor(upToMs / intervalMs);
    for (; this.reportedIntervals < closed; this.reportedIntervals++) {
      if (!onProgress) continue;
      const interval = this.intervalAt(this.reportedIntervals * intervalMs);
      onProgress({
        elapsedMs: upToMs,
        counters: structuredClone(this.counters),
        maxLatenessMs: this.maxLatenessSinceReportMs,
        interval: {
          startMs: this.reportedIntervals * intervalMs,
          requests: interval.requests,
          responses: interval.responses,
          errors: interval.errors,
          unexpected: interval.unexpected,
          serverErrors: interval.serverErrors,
          vusersCreated: interval.vusersCreated,
          latency: summarizeHistogram(interval.latency),
          ...(progressHistograms ? { encodedLatency: encodeHistogram(interval.latency) } : {}),
        },
      });
      this.maxLatenessSinceReportMs = 0;
    }
  }

  /** The run's result; the histograms are freed, so nothing may be recorded after. */
  finish({ startedAt, durationMs, aborted }: { startedAt: number; durationMs: number; aborted: boolean }): RunResult {
    const { intervals, endpointHistograms, serviceTime } = this;
    const { intervalMs, lateThresholdMs, endpointNames, acknowledgedVariable } = this.options;
    const latency = createLatencyHistogram();
    for (const interval of intervals) if (interval) latency.add(interval.latency);
    const endpoints: [string, Histogram][] = endpointHistograms.size > 0 ? [...endpointHistograms] : endpointNames.map((name): [string, Histogram] => [name, latency]);
    const result: RunResult = {
      version: 1,
      startedAt,
      durationMs,
      intervalMs,
      lateThresholdMs,
      maxLatenessMs: this.maxLatenessMs,
      aborted,
      counters: this.counters,
      histograms: {
        latency: encodeHistogram(latency),
        serviceTime: encodeHistogram(serviceTime),
        endpoints: Object.fromEntries(endpoints.filter(([, h]) => h.totalCount > 0).map(([name, h]) => [name, encodeHistogram(h)])),
      },
      intervals: intervals.flatMap((interval, index) =>
        interval
          ? [
              {
                startMs: index * intervalMs,
                requests: interval.requests,
                responses: interval.responses,
                errors: interval.errors,
                unexpected: interval.unexpected,
                serverErrors: interval.serverErrors,
                vusersCreated: interval.vusersCreated,
                latency: encodeHistogram(interval.latency),
              },
            ]
          : [],
      ),
      ...(acknowledgedVariable ? { acknowledgedOrders: this.acknowledged } : {}),
    };
    for (const histogram of [latency, serviceTime, ...endpointHistograms.values()]) histogram.destroy();
    for (const interval of intervals) interval?.latency.destroy();
    return result;
  }
}
