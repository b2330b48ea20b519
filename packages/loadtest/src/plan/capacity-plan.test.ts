// Unit tests for the capacity plan, on runs built from constructed HDR histograms.
import { describe, expect, it } from "vitest";
import { API_TASK_SIZE } from "../../../../stacks/api-task-size.ts";
import type { Ensure } from "../script/script-types.ts";
import { CapacityPlanError, estimateTasks, evaluateWindows, findKnee, planCapacity, SERVICE_LEVELS, thresholdsForPlan, type WindowVerdict } from "./capacity-plan.ts";
import { constructedRamp, constructedRun } from "./plan-fixture.ts";

const p95Only: Ensure = { thresholds: [{ metric: "http.response_time.p95", max: 300 }], conditions: [] };

describe("thresholdsForPlan", () => {
  it("falls back to the service levels, p95 300 ms and 0.01 % request errors, when there is no ensure", () => {
    const { thresholds, ignored } = thresholdsForPlan(undefined);
    expect(thresholds.map(({ metric, max, source }) => ({ metric, max, source }))).toEqual([
      { metric: "http.response_time.p95", max: SERVICE_LEVELS.p95Ms, source: "service level" },
      { metric: "http.request_error_rate", max: SERVICE_LEVELS.requestErrorRatePercent, source: "service level" },
    ]);
    expect(ignored).toEqual([]);
  });

  it("takes the script's latency thresholds and adds only the missing error-rate service level", () => {
    const { thresholds } = thresholdsForPlan({
      thresholds: [
        { metric: "http.response_time.p99", max: 500 },
        { metric: "http.response_time.max", max: 2000 },
      ],
      conditions: [],
    });
    expect(thresholds.map((t) => [t.metric, t.max, t.source])).toEqual([
      ["http.response_time.p99", 500, "script"],
      ["http.response_time.max", 2000, "script"],
      ["http.request_error_rate", 0.01, "service level"],
    ]);
  });

  it("uses maxErrorRate and the request error rate from the script, and ignores whole-run totals and conditions", () => {
    const { thresholds, ignored } = thresholdsForPlan({
      thresholds: [
        { metric: "http.request_error_rate", max: 0.5 },
        { metric: "http.requests", max: 1e6 },
        { metric: "http.response_time.p42", max: 1 },
      ],
      conditions: [{ expression: "http.response_time.p99 < 100", strict: true }],
      maxErrorRate: 1,
    });
    expect(thresholds.map((t) => [t.metric, t.max, t.source])).toEqual([
      ["http.request_error_rate", 0.5, "script"],
      ["maxErrorRate", 1, "script"],
      ["http.response_time.p95", 300, "service level"],
    ]);
    expect(ignored.map((i) => i.metric)).toEqual(["http.requests", "http.response_time.p42", "http.response_time.p99 < 100"]);
  });
});

describe("evaluateWindows", () => {
  it("takes a window's percentiles from its merged histogram, not from its intervals' percentiles", () => {
    // Alone, the second interval's p95 is 400 ms (8 of 100 slow); merged with the first, 8 of 200 are slow: p95 10 ms.
    const saved = constructedRun(
      [
        { requests: 100 },
        {
          requests: 100,
          latencies: [
            [10, 92],
            [400, 8],
          ],
        },
      ],
      p95Only,
    );
    const { thresholds } = thresholdsForPlan(saved.ensure);
    const [window, ...rest] = evaluateWindows({ saved, thresholds, windowSeconds: 2 });
    expect(rest).toEqual([]);
    expect(window?.latency.p95).toBeCloseTo(10, 1);
    expect(window?.latency.p99).toBeCloseTo(400, 0);
    expect(window?.met).toBe(true);
    const [, alone] = evaluateWindows({ saved, thresholds, windowSeconds: 1 });
    expect(alone?.met).toBe(false);
    expect(alone?.failures).toEqual(["http.response_time.p95 400.1 ms > 300"]);
  });

  it("slides windows by one interval and rates them in responses per second", () => {
    const saved = constructedRun(constructedRamp(6, 99), p95Only);
    const windows = evaluateWindows({ saved, thresholds: thresholdsForPlan(saved.ensure).thresholds, windowSeconds: 3 });
    expect(windows.map((w) => [w.startMs, w.endMs, w.responseRate])).toEqual([
      [0, 3000, 200],
      [1000, 4000, 300],
      [2000, 5000, 400],
      [3000, 6000, 500],
    ]);
  });

  it("breaks a window on the request error rate: transport errors over requests", () => {
    const saved = constructedRun([{ requests: 10_000 }, { requests: 10_000, errors: 2 }], p95Only);
    const windows = evaluateWindows({ saved, thresholds: thresholdsForPlan(saved.ensure).thresholds, windowSeconds: 1 });
    expect(windows.map((w) => w.met)).toEqual([true, false]);
    expect(windows[1]?.requestErrorRatePercent).toBeCloseTo(0.02, 6);
    expect(windows[1]?.failures).toEqual(["http.request_error_rate 0.02 % > 0.01"]);
  });

  it("counts responses outside the step's expect (a 5xx where 200 was expected) as failed requests", () => {
    const saved = constructedRun([{ requests: 10_000 }, { requests: 10_000, unexpected: 3 }], p95Only);
    const windows = evaluateWindows({ saved, thresholds: thresholdsForPlan(saved.ensure).thresholds, windowSeconds: 1 });
    expect(windows.map((w) => w.met)).toEqual([true, false]);
    expect(windows[1]?.requestErrorRatePercent).toBeCloseTo(0.03, 6);
    // They were answered, so they are no backlog: the window kept up, it failed on its errors.
    expect(windows[1]?.unanswered).toBe(0);
  });

  it("breaks a window whose responses fell behind the requests, however fast the answered ones were", () => {
    // 1,000 requests/s with a 300 ms p95 limit may leave 300 in flight at a 1 s window's end; 5 s windows 5 % of them.
    const saved = constructedRun([{ requests: 1000 }, { requests: 1000, responses: 699 }, { requests: 1000, responses: 700 }], p95Only);
    const { thresholds } = thresholdsForPlan(saved.ensure);
    const windows = evaluateWindows({ saved, thresholds, windowSeconds: 1 });
    expect(windows.map((w) => [w.unanswered, w.unansweredLimit, w.met])).toEqual([
      [0, 300, true],
      [301, 300, false],
      [300, 300, true],
    ]);
    expect(windows[1]?.failures).toEqual(["fell behind: 301 of 1000 requests unanswered > 300 allowed"]);
    const long = constructedRun([{ requests: 1000 }, { requests: 1000 }, { requests: 1000 }, { requests: 1000 }, { requests: 1000, responses: 600 }], p95Only);
    const [window] = evaluateWindows({ saved: long, thresholds, windowSeconds: 5 });
    expect([window?.unanswered, window?.unansweredLimit, window?.met]).toEqual([400, 300, false]);
  });

  it("counts the backlog against the p95 limit, or the first latency limit when there is no p95 threshold", () => {
    const saved = constructedRun([{ requests: 1000, responses: 850 }]);
    const limitFor = (ensure: Ensure) => evaluateWindows({ saved, thresholds: thresholdsForPlan(ensure).thresholds, windowSeconds: 1 })[0]?.unansweredLimit;
    expect(limitFor({ thresholds: [{ metric: "http.response_time.p99", max: 200 }], conditions: [] })).toBe(200);
    expect(
      limitFor({
        thresholds: [
          { metric: "http.response_time.p99", max: 900 },
          { metric: "http.response_time.p95", max: 100 },
        ],
        conditions: [],
      }),
    ).toBe(100);
    // 5 % of the requests when the latency limit allows less.
    expect(limitFor({ thresholds: [{ metric: "http.response_time.p95", max: 10 }], conditions: [] })).toBe(50);
  });

  it("counts a missing interval inside the load span as empty, and leaves out the drain after the last request", () => {
    const saved = constructedRun([{ requests: 100 }, null, { requests: 100 }, { requests: 0, responses: 50 }], p95Only);
    const windows = evaluateWindows({ saved, thresholds: thresholdsForPlan(saved.ensure).thresholds, windowSeconds: 2 });
    expect(windows.map((w) => [w.startMs, w.endMs, w.requests, w.responseRate])).toEqual([
      [0, 2000, 100, 50],
      [1000, 3000, 100, 50],
    ]);
  });

  it("leaves out a last interval cut short by the end of the run", () => {
    const saved = { ...constructedRun([{ requests: 100 }, { requests: 100 }, { requests: 100 }, { requests: 5, responses: 60 }], p95Only), durationMs: 3100 };
    const windows = evaluateWindows({ saved, thresholds: thresholdsForPlan(saved.ensure).thresholds, windowSeconds: 2 });
    expect(windows.map((w) => [w.startMs, w.endMs, w.responseRate])).toEqual([
      [0, 2000, 100],
      [1000, 3000, 100],
    ]);
  });

  it("makes a run shorter than a window into one window", () => {
    const saved = constructedRun([{ requests: 50 }, { requests: 50 }], p95Only);
    const windows = evaluateWindows({ saved, thresholds: thresholdsForPlan(saved.ensure).thresholds, windowSeconds: 5 });
    expect(windows.map((w) => [w.startMs, w.endMs, w.responseRate])).toEqual([[0, 2000, 50]]);
  });
});

function verdict(responseRate: number, met: boolean): WindowVerdict {
  return { responseRate, met } as WindowVerdict;
}

describe("findKnee", () => {
  it("is the highest rate before the first broken window, even when a later window met at a higher rate", () => {
    const windows = [verdict(100, true), verdict(300, true), verdict(250, true), verdict(320, false), verdict(400, true)];
    const { knee, firstBroken } = findKnee(windows);
    expect(knee).toBe(windows[1]);
    expect(firstBroken).toBe(windows[3]);
  });

  it("has no knee when the first window already broke", () => {
    expect(findKnee([verdict(100, false), verdict(200, true)]).knee).toBeNull();
  });

  it("takes the earliest of equal rates, and the whole run when nothing broke", () => {
    const windows = [verdict(200, true), verdict(200, true), verdict(150, true)];
    expect(findKnee(windows)).toEqual({ knee: windows[0], firstBroken: null });
  });
});

describe("estimateTasks", () => {
  it("divides the target plus headroom by one task's rate and rounds up", () => {
    expect(estimateTasks({ targetRps: 10_000, headroom: 0.3, perProcessRps: 2600 })).toMatchObject({ requiredRps: 13_000, tasks: 5, exceedsMax: false });
    expect(estimateTasks({ targetRps: 10_000, headroom: 0.3, perProcessRps: 2599 }).tasks).toBe(6);
    expect(estimateTasks({ targetRps: 10_000, headroom: 0.3, perProcessRps: 1000 })).toMatchObject({ requiredRps: 13_000, tasks: 13, exceedsMax: true });
    expect(estimateTasks({ targetRps: 10_000, headroom: 0.3, perProcessRps: 999 }).tasks).toBe(14);
  });

  it("does not round an exact quotient up through floating-point error", () => {
    // 10000 × 1.3 / 1300 is 10.000000000000002 in floating point.
    expect(estimateTasks({ targetRps: 10_000, headroom: 0.3, perProcessRps: 1300 }).tasks).toBe(10);
  });

  it("never goes below the autoscaling minimum", () => {
    expect(estimateTasks({ targetRps: 100, headroom: 0.3, perProcessRps: 1000 })).toMatchObject({ tasks: API_TASK_SIZE.minTasks, isAtMinimum: true });
  });

  it("flags a count over the autoscaling maximum", () => {
    const estimate = estimateTasks({ targetRps: 10_000, headroom: 0.3, perProcessRps: 200 });
    expect(estimate).toMatchObject({ tasks: 65, exceedsMax: true });
  });

  it("counts every API process in a task", () => {
    const taskSize = { ...API_TASK_SIZE, cpu: 2048, memoryMiB: 4096, apiProcessesPerTask: 2 };
    expect(estimateTasks({ targetRps: 10_000, headroom: 0, perProcessRps: 1000, taskSize }).tasks).toBe(5);
  });

  it("refuses a target, headroom or rate that makes no sense", () => {
    expect(() => estimateTasks({ targetRps: 0, headroom: 0.3, perProcessRps: 1 })).toThrow(CapacityPlanError);
    expect(() => estimateTasks({ targetRps: 1, headroom: -0.1, perProcessRps: 1 })).toThrow(CapacityPlanError);
    expect(() => estimateTasks({ targetRps: 1, headroom: 0.3, perProcessRps: 0 })).toThrow(CapacityPlanError);
  });
});

describe("planCapacity", () => {
  it("finds the knee of a ramp, divides it by the API processes and counts tasks for the target", () => {
    // 100, 200, … 1,000 requests/s; latency jumps at 7 s, so the first window touching second 7 breaks.
    const saved = constructedRun(constructedRamp(10, 7), p95Only);
    const plan = planCapacity(saved, { windowSeconds: 3, processes: 2, targetRps: 10_000, headroom: 0.3 });
    expect(plan.knee).toMatchObject({ startMs: 4000, endMs: 7000, responseRate: 600, met: true });
    expect(plan.firstBroken).toMatchObject({ startMs: 5000, met: false });
    expect(plan.isLowerBound).toBe(false);
    expect(plan.perProcessRps).toBe(300);
    expect(plan.target).toMatchObject({ requiredRps: 13_000, tasks: 44, exceedsMax: true });
    expect(plan.taskSize).toBe(API_TASK_SIZE);
    expect(plan.notes.join("\n")).toMatch(/one Fargate vCPU/);
    expect(plan.notes.join("\n")).toMatch(/shared the machine/);
  });

  it("keeps the knee before the first break, and notes a later window that met at a higher rate", () => {
    const specs = constructedRamp(8, 99);
    specs[2] = { requests: 300, latencyMs: 900 };
    const plan = planCapacity(constructedRun(specs, p95Only), { windowSeconds: 1 });
    expect(plan.knee).toMatchObject({ startMs: 1000, responseRate: 200 });
    expect(plan.firstBroken).toMatchObject({ startMs: 2000 });
    expect(plan.notes.join("\n")).toContain("windows met again at higher rates (up to 800 responses/s, 7–8 s)");
  });

  it("says the knee is a lower bound when nothing broke", () => {
    const plan = planCapacity(constructedRun(constructedRamp(5, 99), p95Only), { windowSeconds: 2 });
    expect(plan.knee?.responseRate).toBe(450);
    expect(plan.isLowerBound).toBe(true);
    expect(plan.target).toBeNull();
    expect(plan.notes.join("\n")).toMatch(/lower bound/);
  });

  it("has no knee, per-process rate or tasks when the run never met the thresholds", () => {
    const plan = planCapacity(constructedRun(constructedRamp(5, 0), p95Only), { windowSeconds: 2, targetRps: 10_000 });
    expect(plan.windows.length).toBeGreaterThan(0);
    expect([plan.knee, plan.perProcessRps, plan.target]).toEqual([null, null, null]);
  });

  it("applies the service levels to a result saved without its ensure config", () => {
    const plan = planCapacity(constructedRun(constructedRamp(5, 99)), { windowSeconds: 2 });
    expect(plan.thresholds.map((t) => t.source)).toEqual(["service level", "service level"]);
    expect(plan.notes.join("\n")).toMatch(/no saved ensure config/);
  });

  it("refuses a result with no interval that sent a request, and nonsense options", () => {
    expect(() => planCapacity(constructedRun([]))).toThrow(CapacityPlanError);
    expect(() => planCapacity(constructedRun([{ requests: 0, responses: 3 }]))).toThrow(/nothing to plan from/);
    expect(() => planCapacity(constructedRun(constructedRamp(3, 99)), { processes: 1.5 })).toThrow(CapacityPlanError);
  });
});
