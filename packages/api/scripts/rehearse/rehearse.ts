// `pnpm rehearse`: blue/green cutover and rollback under the checkout-journey load behind a real HAProxy,
// printed and written as JSON. Exit 0 when no request failed, both switches happened and the invariants hold.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { readCommandLine } from "../../src/cli/help.ts";
import { repoRoot } from "../../src/env.ts";
import { isRehearsalPassed, runRehearsal, type RehearsalReport } from "./run-rehearsal.ts";

const given = readCommandLine({
  name: "rehearse",
  options: { rate: "value", settle: "value", out: "value", html: "value", "load-out": "value" },
  help: `pnpm rehearse [options] — a blue/green release and a rollback under the checkout-journey load behind a
real HAProxy (installed with apt-get if missing): every request counted, both switches timed, the invariants checked.

  --rate N       shopper arrivals per second (default 100, about 290 requests/s)
  --settle S     seconds of load between steps (default 15)
  --out FILE     the report as JSON (default .data/rehearsal.json)
  --html FILE    the load tester's HTML report with the rehearsal's windows (default .data/rehearsal.html)
  --load-out F   also keep the load tester's raw result
  -h, --help     this help

Exit 0 when no request failed, both switches happened and the invariants hold; 1 otherwise; 2 for a usage error.`,
});
const values = {
  rate: given.rate ?? "100",
  settle: given.settle ?? "15",
  out: given.out ?? path.join(repoRoot, ".data", "rehearsal.json"),
  html: given.html ?? path.join(repoRoot, ".data", "rehearsal.html"),
  "load-out": given["load-out"],
};

function print(report: RehearsalReport): void {
  const l = report.load;
  const lines = [
    "",
    `load: ${l.requests} requests, ${l.responses} responses, ${l.failed} failed over ${l.durationSeconds} s at ${l.arrivalRate} arrivals/s (status ${JSON.stringify(l.statusCodes)})`,
    `latency (ms) whole run: p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}`,
    ...report.cutovers.map(
      (c) =>
        `${c.name}: ${c.to} ready in ${c.startMs} ms, switch ${c.switchMs} ms, ${c.from} exited ${c.oldExitCode} ${c.stopMs} ms after SIGTERM; ` +
        `window ${c.window.requests} requests, ${c.window.failed} failed, p50 ${c.window.p50} p95 ${c.window.p95} p99 ${c.window.p99} max ${c.window.max} ms`,
    ),
    `probe shopper: ${report.probeShopper.checkouts} orders acknowledged, ${report.probeShopper.failures.length} failed checkouts`,
    `acknowledged orders checked to exist exactly once: ${report.invariants.acknowledgedOrders.load} from the load tester's virtual users, ${report.invariants.acknowledgedOrders.probeShopper} from the probe shopper`,
    `versions served through haproxy: ${report.versionsServed.join(" → ")} (${report.healthProbeFailures} failed /health probes)`,
    ...report.invariants.verdicts.map((v) => `${v.passed ? "pass" : "FAIL"}  ${v.message}`),
    `invariants: ${report.invariants.passed ? "pass" : "FAIL"}`,
    `verdict: ${isRehearsalPassed(report) ? "PASS" : "FAIL"}`,
  ];
  console.log(lines.join("\n"));
}

const controller = new AbortController();
process.once("SIGINT", () => controller.abort());
process.once("SIGTERM", () => controller.abort());

try {
  for (const file of [values.out, values.html]) mkdirSync(path.dirname(file), { recursive: true });
  const report = await runRehearsal({
    arrivalRate: Number(values.rate),
    settleSeconds: Number(values.settle),
    databaseUrl: process.env.DATABASE_URL,
    loadResultFile: values["load-out"],
    htmlReportFile: values.html,
    signal: controller.signal,
  });
  print(report);
  writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written: ${values.out} and ${values.html} (the load tester's report with the rehearsal's section and cutover marks)`);
  process.exit(isRehearsalPassed(report) ? 0 : 1);
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
}
