// The deployment error-rate alarm counts the ALB's own 5xx (502/503/504 when tasks crash or none is healthy), not only
// the tasks': its metric math is evaluated here on minutes of traffic, as CloudWatch would, straight from the template.
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiOutputs } from "../Api.ts";
import { DEPLOYMENT_ALARMS } from "../api-guards.ts";
import { logicalId, synthesize, type Json } from "./support.ts";

let alarm: Json;

/**
 * CloudWatch metric math for the functions the alarm uses (IF, FILL, + - * /, >=), over one period's values; a
 * missing metric is undefined. Anything else in the expression throws, so the evaluator cannot silently misread it.
 */
function evaluateMetricMath(expression: string, values: Record<string, number | undefined>): number {
  const js = expression
    .replace(/\bIF\(/g, "iff(")
    .replace(/\bFILL\(/g, "fill(")
    .replace(/\b[a-z][a-z0-9_]*\b/g, (name) => (name === "iff" || name === "fill" ? name : `v(${JSON.stringify(name)})`));
  if (/[^\s\w().,+\-*/>=<"]/.test(js)) throw new Error(`unsupported metric math: ${expression}`);
  const v = (name: string) => {
    if (!(name in values)) throw new Error(`the expression reads ${name}, which the alarm does not define`);
    return values[name];
  };
  const iff = (condition: boolean, then: number, otherwise: number) => (condition ? then : otherwise);
  const fill = (value: number | undefined, fallback: number) => value ?? fallback;
  return new Function("v", "iff", "fill", `return (${js});`)(v, iff, fill) as number;
}

beforeAll(async () => {
  const synthesized = await synthesize();
  const resources = synthesized.resources("Api");
  const outputs = synthesized.outputs.api as ApiOutputs;
  alarm = resources[logicalId(outputs.deploymentAlarms.errorRate)]!.Properties;
});

/** The alarm's percentage for one minute with these sums, by metric name (what CloudWatch feeds each id). */
function errorRate(minute: { RequestCount?: number; HTTPCode_Target_5XX_Count?: number; HTTPCode_ELB_5XX_Count?: number }): number {
  const metrics = alarm.Metrics as Json[];
  const values: Record<string, number | undefined> = {};
  for (const m of metrics.filter((m) => m.MetricStat)) values[m.Id] = minute[m.MetricStat.Metric.MetricName as keyof typeof minute];
  return evaluateMetricMath(metrics.find((m) => m.ReturnData)!.Expression, values);
}

const breaches = (rate: number) => rate > alarm.Threshold;

describe("deployment error-rate alarm", () => {
  it("reads RequestCount, HTTPCode_Target_5XX_Count and HTTPCode_ELB_5XX_Count, summed per minute, from the ALB", () => {
    const metrics = (alarm.Metrics as Json[]).filter((m) => m.MetricStat).map((m) => [m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName, m.MetricStat.Stat]);
    expect(metrics.sort()).toEqual(
      [
        ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum"],
        ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum"],
        ["AWS/ApplicationELB", "RequestCount", "Sum"],
      ].sort(),
    );
    expect(alarm.Threshold).toBe(DEPLOYMENT_ALARMS.errorRatePercent);
  });

  it("breaches when only the ALB answers 5xx (tasks crashing): 30 beside 970 that reached a task is 3 %", () => {
    expect(errorRate({ RequestCount: 970, HTTPCode_ELB_5XX_Count: 30 })).toBeCloseTo(3);
    expect(breaches(errorRate({ RequestCount: 970, HTTPCode_ELB_5XX_Count: 30 }))).toBe(true);
  });

  it("reads 100 % when no task is healthy: RequestCount counts only requests the ALB could give a target", () => {
    expect(errorRate({ HTTPCode_ELB_5XX_Count: 500 })).toBe(100);
    expect(errorRate({ RequestCount: 0, HTTPCode_ELB_5XX_Count: 500 })).toBe(100);
    expect(breaches(errorRate({ HTTPCode_ELB_5XX_Count: 500 }))).toBe(true);
  });

  it("adds the ALB's 5xx to the tasks' 5xx: 6 + 6 of 1,000 breaches 1 % where either alone would not", () => {
    expect(breaches(errorRate({ RequestCount: 1000, HTTPCode_Target_5XX_Count: 6 }))).toBe(false);
    expect(breaches(errorRate({ RequestCount: 1000, HTTPCode_ELB_5XX_Count: 6 }))).toBe(false);
    expect(errorRate({ RequestCount: 1000, HTTPCode_Target_5XX_Count: 6, HTTPCode_ELB_5XX_Count: 6 })).toBeCloseTo((100 * 12) / 1006);
    expect(breaches(errorRate({ RequestCount: 1000, HTTPCode_Target_5XX_Count: 6, HTTPCode_ELB_5XX_Count: 6 }))).toBe(true);
  });

  it("stays quiet below the minimum volume and on minutes without errors (missing 5xx metrics count as 0)", () => {
    expect(errorRate({ RequestCount: DEPLOYMENT_ALARMS.minimumRequestsPerMinute - 6, HTTPCode_ELB_5XX_Count: 5 })).toBe(0);
    expect(errorRate({ RequestCount: 1000 })).toBe(0);
  });

  it("would miss the ALB's 5xx with the old expression (5xx of the tasks over requests): the evaluator tells them apart", () => {
    const old = "IF(requests >= 20, 100 * FILL(target5xx, 0) / requests, 0)";
    expect(evaluateMetricMath(old, { requests: 1000, target5xx: undefined, elb5xx: 30 })).toBe(0);
    // And dividing by RequestCount alone reads nothing at all when no task is healthy.
    const requestsOnly = "IF(requests >= 20, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)";
    expect(evaluateMetricMath(requestsOnly, { requests: 0, target5xx: undefined, elb5xx: 500 })).toBe(0);
    expect(() => evaluateMetricMath("ANOMALY_DETECTION_BAND(requests)", { requests: 1 })).toThrow();
  });
});
