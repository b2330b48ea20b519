// compareRuns on runs drawn from known distributions (recorded with the engine's own histograms): noise passes, a
// stalling target and rising errors fail, and the same files always give the same answer.
import { describe, expect, it } from "vitest";
import { summarizeWindow } from "../engine/run-result.ts";
import { compareRuns, type Comparison, type MetricComparison } from "./compare-runs.ts";
import { parseMaxRegression } from "./regression-limits.ts";
import { syntheticRun, type SyntheticRunOptions } from "./synthetic-run.ts";

/** A minute at 100 requests a second, median 20 ms, the machine's speed drifting 5 % from second to second. */
const minute = (overrides: Partial<SyntheticRunOptions> & { seed: number }) =>
  syntheticRun({ intervals: 60, requestsPerInterval: 100, medianMs: 20, intervalNoise: 0.05, ...overrides });
const limits = parseMaxRegression("p95=10%,p99=20%,error_rate=0.1");
const baseline = minute({ seed: 1 });
const metric = (comparison: Comparison, name: MetricComparison["metric"]) => comparison.metrics.find((m) => m.metric === name)!;

describe("compareRuns", () => {
  it("passes two runs of the same target: each change's interval holds zero", () => {
    for (const seed of [2, 3, 4]) {
      const comparison = compareRuns(baseline, minute({ seed }), { limits });
      expect(comparison.passed, `seed ${seed}`).toBe(true);
      for (const m of comparison.metrics.filter((m) => m.metric !== "error_rate")) {
        expect(m.interval!.low, `${m.metric} seed ${seed}`).toBeLessThan(0);
        expect(m.interval!.high, `${m.metric} seed ${seed}`).toBeGreaterThan(0);
      }
    }
  });

  it("passes a noisier run of the same target (20 % drift between seconds)", () => {
    expect(compareRuns(baseline, minute({ seed: 9, intervalNoise: 0.2 }), { limits }).passed).toBe(true);
  });

  it("fails a target that stalls: 15 % of requests 50 ms slower moves p95 up by half, and the whole interval is over 10 %", () => {
    const comparison = compareRuns(baseline, minute({ seed: 5, stall: { share: 0.15, stallMs: 50 } }), { limits });
    const p95 = metric(comparison, "p95");
    expect(p95.change).toBeGreaterThan(0.45);
    expect(p95.interval!.low).toBeGreaterThan(0.1);
    expect(p95.verdict).toBe("fail");
    expect(comparison.passed).toBe(false);
  });

  it("fails a target that stalls every few seconds (half the requests of every fourth second wait 100 ms)", () => {
    const comparison = compareRuns(baseline, minute({ seed: 6, stall: { share: 0.5, stallMs: 100, isStalled: (i) => i % 4 === 0 } }), { limits });
    expect(metric(comparison, "p95").verdict).toBe("fail");
    expect(metric(comparison, "p99").verdict).toBe("fail");
  });

  it("fails an error rate that rises by 2 points, in percentage points, while the latencies pass", () => {
    const comparison = compareRuns(baseline, minute({ seed: 7, failureRate: 0.02 }), { limits });
    const errors = metric(comparison, "error_rate");
    expect(errors).toMatchObject({ unit: "points", baseline: 0, verdict: "fail" });
    expect(errors.current).toBeCloseTo(2, 0);
    expect(errors.interval!.low).toBeGreaterThan(0.1);
    expect(metric(comparison, "p95").verdict).toBe("pass");
  });

  it("passes a 10 % slowdown against a 10 % limit (the data cannot show it is over), and fails it against a 2 % limit", () => {
    const slower = minute({ seed: 8, medianMs: 22 });
    const atLimit = metric(compareRuns(baseline, slower, { limits }), "p95");
    expect(atLimit.change).toBeGreaterThan(0.05);
    expect(atLimit.interval!.low).toBeLessThan(0.1);
    expect(atLimit.verdict).toBe("pass");
    expect(metric(compareRuns(baseline, slower, { limits: parseMaxRegression("p50=2%") }), "p50").verdict).toBe("fail");
  });

  it("judges limits in milliseconds as differences", () => {
    const stalled = minute({ seed: 5, stall: { share: 0.15, stallMs: 50 } });
    const p95 = metric(compareRuns(baseline, stalled, { limits: parseMaxRegression("p95=5ms") }), "p95");
    expect(p95.unit).toBe("ms");
    expect(p95.change).toBeCloseTo(p95.current! - p95.baseline!, 6);
    expect(p95.verdict).toBe("fail");
    expect(metric(compareRuns(baseline, stalled, { limits: parseMaxRegression("p95=100ms") }), "p95").verdict).toBe("pass");
  });

  it("reports each run's percentiles exactly as the report computes them from the histograms", () => {
    const current = minute({ seed: 2 });
    const comparison = compareRuns(baseline, current, { limits: parseMaxRegression("p50=10%,p95=10%,p99=10%,p999=10%") });
    for (const [saved, side] of [
      [baseline, "baseline"],
      [current, "current"],
    ] as const) {
      const { latency } = summarizeWindow(saved, 0, saved.durationMs);
      expect(comparison.metrics.map((m) => m[side])).toEqual([latency.p50, latency.p95, latency.p99, latency.p999]);
    }
  });

  it("gives the same intervals every time for the same files, and others for another seed", () => {
    const current = minute({ seed: 2 });
    const first = compareRuns(baseline, current, { limits });
    expect(compareRuns(baseline, current, { limits })).toEqual(first);
    expect(compareRuns(baseline, current, { limits, seed: 99 }).metrics[0]?.interval).not.toEqual(first.metrics[0]?.interval);
  });

  it("does not judge a run too short to resample (fewer than five windows), and says why", () => {
    const short = syntheticRun({ seed: 2, intervals: 3, requestsPerInterval: 100, medianMs: 40 });
    const comparison = compareRuns(baseline, short, { limits });
    expect(comparison.metrics.map((m) => m.verdict)).toEqual(["insufficient", "insufficient", "insufficient", "insufficient"]);
    expect(metric(comparison, "p95").note).toMatch(/3 windows with data, 5 needed/);
    expect(comparison.passed).toBe(true);
    expect(comparison.notes.join("\n")).toMatch(/different load \(6000 requests in the baseline, 300 now\)/);
  });

  it("cuts both runs into the same windows: about 5 s, shorter for a short run, or as asked", () => {
    expect(compareRuns(baseline, minute({ seed: 2 }), { limits }).windowMs).toBe(5000);
    const halfMinute = syntheticRun({ seed: 2, intervals: 30, requestsPerInterval: 100, medianMs: 20 });
    const comparison = compareRuns(baseline, halfMinute, { limits });
    expect(comparison.windowMs).toBe(3000);
    expect([comparison.baseline.windows.length, comparison.current.windows.length]).toEqual([20, 10]);
    expect(compareRuns(baseline, minute({ seed: 2 }), { limits, windowMs: 2000 }).current.windows).toHaveLength(30);
  });
});
