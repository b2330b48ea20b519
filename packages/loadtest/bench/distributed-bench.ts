// The engine benchmark's distributed part: one run spread over two local generator processes (what `run --on local
// --count 2` does) against the same run in one process — same target, script, rate and duration — and a check that
// the merged result holds exactly the responses the target answered.
import { setTimeout as sleep } from "node:timers/promises";
import { runDistributed } from "../src/distributed/coordinator.ts";
import { launcherFor } from "../src/distributed/launcher-for.ts";
import { LocalLauncher } from "../src/distributed/local-launcher.ts";
import { readGeneratorFile, runFiles } from "../src/distributed/run-files.ts";
import { defaultWorkerCount, runScriptParallel } from "../src/engine/run-parallel.ts";
import { countRequestErrors, decodeHistogram, summarize, type RunResult } from "../src/engine/run-result.ts";
import { quickScript } from "../src/script/quick-script.ts";
import { startProcessesWindow, type ProcessesShares } from "./cpu.ts";
import type { SustainRule } from "./engine-report.ts";

/** The target's count of requests it answered (hello-server.ts keeps the same path). */
export const ANSWERED_PATH = "/requests-answered";

/** Generators in the distributed run. */
export const GENERATOR_COUNT = 2;

export interface GeneratorRow {
  index: number;
  id: string;
  planned: number;
  created: number;
  responses: number;
  dropped: number;
  late: number;
  maxLagMs: number;
  startLagMs: number;
  /** Percent of one core, from its own interval files (CPU time over the wall time they cover), as the CLI's table shows. */
  reportedCpu: number;
  failure?: string;
}

export interface DistributedSide {
  kind: "one process" | "distributed";
  planned: number;
  created: number;
  responses: number;
  errors: number;
  dropped: number;
  late: number;
  maxLatenessMs: number;
  p50: number;
  p99: number;
  /** Responses per second over the schedule's length. */
  throughput: number;
  /** The result's own span (schedule start to the last response), s: longer than the schedule when it fell behind. */
  spanSeconds: number;
  /** /proc, over the schedule: this process (the engine, or the coordinator), the server, each generator, the rest. */
  cpu: ProcessesShares;
  generators: GeneratorRow[];
  /** Samples in the (merged) latency histogram. */
  histogramCount: number;
  /** Distributed: the samples in the generators' own result histograms, added. */
  partsHistogramCount: number | null;
  /** Requests the target answered during the run (its own count, before and after). */
  targetAnswered: number;
  isExact: boolean;
  /** Why it was not sustained by the engine steps' rule; empty when it was. */
  failures: string[];
}

export interface DistributedRound {
  oneProcess: DistributedSide;
  distributed: DistributedSide;
}

export interface DistributedComparison {
  rate: number;
  /** How the rate was chosen. */
  rateSource: string;
  seconds: number;
  startDelayMs: number;
  count: number;
  /** Load-generating threads of the one-process run (the CLI's default for this script on this machine). */
  oneProcessThreads: number;
  rounds: DistributedRound[];
}

export interface DistributedBenchOptions {
  url: string;
  serverPid: number;
  rate: number;
  seconds: number;
  startDelayMs: number;
  rounds: number;
  /** The local store's folder (the run's job, interval files and results). */
  storeFolder: string;
  rule: SustainRule;
  signal: AbortSignal;
  log(message: string): void;
}

async function targetAnswered(url: string): Promise<number> {
  const response = await fetch(`${url}${ANSWERED_PATH}`);
  return ((await response.json()) as { answered: number }).answered;
}

function histogramCount(encoded: string): number {
  const histogram = decodeHistogram(encoded);
  const count = histogram.totalCount;
  histogram.destroy();
  return count;
}

/** CPU over [now + startInMs, + seconds]: the schedule, without the generators' boot or the coordinator's last reads. */
async function scheduleWindow(serverPid: number, pids: () => (number | undefined)[], startInMs: number, seconds: number): Promise<ProcessesShares> {
  await sleep(Math.max(0, startInMs));
  const end = startProcessesWindow(serverPid, pids());
  await sleep(seconds * 1000);
  return end();
}

function describeSide(
  kind: DistributedSide["kind"],
  result: RunResult,
  fields: Pick<DistributedSide, "cpu" | "generators" | "partsHistogramCount" | "targetAnswered"> & { seconds: number; rule: SustainRule; problems: string[] },
): DistributedSide {
  const { counters, latency } = summarize(result);
  const { rule, seconds, problems, ...rest } = fields;
  const histogram = histogramCount(result.histograms.latency);
  const generatorResponses = fields.generators.reduce((sum, g) => sum + g.responses, 0);
  const isExact =
    histogram === counters.responses &&
    histogram === fields.targetAnswered &&
    (kind === "one process" || (histogram === fields.partsHistogramCount && histogram === generatorResponses));
  const errors = countRequestErrors(counters);
  const failures = [...problems];
  if (counters.vusersDropped > 0) failures.push(`${counters.vusersDropped} dropped`);
  if (errors > 0) failures.push(`${errors} errors`);
  if (counters.responses < counters.arrivalsPlanned) failures.push(`${counters.arrivalsPlanned - counters.responses} unanswered`);
  if (counters.arrivalsLate > counters.arrivalsPlanned * rule.maxLateShare) {
    failures.push(`${((100 * counters.arrivalsLate) / Math.max(1, counters.arrivalsPlanned)).toFixed(1)} % late`);
  }
  if (latency.p99 > rule.maxP99Ms) failures.push(`p99 ${latency.p99.toFixed(0)} ms`);
  if (!isExact) failures.push("counts disagree");
  return {
    kind,
    planned: counters.arrivalsPlanned,
    created: counters.vusersCreated,
    responses: counters.responses,
    errors,
    dropped: counters.vusersDropped,
    late: counters.arrivalsLate,
    maxLatenessMs: result.maxLatenessMs,
    p50: latency.p50,
    p99: latency.p99,
    throughput: counters.responses / seconds,
    spanSeconds: result.durationMs / 1000,
    histogramCount: histogram,
    isExact,
    failures,
    ...rest,
  };
}

/** The run in this process, as `run` without `--on` runs it (its default thread count for this script). */
async function runOneProcess(options: DistributedBenchOptions): Promise<DistributedSide> {
  const { url, serverPid, rate, seconds, rule } = options;
  const script = quickScript({ url: `${url}/`, rate, duration: seconds });
  const before = await targetAnswered(url);
  const window = scheduleWindow(serverPid, () => [], 0, seconds);
  const result = await runScriptParallel(script, { workers: defaultWorkerCount(script), lateThresholdMs: rule.lateThresholdMs, signal: options.signal });
  const cpu = await window;
  const answered = (await targetAnswered(url)) - before;
  return describeSide("one process", result, { cpu, generators: [], partsHistogramCount: null, targetAnswered: answered, seconds, rule, problems: [] });
}

/** The same run over GENERATOR_COUNT local generator processes, through the launcher and store `--on local` uses. */
async function runOnLocalGenerators(options: DistributedBenchOptions): Promise<DistributedSide> {
  const { url, serverPid, rate, seconds, rule, log } = options;
  const script = quickScript({ url: `${url}/`, rate, duration: seconds });
  const { launcher, store } = await launcherFor("local", { storeUrl: options.storeFolder, local: { onOutput: (index, line) => log(`  generator ${index}: ${line}`) } });
  const pids = () => Array.from({ length: GENERATOR_COUNT }, (_, index) => (launcher instanceof LocalLauncher ? launcher.pid(index) : undefined));
  try {
    const before = await targetAnswered(url);
    let window: Promise<ProcessesShares> | undefined;
    const outcome = await runDistributed(script, {
      launcher,
      store,
      count: GENERATOR_COUNT,
      startDelayMs: options.startDelayMs,
      lateThresholdMs: rule.lateThresholdMs,
      signal: options.signal,
      onLaunched: (_generators, job) => {
        window = scheduleWindow(serverPid, pids, job.startAt - Date.now(), seconds);
      },
    });
    const cpu = window ? await window : startProcessesWindow(serverPid, [])();
    const answered = (await targetAnswered(url)) - before;
    const parts = await Promise.all(outcome.generators.map((g) => readGeneratorFile<RunResult>(store, runFiles.result(outcome.runId, g.index)).catch(() => undefined)));
    const partsHistogramCount = parts.reduce((sum, part) => sum + (part ? histogramCount(part.histograms.latency) : 0), 0);
    const generators: GeneratorRow[] = outcome.generators.map((g) => ({
      index: g.index,
      id: g.id,
      planned: g.arrivalsPlanned,
      created: g.vusersCreated,
      responses: g.responses,
      dropped: g.droppedArrivals,
      late: g.lateArrivals,
      maxLagMs: g.maxLagMs,
      startLagMs: g.startLagMs,
      reportedCpu: 100 * g.cpuShare,
      ...(g.failure ? { failure: g.failure } : {}),
    }));
    const problems = [
      ...outcome.failed.map((f) => `generator ${f.index} failed: ${f.reason}`),
      ...generators.filter((g) => g.startLagMs > rule.lateThresholdMs).map((g) => `generator ${g.index} started ${Math.round(g.startLagMs)} ms late`),
    ];
    return describeSide("distributed", outcome.result, { cpu, generators, partsHistogramCount, targetAnswered: answered, seconds, rule, problems });
  } finally {
    store.close();
  }
}

function describeRun(side: DistributedSide): string {
  return (
    `${side.kind}: ${side.responses}/${side.planned} answered, ${Math.round(side.throughput)}/s, ${side.dropped} dropped, ${side.late} late, ` +
    `p50 ${side.p50.toFixed(2)} ms, p99 ${side.p99.toFixed(2)} ms, counts ${side.isExact ? "exact" : "DISAGREE"}` +
    (side.generators.length ? `; start lag ${side.generators.map((g) => `${Math.round(g.startLagMs)} ms`).join(", ")}` : "")
  );
}

/** Each round: the one-process run, then the distributed one, back to back. */
export async function measureDistributed(options: DistributedBenchOptions): Promise<DistributedRound[]> {
  const rounds: DistributedRound[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const oneProcess = await runOneProcess(options);
    options.log(`distributed round ${round}, ${describeRun(oneProcess)}`);
    const distributed = await runOnLocalGenerators(options);
    options.log(`distributed round ${round}, ${describeRun(distributed)}`);
    rounds.push({ oneProcess, distributed });
  }
  return rounds;
}
