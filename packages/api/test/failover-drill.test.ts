// The database failover drill (issue: a failover restarted the fleet): PostgreSQL stopped under checkout load, behind
// HAProxy checking two API processes exactly as the ALB target groups do. No process is taken out of service, every
// request in the outage is a typed 503 with Retry-After (never a 500, a hang or a dropped connection), orders go
// through again once the database is back with nothing restarted, and the invariants hold.
import { describe, expect, it } from "vitest";
import { TARGET_GROUP_HEALTH_CHECK } from "../../../stacks/health-check.ts";
import { runFailoverDrill } from "../scripts/rehearse/failover-drill.ts";
import { failoverDrillProblems } from "../scripts/rehearse/failover-report.ts";

// An RDS failover takes 60–120 s, and `pnpm drill:failover` stops the database for 90 s behind the target groups' own
// check. The test runs the same drill on a smaller clock: HAProxy checks the same path with the same thresholds, only
// more often, and its `timeout server` and the reconciler's interval are shortened. Its outage outlasts every wait that
// could take a process out or end a request in it, so it proves the same things:
// - the checks' verdict: unhealthyThreshold failed checks, intervalSeconds apart, the last given timeoutSeconds
//   (3 × 1 s + 3 s = 6 s): a process the checks would take out is taken out inside the outage, and at least
//   unhealthyThreshold checks fall in it (asserted below);
// - HAProxy's `timeout server` (10 s here): a request hanging on the database would end as a 504 inside the outage;
// - the reconciler's interval (2 s here), so it runs with the database gone; the pool's connect (5 s) and statement
//   (10 s) timeouts (fixed in createDb); the outbox poll (1 s) and the hold sweep (5 s). The pool's idle timeout (30 s)
//   has nothing to wait out here: the fast stop ends every session and the pool discards each client on its error.
// Two shoppers instead of the drill's four: each request in the outage is still counted, and fewer is less load.
const HEALTH_CHECK = { ...TARGET_GROUP_HEALTH_CHECK, intervalSeconds: 1, timeoutSeconds: 3 };
const CHECKS_VERDICT_SECONDS = HEALTH_CHECK.intervalSeconds * HEALTH_CHECK.unhealthyThreshold + HEALTH_CHECK.timeoutSeconds;
const HAPROXY_SERVER_TIMEOUT_SECONDS = 10;
const RECONCILE_INTERVAL_SECONDS = 2;
const POOL_TIMEOUTS_SECONDS = [5, 10];
const HOLD_SWEEP_SECONDS = 5;
const OUTAGE_SECONDS = Math.max(CHECKS_VERDICT_SECONDS, HAPROXY_SERVER_TIMEOUT_SECONDS, RECONCILE_INTERVAL_SECONDS, HOLD_SWEEP_SECONDS, ...POOL_TIMEOUTS_SECONDS) + 2;

describe("runFailoverDrill", () => {
  it(`keeps both processes in service through a ${OUTAGE_SECONDS} s database outage, answers 503 + Retry-After in it and recovers by itself`, { timeout: 180_000 }, async () => {
    const lines: string[] = [];
    const report = await runFailoverDrill({
      outageSeconds: OUTAGE_SECONDS,
      shoppers: 2,
      healthCheck: HEALTH_CHECK,
      serverTimeoutSeconds: HAPROXY_SERVER_TIMEOUT_SECONDS,
      apiEnv: { RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_SECONDS * 1000) },
      log: (line) => lines.push(line),
    });
    console.log([...lines, JSON.stringify(report, null, 1)].join("\n"));

    // HAProxy checked what the target groups check (their path and thresholds, more often), and often enough during the
    // outage to have taken a server out.
    expect(report.healthCheck).toEqual(HEALTH_CHECK);
    const { path, healthyThreshold, unhealthyThreshold } = TARGET_GROUP_HEALTH_CHECK;
    expect(report.healthCheck).toMatchObject({ path, healthyThreshold, unhealthyThreshold });
    expect(report.outage.seconds).toBeGreaterThanOrEqual(OUTAGE_SECONDS);
    for (const server of report.servers) {
      expect(server.statusesSeen, server.slot).toEqual(["UP"]);
      expect([server.checksFailed, server.timesDown], server.slot).toEqual([0, 0]);
      expect(server.healthChecksDuringOutage, server.slot).toBeGreaterThanOrEqual(TARGET_GROUP_HEALTH_CHECK.unhealthyThreshold);
      expect(server.healthChecksNot200, server.slot).toBe(0);
      // Readiness did see the outage: /ready is the database-dependent signal, /health is not.
      expect(Object.keys(server.readyDuringOutage), server.slot).toContain("503");
      expect(server.isRunningAtEnd, server.slot).toBe(true);
    }

    // In the outage: only typed, retryable 503s, and some of them; no timeout or lost connection anywhere in the run.
    const r = report.requests;
    expect(r.duringOutage["503 SERVICE_UNAVAILABLE retry-after 1"]).toBeGreaterThan(0);
    expect(Object.keys(r.duringOutage)).toEqual(["503 SERVICE_UNAVAILABLE retry-after 1"]);
    expect([r.timeouts, r.connectionErrors, r.untyped503s]).toEqual([0, 0, 0]);
    for (const phase of [r.beforeOutage, r.afterOutage]) {
      expect(Object.keys(phase).filter((outcome) => outcome !== "200" && outcome !== "503 SERVICE_UNAVAILABLE retry-after 1")).toEqual([]);
    }

    // Recovered by itself: orders placed again through the same two processes.
    expect(report.orders.beforeOutage).toBeGreaterThan(0);
    expect(report.recovery.ordersAfterRestart).toBeGreaterThanOrEqual(report.shoppers * 2);
    expect(report.recovery.firstOrderMs).not.toBeNull();

    // No order half written, stock and charges consistent, every acknowledged order exactly once.
    expect(report.invariants.violations).toEqual([]);
    expect(report.invariants.passed).toBe(true);
    expect([report.invariants.ordersWithoutLines, report.invariants.paidOrdersWithoutEvent]).toEqual([0, 0]);
    expect(failoverDrillProblems(report)).toEqual([]);
  });
});
