// One load generator of a distributed run: reads the job from the store, waits for the common start, runs its shard of
// the arrivals (with its share of the payload rows), writes each interval as it closes and its result at the end.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { createCounters, type IntervalResult, type RunCounters, type RunResult } from "../engine/run-result.ts";
import { runScript, type ProgressSnapshot } from "../engine/run-script.ts";
import { openResultStore, type ResultStore } from "./result-store.ts";
import { partitionPayloads, readJob, writeGeneratorError, writeGeneratorResult, writeIntervalReport, type DistributedJob, type IntervalReport } from "./run-files.ts";

export interface GeneratorRunOptions {
  storeUrl: string;
  runId: string;
  /** This generator's shard: 0-based index of `count`. */
  index: number;
  count: number;
  /** Stops the run early; the generator still writes what it measured and its (aborted) result. */
  signal?: AbortSignal;
  /** The store to use instead of opening `storeUrl` (it is then left open). */
  store?: ResultStore;
}

/** A generator that cannot run its part: no job, or a job for another number of generators. */
export class GeneratorSetupError extends Error {
  override readonly name = "GeneratorSetupError";
}

/** `a - b` for every counter, and by name for every table of counts (a name whose count did not change is left out). */
export function subtractCounters(a: RunCounters, b: RunCounters): RunCounters {
  const difference = createCounters() as unknown as Record<string, unknown>;
  const later = a as unknown as Record<string, unknown>;
  const earlier = b as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(later), ...Object.keys(difference)])) {
    const value = later[key];
    if (typeof value === "number") {
      difference[key] = value - ((earlier[key] as number | undefined) ?? 0);
    } else if (value && typeof value === "object") {
      const before = (earlier[key] ?? {}) as Record<string, number>;
      const table: Record<string, number> = {};
      for (const name of new Set([...Object.keys(value), ...Object.keys(before)])) {
        const change = ((value as Record<string, number>)[name] ?? 0) - (before[name] ?? 0);
        if (change !== 0) table[name] = change;
      }
      difference[key] = table;
    }
  }
  return difference as unknown as RunCounters;
}

const WRITE_ATTEMPTS = 4;

/**
 * Turns the engine's progress snapshots into interval files, written one after another in the order the intervals
 * closed; each carries how the generator itself kept up (CPU, lag, dropped and late arrivals) since the one before.
 */
class IntervalWriter {
  private queue: Promise<void> = Promise.resolve();
  private lastCounters = createCounters();
  private lastCpu = process.cpuUsage();
  private lastWallAt: number;
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private startLagMs: number | undefined;
  private failedWrites = 0;
  private readonly startAtOnEngineClock: number;

  constructor(
    private readonly store: ResultStore,
    private readonly job: DistributedJob,
    private readonly index: number,
  ) {
    this.lastWallAt = Math.max(Date.now(), job.startAt);
    this.startAtOnEngineClock = toPerformanceTime(job.startAt);
  }

  report(snapshot: ProgressSnapshot): void {
    // The engine hands a snapshot over as it closes the interval: now minus the time elapsed is when it started.
    // On the engine's own clock: Date.now() and performance.now() can disagree by tens of ms within one process.
    this.startLagMs ??= Math.max(0, Math.round(performance.timeOrigin + performance.now() - snapshot.elapsedMs - this.startAtOnEngineClock));
    const { encodedLatency, latency: _summary, ...figures } = snapshot.interval;
    const interval: IntervalResult = { ...figures, latency: encodedLatency ?? "" };
    this.enqueue(interval, snapshot.counters, snapshot.maxLatenessMs ?? 0);
  }

  /** The intervals only the result holds (those closed by the run's end), then waits for every write. */
  async finish(result: RunResult): Promise<{ failedWrites: number }> {
    this.startLagMs ??= Math.max(0, result.startedAt - this.job.startAt);
    for (const interval of result.intervals.filter((candidate) => candidate.startMs > this.lastStartMs)) this.enqueue(interval, result.counters, 0);
    await this.queue;
    return { failedWrites: this.failedWrites };
  }

  private enqueue(interval: IntervalResult, counters: RunCounters, maxLagMs: number): void {
    const now = Date.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const countersDelta = subtractCounters(counters, this.lastCounters);
    const report: IntervalReport = {
      version: 1,
      index: this.index,
      interval,
      countersDelta,
      stats: {
        cpuMs: (cpu.user + cpu.system) / 1000,
        wallMs: Math.max(0, now - this.lastWallAt),
        maxLagMs,
        startLagMs: this.startLagMs ?? 0,
        droppedArrivals: countersDelta.vusersDropped,
        lateArrivals: countersDelta.arrivalsLate,
      },
    };
    this.lastCounters = structuredClone(counters);
    this.lastCpu = process.cpuUsage();
    this.lastWallAt = now;
    this.lastStartMs = interval.startMs;
    this.queue = this.queue.then(() => this.write(report));
  }

  /** A few attempts; an interval that cannot be written is only missing from the live view (result.json has it). */
  private async write(report: IntervalReport): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await writeIntervalReport(this.store, this.job.runId, report);
        return;
      } catch (error) {
        if (attempt >= WRITE_ATTEMPTS) {
          this.failedWrites++;
          process.stderr.write(`interval ${report.interval.startMs} ms could not be written: ${error instanceof Error ? error.message : String(error)}\n`);
          return;
        }
        await sleep(200 * 2 ** attempt);
      }
    }
  }
}

/** The job's epoch-ms start as the engine's clock (`performance.timeOrigin + performance.now()`) reads it here. */
export function toPerformanceTime(epochMs: number): number {
  return epochMs - Date.now() + performance.timeOrigin + performance.now();
}

/**
 * Runs generator `index` of `count`: its shard from the job's common start, interval files as intervals close, then
 * result.json. A failure is written to error.json (when the store can be reached) and thrown.
 */
export async function runGenerator(options: GeneratorRunOptions): Promise<RunResult> {
  const { runId, index, count } = options;
  const store = options.store ?? openResultStore(options.storeUrl);
  try {
    const job = await readJob(store, runId);
    if (!job) throw new GeneratorSetupError(`run ${runId} has no job.json in ${store.url}`);
    if (job.count !== count) throw new GeneratorSetupError(`run ${runId} is split over ${job.count} generators, not ${count}`);
    if (!Number.isInteger(index) || index < 0 || index >= count) throw new GeneratorSetupError(`generator index ${index} is not in 0..${count - 1}`);
    const script = partitionPayloads(job.script, { index, count });
    const writer = new IntervalWriter(store, job, index);
    const result = await runScript(script, {
      shard: { index, count },
      startAt: toPerformanceTime(job.startAt),
      intervalMs: job.intervalMs,
      lateThresholdMs: job.lateThresholdMs,
      ...(job.connectionsPerOrigin !== undefined ? { connectionsPerOrigin: job.connectionsPerOrigin } : {}),
      progressHistograms: true,
      onProgress: (snapshot) => writer.report(snapshot),
      signal: options.signal,
    });
    await writer.finish(result);
    await writeGeneratorResult(store, runId, index, result);
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await writeGeneratorError(store, runId, {
      version: 1,
      index,
      message,
      ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
      at: Date.now(),
    }).catch(() => undefined);
    throw error;
  } finally {
    if (!options.store) store.close();
  }
}
