// Test helpers for the capacity plan: runs built from constructed histograms, and a real ramp past a server's capacity.
import { performance } from "node:perf_hooks";
import { buildScript, startTestServer } from "../../test/support/index.ts";
import { createCounters, createLatencyHistogram, encodeHistogram, type IntervalResult } from "../engine/run-result.ts";
import { runScript } from "../engine/run-script.ts";
import type { SavedRun } from "../report/saved-run.ts";
import type { Ensure } from "../script/script-types.ts";

/** Latencies as [ms, how many responses] pairs. */
export type Latencies = [number, number][];

export interface IntervalSpec {
  requests: number;
  /** Default: every request not counted as an error was answered. */
  responses?: number;
  errors?: number;
  /** Responses outside the step's expect (they are responses too). */
  unexpected?: number;
  /** Default: the responses, all at this latency (10 ms when not given). */
  latencyMs?: number;
  latencies?: Latencies;
}

function encodeLatencies(latencies: Latencies): string {
  const histogram = createLatencyHistogram();
  for (const [ms, count] of latencies) histogram.recordValueWithCount(Math.round(ms * 1000), count);
  const base64 = encodeHistogram(histogram);
  histogram.destroy();
  return base64;
}

function interval(second: number, spec: IntervalSpec): IntervalResult {
  const responses = spec.responses ?? spec.requests - (spec.errors ?? 0);
  return {
    startMs: second * 1000,
    requests: spec.requests,
    responses,
    errors: spec.errors ?? 0,
    ...(spec.unexpected === undefined ? {} : { unexpected: spec.unexpected }),
    vusersCreated: spec.requests,
    latency: encodeLatencies(spec.latencies ?? [[spec.latencyMs ?? 10, responses]]),
  };
}

/** A saved run of 1 s intervals, one per spec; null leaves that second out, as the engine does when nothing happened. */
export function constructedRun(specs: (IntervalSpec | null)[], ensure?: Ensure): SavedRun {
  const empty = encodeLatencies([]);
  return {
    version: 1,
    startedAt: 0,
    durationMs: specs.length * 1000,
    intervalMs: 1000,
    lateThresholdMs: 10,
    maxLatenessMs: 0,
    aborted: false,
    counters: createCounters(),
    histograms: { latency: empty, serviceTime: empty, endpoints: {} },
    intervals: specs.flatMap((spec, second) => (spec ? [interval(second, spec)] : [])),
    ...(ensure ? { ensure } : {}),
  };
}

/** A ramp: 100, 200, … requests/s, 10 ms until `breakAt` seconds, 900 ms from then on. */
export function constructedRamp(seconds: number, breakAt: number): IntervalSpec[] {
  return Array.from({ length: seconds }, (_, s) => ({ requests: (s + 1) * 100, latencyMs: s >= breakAt ? 900 : 10 }));
}

/** The serial test server answers one request per this many ms: it can never serve more than 1000 / 4 = 250 req/s. */
export const SERIAL_SERVICE_MS = 4;
export const SERIAL_CAPACITY_RPS = 1000 / SERIAL_SERVICE_MS;
export const RAMP_ENSURE: Ensure = { thresholds: [{ metric: "http.response_time.p95", max: 100 }], conditions: [] };

/**
 * A real engine run, saved as `run --output` saves it: arrivals ramp from 25 to 500/s over 6 s against a local server
 * that queues requests and serves them one at a time, so past 250 req/s the queue and the latencies grow.
 */
export async function runRampPastCapacity(): Promise<SavedRun> {
  let busyUntil = 0;
  const server = await startTestServer((_request, response) => {
    const now = performance.now();
    busyUntil = Math.max(now, busyUntil) + SERIAL_SERVICE_MS;
    setTimeout(() => response.end("ok"), busyUntil - now);
  });
  try {
    const script = buildScript({
      target: server.url,
      phases: [{ name: "ramp", duration: 6, arrivalRate: 25, rampTo: 500 }],
      scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/catalog" }] }],
    });
    script.ensure = RAMP_ENSURE;
    return { ...(await runScript(script)), ensure: script.ensure };
  } finally {
    await server.close();
  }
}
