// The files of one distributed run, under its run id in the store, and what each holds:
//   <runId>/job.json                                  the script, the generator count, the common start, the interval
//   <runId>/generators/<i>/intervals/<startMs>.json   generator i's part of one closed interval, and how it kept up
//   <runId>/generators/<i>/result.json                generator i's final RunResult (its acknowledged orders included)
//   <runId>/generators/<i>/error.json                 why generator i failed, when it did
import { randomBytes } from "node:crypto";
import type { IntervalResult, RunCounters, RunResult } from "../engine/run-result.ts";
import type { Script } from "../script/script-types.ts";
import type { ResultStore } from "./result-store.ts";

export interface DistributedJob {
  version: 1;
  runId: string;
  /** The parsed script; each generator runs its shard of it (and its share of every payload's rows). */
  script: Script;
  /** Generators in the run: generator i runs arrivals i, i + count, i + 2·count, … */
  count: number;
  /** The common start of every generator's schedule, epoch ms. */
  startAt: number;
  intervalMs: number;
  lateThresholdMs: number;
  /** Keep-alive sockets per origin in each generator; null for one per concurrent request; absent for the default. */
  connectionsPerOrigin?: number | null;
}

/** How a generator kept up while one interval's figures were gathered: its own load, not the target's. */
export interface GeneratorIntervalStats {
  /** CPU time (user + system) the generator's process used since its previous report, ms. */
  cpuMs: number;
  /** Wall-clock time since its previous report (since its start for the first), ms. */
  wallMs: number;
  /** Largest lateness of an arrival it launched since its previous report, ms. */
  maxLagMs: number;
  /** How long after the job's common start its schedule began, ms (0 when on time). */
  startLagMs: number;
  /** Arrivals dropped (a phase's maxVusers alive) since its previous report. */
  droppedArrivals: number;
  /** Arrivals launched later than the late threshold since its previous report. */
  lateArrivals: number;
}

/** One generator's part of one closed interval. */
export interface IntervalReport {
  version: 1;
  index: number;
  /** The interval's own figures, its latency histogram encoded. */
  interval: IntervalResult;
  /** How much each of the generator's running counters grew since its previous report (they add up to its final counters). */
  countersDelta: RunCounters;
  stats: GeneratorIntervalStats;
}

export interface GeneratorError {
  version: 1;
  index: number;
  message: string;
  stack?: string;
  /** When it failed, epoch ms. */
  at: number;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidRunId(runId: string): boolean {
  return RUN_ID.test(runId);
}

/** A new run id: when it was made (UTC, to the second) and a random suffix, e.g. `20260103T081500Z-3f9a1c`. */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

export const runFiles = {
  job: (runId: string) => `${runId}/job.json`,
  generatorsPrefix: (runId: string) => `${runId}/generators/`,
  generatorPrefix: (runId: string, index: number) => `${runId}/generators/${index}/`,
  interval: (runId: string, index: number, startMs: number) => `${runId}/generators/${index}/intervals/${startMs}.json`,
  result: (runId: string, index: number) => `${runId}/generators/${index}/result.json`,
  error: (runId: string, index: number) => `${runId}/generators/${index}/error.json`,
};

export type GeneratorFile = { index: number; kind: "interval"; startMs: number } | { index: number; kind: "result" } | { index: number; kind: "error" };

/** What a key under `<runId>/generators/` is, or undefined for anything else (a stray file is ignored). */
export function parseGeneratorKey(runId: string, key: string): GeneratorFile | undefined {
  const prefix = runFiles.generatorsPrefix(runId);
  if (!key.startsWith(prefix)) return undefined;
  const match = /^(\d+)\/(?:intervals\/(\d+)\.json|(result|error)\.json)$/.exec(key.slice(prefix.length));
  if (!match) return undefined;
  const index = Number(match[1]);
  if (match[2] !== undefined) return { index, kind: "interval", startMs: Number(match[2]) };
  return { index, kind: match[3] as "result" | "error" };
}

/** A file in the store that is not the JSON it should be. */
export class CorruptFileError extends Error {
  override readonly name = "CorruptFileError";
}

async function readJson<T>(store: ResultStore, key: string): Promise<T | undefined> {
  const text = await store.read(key);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CorruptFileError(`${store.url}/${key} is not JSON`);
  }
}

const writeJson = (store: ResultStore, key: string, value: unknown) => store.write(key, JSON.stringify(value));

export const writeJob = (store: ResultStore, job: DistributedJob) => writeJson(store, runFiles.job(job.runId), job);
export const writeIntervalReport = (store: ResultStore, runId: string, report: IntervalReport) =>
  writeJson(store, runFiles.interval(runId, report.index, report.interval.startMs), report);
export const writeGeneratorResult = (store: ResultStore, runId: string, index: number, result: RunResult) => writeJson(store, runFiles.result(runId, index), result);
export const writeGeneratorError = (store: ResultStore, runId: string, error: GeneratorError) => writeJson(store, runFiles.error(runId, error.index), error);

export async function readJob(store: ResultStore, runId: string): Promise<DistributedJob | undefined> {
  const job = await readJson<DistributedJob>(store, runFiles.job(runId));
  if (job !== undefined && (job.version !== 1 || job.runId !== runId || !job.script || !Number.isInteger(job.count))) {
    throw new Error(`${store.url}/${runFiles.job(runId)} is not a job of this version of the load tester`);
  }
  return job;
}

export async function readGeneratorFile<T extends IntervalReport | RunResult | GeneratorError>(store: ResultStore, key: string): Promise<T | undefined> {
  return readJson<T>(store, key);
}

/** A script or shard that cannot be split over `count` generators. */
export class DistributedUsageError extends Error {
  override readonly name = "DistributedUsageError";
}

/** Every payload must have a row for each generator: rows are shared out, never given to two generators. */
export function checkPayloadsSplit(script: Pick<Script, "payloads">, count: number): void {
  for (const payload of script.payloads) {
    if (payload.rows.length < count) {
      throw new DistributedUsageError(
        `payload ${payload.path} has ${payload.rows.length} row${payload.rows.length === 1 ? "" : "s"}, fewer than the ${count} generators: each generator needs rows of its own`,
      );
    }
  }
}

/** The script generator `index` of `count` runs: every payload keeps only rows index, index + count, … */
export function partitionPayloads(script: Script, { index, count }: { index: number; count: number }): Script {
  checkPayloadsSplit(script, count);
  return { ...script, payloads: script.payloads.map((payload) => ({ ...payload, rows: payload.rows.filter((_, row) => row % count === index) })) };
}
