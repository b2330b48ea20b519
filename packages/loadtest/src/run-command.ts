// `run` and `quick`: run a script's load (here, or later spread over generators), judge it once on the whole result
// (thresholds, `ensure` conditions, the shop's invariants, the schedule) and print the verdict.
import { writeFileSync } from "node:fs";
import type { Script } from "./script/script-types.ts";
import type { ProgressSnapshot } from "./engine/run-script.ts";
import { defaultWorkerCount, runScriptParallel } from "./engine/run-parallel.ts";
import { summarize, type RunResult } from "./engine/run-result.ts";
import { evaluateEnsure } from "./engine/ensure.ts";
import { errorsLine, failureLines } from "./engine/failure-causes.ts";
import { judgeInvariants, prepareInvariants } from "./invariants/invariants-step.ts";
import type { SavedRun } from "./report/render-report.ts";
import { writeCiOutputs } from "./ci/ci-outputs.ts";
import { isGithubActions } from "./ci/github-actions.ts";
import type { SummaryMeta } from "./ci/summary.ts";
import { startRunDashboard, type DashboardFlags } from "./dashboard/run-dashboard.ts";

export interface RunCommandOptions {
  /** Where to save the result (`--output`), for `report`, `plan` and `compare`. */
  output?: string;
  /** Load-generating threads in this process (`--workers`); without it, decided from the planned peak. */
  workers?: number;
  /** `--summary FILE` and `--junit FILE`: the CI outputs (ci/ci-outputs.ts). */
  summary?: string;
  junit?: string;
  /** What the summary names as the script: its file (null for `quick`), environment and scenario. */
  described?: SummaryMeta["script"];
  /** `--dashboard [PORT]` (and `--dashboard-linger`): a live page of the report while the load runs. */
  dashboard?: DashboardFlags;
}

export function progressLine(snapshot: ProgressSnapshot): string {
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

/** Runs `script`, prints the summary and the verdict; resolves to the exit code (0 pass, 1 fail). */
export async function executeRun(script: Script, options: RunCommandOptions): Promise<number> {
  // Checked before any load: a missing or refused admin token is exit 2 now, not after the run.
  const invariants = await prepareInvariants(script);
  const dashboard = options.dashboard ? await startRunDashboard(options.dashboard, options.described?.path ?? script.target) : undefined;
  const isTty = process.stderr.isTTY === true;
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  const result: RunResult = await runScriptParallel(script, {
    workers: options.workers ?? defaultWorkerCount(script),
    signal: controller.signal,
    onProgress:
      isTty || dashboard
        ? (snapshot) => {
            if (isTty) process.stderr.write(`\r\x1b[2K${progressLine(snapshot)}`);
            dashboard?.publish(snapshot);
          }
        : undefined,
  });
  if (isTty) process.stderr.write("\n");
  const summary = summarize(result);
  const report = await judgeInvariants(evaluateEnsure({ ensure: script.ensure, result }), invariants, result.acknowledgedOrders);
  const saved: SavedRun = { ...result, verdicts: report.verdicts, ensure: script.ensure };
  if (options.output) writeFileSync(options.output, JSON.stringify(saved));
  if (options.summary || options.junit || isGithubActions()) {
    const meta = { script: options.described ?? { path: null }, target: script.target };
    writeCiOutputs(saved, { summary: options.summary, junit: options.junit, githubActions: isGithubActions(), stepSummary: process.env.GITHUB_STEP_SUMMARY, meta });
  }
  const c = summary.counters;
  const lines = [
    `virtual users: ${c.vusersCreated} created, ${c.vusersCompleted} completed, ${c.vusersFailed} failed, ${c.vusersDropped} dropped, ${c.arrivalsLate} late`,
    `requests: ${c.requests}, responses: ${c.responses} (${
      Object.entries(c.statusCodes)
        .map(([code, n]) => `${code}: ${n}`)
        .join(", ") || "none"
    })`,
    errorsLine(c),
    ...failureLines(c),
    `latency from intended start (ms): p50 ${summary.latency.p50.toFixed(1)}  p95 ${summary.latency.p95.toFixed(1)}  p99 ${summary.latency.p99.toFixed(1)}  max ${summary.latency.max.toFixed(1)}`,
    `throughput: ${summary.rates.responses.toFixed(1)} responses/s over ${(summary.durationMs / 1000).toFixed(1)} s`,
    ...report.verdicts.map((v) => `${v.passed ? "pass" : "FAIL"}  ${v.message}`),
    report.isOnSchedule
      ? "schedule: the planned arrivals were applied (see the arrivals verdict above)"
      : "FAIL  schedule: the generator could not keep up (late or dropped arrivals); the load claimed was not applied",
    report.passed ? "verdict: PASS" : "verdict: FAIL",
  ];
  console.log(lines.join("\n"));
  await dashboard?.end(saved);
  return report.passed ? 0 : 1;
}
