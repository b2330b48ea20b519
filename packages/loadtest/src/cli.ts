#!/usr/bin/env -S node --import tsx
// The load tester's command line. `run SCRIPT.yml` and `quick URL` run load and judge it against the
// script's thresholds; exit 0 when they pass, 1 when any fails, 2 for a script or usage error.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseScript } from "./script/parse-script.ts";
import { quickScript } from "./script/quick-script.ts";
import { ScriptError, type Script } from "./script/script-types.ts";
import type { ProgressSnapshot } from "./engine/run-script.ts";
import { defaultWorkerCount, runScriptParallel } from "./engine/run-parallel.ts";
import { summarize, type RunResult } from "./engine/run-result.ts";
import { evaluateEnsure } from "./engine/ensure.ts";
import { judgeInvariants, prepareInvariants } from "./invariants/invariants-step.ts";
import { renderReport, type SavedRun } from "./report/render-report.ts";
import { executeMonitor, MonitorUsageError } from "./monitor/monitor-command.ts";
import { executePlan, parsePlanFlags, PlanUsageError } from "./plan/plan-command.ts";

const USAGE = `Usage:
  checkout-loadtest run SCRIPT.yml [-e ENV] [-v '{"name": value}'] [--scenario-name NAME] [--target URL] [--output result.json] [--workers N]
  checkout-loadtest quick --count N --num M [--output result.json] [--workers N] URL
  checkout-loadtest quick --rate R --duration SECONDS [--output result.json] [--workers N] URL
  checkout-loadtest report result.json [--out report.html] [--target-rps N [--headroom 0.3] [--processes 1] [--window 5]]
  checkout-loadtest plan result.json [--target-rps N] [--headroom 0.3] [--processes 1] [--window 5] [--json]
  checkout-loadtest monitor URL [--interval S] [--duration D] [--deep URL] [--timeout MS] [--output monitor.json]

Exit codes: 0 thresholds pass, 1 a threshold fails (or the run could not keep to its schedule, or an invariant of
config.plugins.checkout-invariants is violated or could not be checked after the load), 2 script or usage error
(including an admin token missing or refused before the load).
monitor: 0 downtime within the 99.99 % budget for the window, 1 over it.
plan: 0 a plan was made, 2 a usage error or a run that never met its thresholds (--processes: API processes that served the run).`;

class UsageError extends Error {}

function progressLine(snapshot: ProgressSnapshot): string {
  const { counters, interval } = snapshot;
  const errors = Object.values(counters.errors).reduce((a, b) => a + b, 0) + counters.unexpectedStatus;
  return [
    `${(snapshot.elapsedMs / 1000).toFixed(0)}s`,
    `arrivals/s ${interval.vusersCreated}`,
    `responses/s ${interval.responses}`,
    `p95 ${interval.latency.p95.toFixed(1)} ms`,
    `errors ${errors}`,
    `dropped ${counters.vusersDropped}`,
    `late ${counters.arrivalsLate}`,
  ].join("  ");
}

async function execute(script: Script, output: string | undefined, workers: number | undefined): Promise<number> {
  // Checked before any load: a missing or refused admin token is exit 2 now, not after the run.
  const invariants = await prepareInvariants(script);
  const isTty = process.stderr.isTTY === true;
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  const result: RunResult = await runScriptParallel(script, {
    workers: workers ?? defaultWorkerCount(script),
    signal: controller.signal,
    onProgress: isTty ? (snapshot) => process.stderr.write(`\r\x1b[2K${progressLine(snapshot)}`) : undefined,
  });
  if (isTty) process.stderr.write("\n");
  const summary = summarize(result);
  const report = await judgeInvariants(evaluateEnsure({ ensure: script.ensure, result }), invariants, result.acknowledgedOrders);
  if (output) writeFileSync(output, JSON.stringify({ ...result, verdicts: report.verdicts, ensure: script.ensure } satisfies SavedRun));
  const c = summary.counters;
  const lines = [
    `virtual users: ${c.vusersCreated} created, ${c.vusersCompleted} completed, ${c.vusersFailed} failed, ${c.vusersDropped} dropped, ${c.arrivalsLate} late`,
    `requests: ${c.requests}, responses: ${c.responses} (${
      Object.entries(c.statusCodes)
        .map(([code, n]) => `${code}: ${n}`)
        .join(", ") || "none"
    })`,
    `errors: ${
      Object.entries(c.errors)
        .map(([kind, n]) => `${kind}: ${n}`)
        .join(", ") || "none"
    }; unexpected status: ${c.unexpectedStatus}`,
    `latency from intended start (ms): p50 ${summary.latency.p50.toFixed(1)}  p95 ${summary.latency.p95.toFixed(1)}  p99 ${summary.latency.p99.toFixed(1)}  max ${summary.latency.max.toFixed(1)}`,
    `throughput: ${summary.rates.responses.toFixed(1)} responses/s over ${(summary.durationMs / 1000).toFixed(1)} s`,
    ...report.verdicts.map((v) => `${v.passed ? "pass" : "FAIL"}  ${v.message}`),
    report.isOnSchedule
      ? "schedule: the planned arrivals were applied (see the arrivals verdict above)"
      : "FAIL  schedule: the generator could not keep up (late or dropped arrivals); the load claimed was not applied",
    report.passed ? "verdict: PASS" : "verdict: FAIL",
  ];
  console.log(lines.join("\n"));
  return report.passed ? 0 : 1;
}

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new UsageError(`${name} must be a positive number, got "${value}"`);
  return parsed;
}

/** --workers: load-generating threads; without it, defaultWorkerCount decides from the planned peak rate. */
function workerCount(value: string | undefined): number | undefined {
  const parsed = number(value, "--workers");
  if (parsed !== undefined && !Number.isInteger(parsed)) throw new UsageError(`--workers must be a whole number, got "${value}"`);
  return parsed;
}

async function main(argv: string[]): Promise<number> {
  // --help (or -h, or `help`) anywhere: the usage, and nothing else.
  if (argv.some((arg) => arg === "--help" || arg === "-h") || argv[0] === "help") {
    console.log(USAGE);
    return 0;
  }
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      target: { type: "string", short: "t" },
      environment: { type: "string", short: "e" },
      variables: { type: "string", short: "v" },
      "scenario-name": { type: "string" },
      output: { type: "string", short: "o" },
      count: { type: "string" },
      num: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      interval: { type: "string" },
      deep: { type: "string" },
      timeout: { type: "string" },
      out: { type: "string" },
      workers: { type: "string" },
      "target-rps": { type: "string" },
      headroom: { type: "string" },
      processes: { type: "string" },
      window: { type: "string" },
      json: { type: "boolean" },
    },
  });
  switch (command) {
    case "run": {
      const file = positionals[0];
      if (!file) throw new UsageError("run needs a script file");
      const text = readFileSync(file, "utf8");
      const script = parseScript(text, {
        path: file,
        baseDir: path.dirname(path.resolve(file)),
        targetOverride: values.target,
        environment: values.environment,
        variablesJson: values.variables,
        scenarioName: values["scenario-name"],
      });
      return execute(script, values.output, workerCount(values.workers));
    }
    case "quick": {
      const url = positionals[0];
      if (!url) throw new UsageError("quick needs a URL");
      const rate = number(values.rate, "--rate");
      const script = rate
        ? quickScript({ url, rate, duration: number(values.duration, "--duration") ?? 10 })
        : quickScript({ url, count: number(values.count, "--count") ?? 1, num: number(values.num, "--num") ?? 1 });
      return execute(script, values.output, workerCount(values.workers));
    }
    case "monitor":
      return executeMonitor({ url: positionals[0], ...values });
    case "report": {
      const file = positionals[0];
      if (!file) throw new UsageError("report needs a result.json written by run --output");
      const saved = JSON.parse(readFileSync(file, "utf8")) as SavedRun;
      if (saved.version !== 1 || !saved.histograms) throw new UsageError(`${file} is not a result written by run --output`);
      const out = values.out ?? `${file.replace(/\.json$/i, "")}.html`;
      writeFileSync(out, renderReport(saved, { plan: parsePlanFlags(values) }));
      console.log(`report written to ${out}`);
      return 0;
    }
    case "plan":
      return executePlan({ file: positionals[0], ...values });
    default:
      throw new UsageError(command ? `unknown command "${command}"` : "no command given");
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ScriptError || error instanceof UsageError || error instanceof MonitorUsageError || error instanceof PlanUsageError) {
      const isUsage = error instanceof UsageError || error instanceof MonitorUsageError || error instanceof PlanUsageError;
      console.error(isUsage ? `${error.message}\n\n${USAGE}` : error.message);
      process.exit(2);
    }
    if (error instanceof Error && "code" in error && (error as NodeJS.ErrnoException).code === "ENOENT") {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error);
    process.exit(3);
  },
);
