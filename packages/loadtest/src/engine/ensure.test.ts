// Unit tests for ensure verdicts on hand-built run results.
import { describe, expect, it } from "vitest";
import type { Ensure } from "../script/script-types.ts";
import { evaluateEnsure } from "./ensure.ts";
import { createCounters, createLatencyHistogram, encodeHistogram, recordMs, type RunCounters, type RunResult } from "./run-result.ts";

/** A run of 100 responses at 1..100 ms, with the given counter overrides. */
function buildResult(overrides: Partial<RunCounters> = {}, extra: Partial<RunResult> = {}): RunResult {
  const histogram = createLatencyHistogram();
  for (let ms = 1; ms <= 100; ms++) recordMs(histogram, ms);
  const encoded = encodeHistogram(histogram);
  histogram.destroy();
  const counters: RunCounters = {
    ...createCounters(),
    arrivalsPlanned: 100,
    vusersCreated: 100,
    vusersCompleted: 100,
    requests: 100,
    responses: 100,
    statusCodes: { 200: 100 },
    ...overrides,
  };
  return {
    version: 1,
    startedAt: 0,
    durationMs: 10_000,
    intervalMs: 1000,
    lateThresholdMs: 10,
    maxLatenessMs: 1,
    aborted: false,
    counters,
    histograms: { latency: encoded, serviceTime: encoded, endpoints: { "GET /": encoded } },
    intervals: [],
    ...extra,
  };
}

function ensure(partial: Partial<Ensure>): Ensure {
  return { thresholds: [], conditions: [], ...partial };
}

describe("evaluateEnsure", () => {
  it("passes thresholds on Artillery's metric names when the run is under them", () => {
    const report = evaluateEnsure({
      ensure: ensure({
        thresholds: [
          { metric: "http.response_time.p95", max: 100 },
          { metric: "http.response_time.p99", max: 100 },
          { metric: "http.response_time.max", max: 101 },
          { metric: "http.response_time.median", max: 60 },
          { metric: "http.requests", max: 1000 },
          { metric: "vusers.failed", max: 0 },
        ],
      }),
      result: buildResult(),
    });
    // Histograms keep 3 significant digits, so 95 ms reads back as 95.039.
    expect(report.verdicts.map((v) => [v.metric, Math.round(v.actual ?? NaN), v.passed])).toEqual([
      ["http.response_time.p95", 95, true],
      ["http.response_time.p99", 99, true],
      ["http.response_time.max", 100, true],
      ["http.response_time.median", 50, true],
      ["http.requests", 100, true],
      ["vusers.failed", 0, true],
      ["arrivals.on_schedule", 0, true],
    ]);
    expect(report.passed).toBe(true);
  });

  it("fails a threshold the run exceeds and says by how much", () => {
    const report = evaluateEnsure({
      ensure: ensure({ thresholds: [{ metric: "http.response_time.p95", max: 50 }] }),
      result: buildResult(),
    });
    expect(report.passed).toBe(false);
    expect(report.verdicts[0]?.message).toMatch(/^http\.response_time\.p95 = 95\.\d+ > 50$/);
  });

  it("reads maxErrorRate as the percentage of failed virtual users", () => {
    const result = buildResult({ vusersFailed: 2, vusersCompleted: 98 });
    expect(evaluateEnsure({ ensure: ensure({ maxErrorRate: 1 }), result }).verdicts[0]).toMatchObject({
      metric: "maxErrorRate",
      actual: 2,
      passed: false,
    });
    expect(evaluateEnsure({ ensure: ensure({ maxErrorRate: 2 }), result }).passed).toBe(true);
  });

  it("reads http.request_error_rate as the percentage of requests without an acceptable response", () => {
    const result = buildResult({ requests: 200, responses: 197, errors: { ECONNRESET: 3 }, unexpectedStatus: 1 });
    const report = evaluateEnsure({
      ensure: ensure({ thresholds: [{ metric: "http.request_error_rate", max: 1 }] }),
      result,
    });
    expect(report.verdicts[0]).toMatchObject({ actual: 2, passed: false });
  });

  it("fails an unknown metric and an unevaluated condition rather than passing them silently", () => {
    const report = evaluateEnsure({
      ensure: ensure({
        thresholds: [{ metric: "http.response_time.p42", max: 1 }],
        conditions: [{ expression: "http.response_time.p99 < 100", strict: true }],
      }),
      result: buildResult(),
    });
    expect(report.verdicts.slice(0, 2).map((v) => v.passed)).toEqual([false, false]);
    expect(report.passed).toBe(false);
  });

  it("reports a few late arrivals (within 1 %) without failing the run", () => {
    const report = evaluateEnsure({
      ensure: ensure({ thresholds: [] }),
      result: buildResult({ arrivalsLate: 1, vusersCreated: 100 }, { maxLatenessMs: 22 }),
    });
    expect(report.isOnSchedule).toBe(true);
    expect(report.passed).toBe(true);
    expect(report.verdicts.at(-1)?.message).toBe(
      "1 of 100 arrivals launched more than 10 ms late (worst 22 ms), within the 1 % tolerance; their wait is counted in the latencies",
    );
  });

  it("says so when arrivals were dropped or late, and fails the run", () => {
    const report = evaluateEnsure({
      ensure: ensure({ thresholds: [{ metric: "http.response_time.p99", max: 1000 }] }),
      result: buildResult({ vusersDropped: 3, arrivalsLate: 2, vusersCreated: 97 }, { maxLatenessMs: 42 }),
    });
    expect(report.isOnSchedule).toBe(false);
    expect(report.passed).toBe(false);
    expect(report.verdicts.at(-1)?.message).toBe(
      "3 of 100 arrivals dropped (maxVusers) and 2 launched more than 10 ms late (worst 42 ms): the run did not apply the load it claims",
    );
  });
});
