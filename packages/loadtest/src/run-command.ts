// `run` and `quick`: run a script's load (in this process, or spread over generators with --on local|fargate --count N),
// judge it once on the whole result (thresholds, `ensure` conditions, the shop's invariants, the schedule and, for a
// distributed run, its generators) and print the verdict.
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
import { runDistributed, type DistributedOutcome } from "./distributed/coordinator.ts";
import { formatGeneratorTable, generatorVerdicts } from "./distributed/generator-report.ts";
import { launcherFor, type GeneratorPlatform } from "./distributed/launcher-for.ts";
import { estimateFargateCost, formatFargateCost } from "./distributed/fargate-cost.ts";
import { buildArrivalSchedule } from "./engine/schedule.ts";

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
  /** `--on local|fargate --count N`: the load spread over N generators, merged and judged once here. */
  distributed?: { on: GeneratorPlatform; count: number; store?: string; fargateConfigFile?: string; startDelayMs?: number };
}

/** A Fargate generator's size, as stacks/LoadGenerators.ts defines the task (1 vCPU, 2 GiB), for the cost estimate. */
const FARGATE_GENERATOR = { cpu: 1024, memoryMiB: 2048 } as const;

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
  const onProgress =
    isTty || dashboard
      ? (snapshot: ProgressSnapshot) => {
          if (isTty) process.stderr.write(`\r\x1b[2K${progressLine(snapshot)}`);
          dashboard?.publish(snapshot);
        }
      : undefined;
  let outcome: DistributedOutcome | undefined;
  let result: RunResult;
  if (options.distributed) {
    outcome = await runOnGenerators(script, options.distributed, controller.signal, onProgress);
    result = outcome.result;
  } else {
    result = await runScriptParallel(script, { workers: options.workers ?? defaultWorkerCount(script), signal: controller.signal, onProgress });
  }
  if (isTty) process.stderr.write("\n");
  const summary = summarize(result);
  // One verdict on the merged result: the invariants check every generator's acknowledged orders together.
  const judged = await judgeInvariants(evaluateEnsure({ ensure: script.ensure, result }), invariants, result.acknowledgedOrders);
  const generatorChecks = outcome ? generatorVerdicts(outcome) : [];
  const report = { ...judged, passed: judged.passed && generatorChecks.every((v) => v.passed), verdicts: [...judged.verdicts, ...generatorChecks] };
  const saved: SavedRun = { ...result, verdicts: report.verdicts, ensure: script.ensure };
  if (options.output) writeFileSync(options.output, JSON.stringify(saved));
  if (options.summary || options.junit || isGithubActions()) {
    const generators = outcome?.generators.map((g) => {
      const failure = outcome?.failed.find((f) => f.index === g.index);
      return {
        index: g.index,
        id: g.id,
        platform: options.distributed?.on ?? "local",
        passed: !failure && g.hasResult,
        message: failure ? failure.reason : `${g.vusersCreated}/${g.arrivalsPlanned} arrivals, ${g.responses} responses, CPU ${(g.cpuShare * 100).toFixed(0)} % of a core`,
        requests: g.hasResult ? g.requests : null,
      };
    });
    const meta = { script: options.described ?? { path: null }, target: script.target, ...(generators ? { generators } : {}) };
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
    ...(outcome ? [`generators (${outcome.generators.length}, ${options.distributed?.on}; run ${outcome.runId} in ${outcome.storeUrl}):`, formatGeneratorTable(outcome)] : []),
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

/** Spreads the run over generators: the cost first (Fargate), their ids once started, the merged result at the end. */
async function runOnGenerators(
  script: Script,
  distributed: NonNullable<RunCommandOptions["distributed"]>,
  signal: AbortSignal,
  onProgress: ((snapshot: ProgressSnapshot) => void) | undefined,
): Promise<DistributedOutcome> {
  const setup = await launcherFor(distributed.on, { storeUrl: distributed.store, fargateConfigFile: distributed.fargateConfigFile });
  const { launcher, store } = setup;
  const startDelayMs = distributed.startDelayMs ?? setup.startDelayMs;
  if (distributed.on === "fargate") {
    const durationMs = buildArrivalSchedule(script.phases).durationMs + startDelayMs;
    const estimate = estimateFargateCost({ count: distributed.count, ...FARGATE_GENERATOR, durationMs });
    console.error(`cost estimate: ${formatFargateCost(estimate)}`);
  }
  try {
    return await runDistributed(script, {
      launcher,
      store,
      count: distributed.count,
      startDelayMs,
      signal,
      onLaunched: (generators) => console.error(`started ${generators.length} generators: ${generators.map((g) => g.id).join(", ")}`),
      onProgress: onProgress ? (progress) => onProgress(progress.snapshot) : undefined,
    });
  } finally {
    await store.close();
  }
}
