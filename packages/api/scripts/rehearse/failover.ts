// `pnpm drill:failover`: the database failover drill (PostgreSQL stopped under checkout load behind HAProxy
// checking the API as the target groups do), printed and written as JSON. Exit 0 when nothing went wrong.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { TARGET_GROUP_HEALTH_CHECK } from "../../../../stacks/health-check.ts";
import { readCommandLine } from "../../src/cli/help.ts";
import { repoRoot } from "../../src/env.ts";
import { runFailoverDrill } from "./failover-drill.ts";
import { failoverDrillProblems, type FailoverDrillReport } from "./failover-report.ts";

const given = readCommandLine({
  name: "drill:failover",
  options: { outage: "value", fault: "value", shoppers: "value", "check-path": "value", out: "value" },
  help: `pnpm drill:failover [options] — two API processes behind a real HAProxy (installed with apt-get if missing)
whose checks are the ALB target groups' (stacks/health-check.ts), shoppers checking out through it, and PostgreSQL
(its own embedded server) stopped for the outage and started again. Every request's answer counted, HAProxy's view of
both servers, the time to recover, and the invariants (stock, charges, every acknowledged order exactly once).

  --outage S         seconds PostgreSQL stays stopped (default 90; an RDS Multi-AZ failover takes 60–120)
  --fault F          stop: PostgreSQL stopped (connections refused) and started again (default); unreachable:
                     every connection cut and new ones never answered (the old host gone), PostgreSQL left running
  --shoppers N       shoppers checking out at once (default 4)
  --check-path P     the path HAProxy checks (default ${TARGET_GROUP_HEALTH_CHECK.path}); --check-path /ready shows what a
                     database-dependent check does in an outage: both servers taken out
  --out FILE         the report as JSON (default .data/failover-drill.json)
  -h, --help         this help

Exit 0 when no server was taken out, every request in the outage was a 503 with Retry-After, nothing hung or lost
its connection, orders went through again and the invariants hold; 1 otherwise; 2 for a usage error.`,
});
const values = {
  outage: given.outage ?? "90",
  fault: given.fault ?? "stop",
  shoppers: given.shoppers ?? "4",
  "check-path": given["check-path"] ?? TARGET_GROUP_HEALTH_CHECK.path,
  out: given.out ?? path.join(repoRoot, ".data", "failover-drill.json"),
};

function print(report: FailoverDrillReport, problems: string[]): void {
  const r = report.requests;
  const lines = [
    "",
    `health check: GET ${report.healthCheck.path} every ${report.healthCheck.intervalSeconds} s, timeout ${report.healthCheck.timeoutSeconds} s, healthy ${report.healthCheck.healthyThreshold}, unhealthy ${report.healthCheck.unhealthyThreshold}`,
    `outage (${report.outage.fault}): PostgreSQL gone ${report.outage.seconds} s (fast stop ${report.outage.stopMs} ms, restart ${report.outage.restartMs} ms), ${report.shoppers} shoppers`,
    ...report.servers.map(
      (s) =>
        `${s.slot}: haproxy ${s.statusesSeen.join(" → ")}, ${s.checksFailed} failed checks, ${s.timesDown} times DOWN; ${s.healthChecksDuringOutage} checks answered in the outage; ` +
        `own /ready in the outage ${JSON.stringify(s.readyDuringOutage)}; ${s.isRunningAtEnd ? "still running" : "EXITED"}; error logs ${JSON.stringify(s.errorLogs)}`,
    ),
    `requests before: ${JSON.stringify(r.beforeOutage)}`,
    `requests during the outage: ${JSON.stringify(r.duringOutage)} (slowest ${r.slowestDuringOutageMs} ms)`,
    `requests after: ${JSON.stringify(r.afterOutage)}`,
    `timeouts ${r.timeouts}, connection errors ${r.connectionErrors}, 503s without typed body or Retry-After ${r.untyped503s}`,
    `recovery: first order ${report.recovery.firstOrderMs} ms after PostgreSQL was back, /ready 200 after ${JSON.stringify(report.recovery.readyMs)} ms; ${report.recovery.ordersAfterRestart} orders since`,
    `invariants: ${report.invariants.passed ? "pass" : "FAIL"} over ${report.orders.acknowledged} acknowledged orders ${JSON.stringify(report.invariants.byStatus)}; ` +
      `${report.invariants.ordersWithoutLines} orders without lines, ${report.invariants.paidOrdersWithoutEvent} paid orders without their event`,
    ...problems.map((problem) => `FAIL  ${problem}`),
    `verdict: ${problems.length === 0 ? "PASS" : "FAIL"}`,
  ];
  console.log(lines.join("\n"));
}

if (values.fault !== "stop" && values.fault !== "unreachable") {
  console.error(`drill:failover: --fault ${values.fault}: use stop or unreachable (see --help)`);
  process.exit(2);
}

const controller = new AbortController();
process.once("SIGINT", () => controller.abort());
process.once("SIGTERM", () => controller.abort());

try {
  mkdirSync(path.dirname(values.out), { recursive: true });
  const report = await runFailoverDrill({
    outageSeconds: Number(values.outage),
    fault: values.fault,
    shoppers: Number(values.shoppers),
    healthCheck: { ...TARGET_GROUP_HEALTH_CHECK, path: values["check-path"] },
    signal: controller.signal,
  });
  const problems = failoverDrillProblems(report);
  print(report, problems);
  writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written: ${values.out}`);
  process.exit(problems.length === 0 ? 0 : 1);
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
}
