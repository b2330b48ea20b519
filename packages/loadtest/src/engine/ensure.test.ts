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
          { metric: "vusers.failed", max: 1 },
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
    expect(report.verdicts[0]?.message).toMatch(/^http\.response_time\.p95 = 95\.\d+ >= 50$/);
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

  it("judges thresholds as Artillery does: strictly below the limit", () => {
    const report = evaluateEnsure({
      ensure: ensure({
        thresholds: [
          { metric: "vusers.failed", max: 0 },
          { metric: "http.requests", max: 100 },
          { metric: "http.requests", max: 101 },
        ],
      }),
      result: buildResult(),
    });
    expect(report.verdicts.slice(0, 3).map((v) => v.passed)).toEqual([false, false, true]);
  });

  it("reads maxErrorRate as Artillery does, from users that did not complete (dropped or aborted ones too)", () => {
    const result = buildResult({ vusersCreated: 100, vusersCompleted: 97, vusersFailed: 1 });
    expect(evaluateEnsure({ ensure: ensure({ maxErrorRate: 2 }), result }).verdicts[0]).toMatchObject({ actual: 3, passed: false });
    expect(evaluateEnsure({ ensure: ensure({ maxErrorRate: 3 }), result }).verdicts[0]).toMatchObject({ actual: 3, passed: true });
  });

  it("fails latency thresholds when nothing answered instead of reading an empty histogram as 0 ms", () => {
    const empty = createLatencyHistogram();
    const encoded = encodeHistogram(empty);
    empty.destroy();
    const result = buildResult(
      { responses: 0, statusCodes: {}, errors: { ECONNREFUSED: 100 }, vusersCompleted: 0, vusersFailed: 100 },
      { histograms: { latency: encoded, serviceTime: encoded, endpoints: {} } },
    );
    const report = evaluateEnsure({ ensure: ensure({ thresholds: [{ metric: "http.response_time.p95", max: 300 }] }), result });
    expect(report.verdicts[0]).toMatchObject({ passed: false, actual: null, message: "http.response_time.p95: no such metric in this run" });
  });

  it("fails an unknown metric rather than passing it silently", () => {
    const report = evaluateEnsure({ ensure: ensure({ thresholds: [{ metric: "http.response_time.p42", max: 1 }] }), result: buildResult() });
    expect(report.verdicts[0]?.passed).toBe(false);
    expect(report.passed).toBe(false);
  });

  it("evaluates conditions over the run's metrics, strict ones failing the run and optional ones only reported", () => {
    const result = buildResult({ statusCodes: { 200: 98, 503: 2 }, errors: { ETIMEDOUT: 1 } });
    const report = evaluateEnsure({
      ensure: ensure({
        conditions: [
          { expression: "http.response_time.p99 < 100 and http.codes.503 <= 2", strict: true },
          { expression: "http.codes.503 == 0 or errors.ETIMEDOUT == 0", strict: false },
          { expression: "(http.codes.200 + http.codes.503) / http.requests * 100 >= 99.5", strict: true },
        ],
      }),
      result,
    });
    expect(report.verdicts.slice(0, 3).map((v) => [v.passed, v.actual])).toEqual([
      [true, 1],
      [true, 0],
      [true, 1],
    ]);
    expect(report.verdicts[1]?.message).toMatch(/^does not hold: .*\(optional: reported, does not fail the run\)$/);
    expect(report.passed).toBe(true);

    const strictFailure = evaluateEnsure({ ensure: ensure({ conditions: [{ expression: "http.codes.503 == 0", strict: true }] }), result });
    expect(strictFailure.passed).toBe(false);
    expect(strictFailure.verdicts[0]?.message).toBe("does not hold: http.codes.503 == 0 (http.codes.503 = 2)");
  });

  it("reads a class of status codes as the sum of its codes", () => {
    const result = buildResult({ statusCodes: { 200: 90, 500: 3, 503: 4, 404: 1 } });
    const report = evaluateEnsure({
      ensure: ensure({ conditions: [{ expression: "http.codes.5xx == 7 and http.codes.4xx == 1 and http.codes.2xx == 90 and http.codes.3xx == 0", strict: true }] }),
      result,
    });
    expect(report.verdicts[0]).toMatchObject({ passed: true, actual: 1 });
    const unknown = evaluateEnsure({ ensure: ensure({ conditions: [{ expression: "http.codes.6xx == 0", strict: true }] }), result });
    expect(unknown.verdicts[0]).toMatchObject({ passed: false, actual: null });
  });

  it("fails a condition naming a metric the run does not have", () => {
    const report = evaluateEnsure({ ensure: ensure({ conditions: [{ expression: "http.response_time.p42 < 5", strict: true }] }), result: buildResult() });
    expect(report.verdicts[0]).toMatchObject({ passed: false, actual: null });
    expect(report.verdicts[0]?.message).toContain("http.response_time.p42 = absent");
  });

  it("reports a few late arrivals (within 1 %) without failing the run", () => {
    const report = evaluateEnsure({
      ensure: ensure({ thresholds: [] }),
      result: buildResult({ arrivalsLate: 1, vusersCreated: 100 }, { maxLatenessMs: 22 }),
    });
    expect(report.isOnSchedule).toBe(true);
    expect(report.passed).toBe(true);
    expect(report.verdicts.at(-1)?.message).toBe(
      "1 of 100 arrivals launched more than 10 ms late (worst 22 ms), within the tolerance (1 % of arrivals, at least 1); their wait is counted in the latencies",
    );
  });

  it("tolerates one late arrival in a run too small for 1 % to be one, and fails on the second", () => {
    const one = evaluateEnsure({
      ensure: ensure({ thresholds: [] }),
      result: buildResult({ arrivalsPlanned: 1, arrivalsLate: 1, vusersCreated: 1, vusersCompleted: 1 }, { maxLatenessMs: 12 }),
    });
    expect([one.isOnSchedule, one.passed]).toEqual([true, true]);
    const two = evaluateEnsure({
      ensure: ensure({ thresholds: [] }),
      result: buildResult({ arrivalsPlanned: 10, arrivalsLate: 2, vusersCreated: 10, vusersCompleted: 10 }, { maxLatenessMs: 12 }),
    });
    expect([two.isOnSchedule, two.passed]).toEqual([false, false]);
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
