// Test support: saved runs drawn from a known latency distribution (seeded), recorded with the engine's own histogram
// code, so comparisons and CI outputs are tested on what `run --output` writes without sending a request.
import { createCounters, createLatencyHistogram, encodeHistogram, recordMs, type IntervalResult } from "../engine/run-result.ts";
import type { SavedRun } from "../report/saved-run.ts";
import { createRandom, randomNormal } from "./random.ts";

export interface SyntheticRunOptions {
  seed: number;
  /** Intervals of `intervalMs` (1 s by default). */
  intervals: number;
  intervalMs?: number;
  requestsPerInterval: number;
  /** Median latency in ms; latencies are log-normal around it. */
  medianMs: number;
  /** Spread of the log-normal (0.5 gives p95 ≈ 2.3 × the median). */
  sigma?: number;
  /** Each interval's latencies are scaled by a log-normal factor of this spread: a machine whose speed drifts. */
  intervalNoise?: number;
  /** A share of the requests (in the intervals `stalledIntervals` picks) waits `stallMs` more. */
  stall?: { share: number; stallMs: number; isStalled?: (interval: number) => boolean };
  /** A share of the requests gets no response (ETIMEDOUT). */
  failureRate?: number;
  startedAt?: number;
}

/** A saved run as `run --output` writes it, with an endpoint, a passing schedule verdict and no thresholds. */
export function syntheticRun(options: SyntheticRunOptions): SavedRun {
  const random = createRandom(options.seed);
  const intervalMs = options.intervalMs ?? 1000;
  const sigma = options.sigma ?? 0.5;
  const overall = createLatencyHistogram();
  const intervals: IntervalResult[] = [];
  let failuresTotal = 0;
  for (let index = 0; index < options.intervals; index++) {
    const histogram = createLatencyHistogram();
    const drift = Math.exp((options.intervalNoise ?? 0) * randomNormal(random));
    const isStalled = options.stall ? (options.stall.isStalled?.(index) ?? true) : false;
    let failures = 0;
    for (let n = 0; n < options.requestsPerInterval; n++) {
      if (random() < (options.failureRate ?? 0)) {
        failures++;
        continue;
      }
      let ms = options.medianMs * drift * Math.exp(sigma * randomNormal(random));
      if (isStalled && options.stall && random() < options.stall.share) ms += options.stall.stallMs;
      recordMs(histogram, ms);
      recordMs(overall, ms);
    }
    failuresTotal += failures;
    intervals.push({
      startMs: index * intervalMs,
      requests: options.requestsPerInterval,
      responses: options.requestsPerInterval - failures,
      errors: failures,
      unexpected: 0,
      serverErrors: 0,
      vusersCreated: options.requestsPerInterval,
      latency: encodeHistogram(histogram),
    });
    histogram.destroy();
  }
  const requests = options.intervals * options.requestsPerInterval;
  const latency = encodeHistogram(overall);
  overall.destroy();
  return {
    version: 1,
    startedAt: options.startedAt ?? Date.UTC(2026, 0, 15, 9, 0, 0),
    durationMs: options.intervals * intervalMs,
    intervalMs,
    lateThresholdMs: 10,
    maxLatenessMs: 0.5,
    aborted: false,
    counters: {
      ...createCounters(),
      arrivalsPlanned: requests,
      vusersCreated: requests,
      vusersCompleted: requests - failuresTotal,
      vusersFailed: failuresTotal,
      requests,
      responses: requests - failuresTotal,
      errors: failuresTotal > 0 ? { ETIMEDOUT: failuresTotal } : {},
      statusCodes: { 200: requests - failuresTotal },
    },
    histograms: { latency, serviceTime: latency, endpoints: { "GET /checkout": latency } },
    intervals,
    verdicts: [{ metric: "arrivals.on_schedule", max: 0, actual: 0, passed: true, message: `all ${requests} arrivals launched on time` }],
    ensure: { thresholds: [], conditions: [] },
  };
}
