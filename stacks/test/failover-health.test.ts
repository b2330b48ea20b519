// The target groups check exactly what the failover drill proves survives a database outage: the same path,
// interval, timeout and thresholds, all from stacks/health-check.ts (HAProxy is configured from that object too).
import { beforeAll, describe, expect, it } from "vitest";
import type { Template } from "aws-cdk-lib/assertions";
import { TARGET_GROUP_HEALTH_CHECK } from "../health-check.ts";
import { synthesize } from "./support.ts";

let api: Template;
beforeAll(async () => {
  api = (await synthesize("test")).template("Api");
});

describe("TARGET_GROUP_HEALTH_CHECK", () => {
  it("is liveness (/health), which never asks the database", () => {
    expect(TARGET_GROUP_HEALTH_CHECK.path).toBe("/health");
  });

  it("is the health check of both target groups, blue and green", () => {
    const groups = Object.entries(api.findResources("AWS::ElasticLoadBalancingV2::TargetGroup"));
    expect(groups).toHaveLength(2);
    for (const [id, group] of groups) {
      const p = (group as { Properties: Record<string, unknown> }).Properties;
      expect(
        {
          path: p.HealthCheckPath,
          intervalSeconds: p.HealthCheckIntervalSeconds,
          timeoutSeconds: p.HealthCheckTimeoutSeconds,
          healthyThreshold: p.HealthyThresholdCount,
          unhealthyThreshold: p.UnhealthyThresholdCount,
        },
        id,
      ).toEqual(TARGET_GROUP_HEALTH_CHECK);
    }
  });

  it("times a check out before the next one is due, as the ALB requires", () => {
    expect(TARGET_GROUP_HEALTH_CHECK.timeoutSeconds).toBeLessThan(TARGET_GROUP_HEALTH_CHECK.intervalSeconds);
  });
});
