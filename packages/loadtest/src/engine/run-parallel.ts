// Runs a script's arrival schedule in shards on worker threads, so every core can generate load, and merges
// their progress and results exactly.
import os from "node:os";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import type { Script, Step } from "../script/script-types.ts";
import {
  createCounters,
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeRunResults,
  summarizeEncoded,
  summarizeHistogram,
  type RunCounters,
  type RunResult,
} from "./run-result.ts";
import { runScript, type ProgressSnapshot, type RunOptions } from "./run-script.ts";
import { mergeFailureCauses } from "./failure-causes.ts";
import type { FromWorker, ToWorker, WorkerInput } from "./run-worker.ts";

export interface ParallelRunOptions extends Omit<RunOptions, "shard" | "startAt" | "progressHistograms"> {
  /** Worker threads, each running every `workers`-th arrival. 1 runs in this thread, without a worker. */
  workers: number;
}

/**
 * The planned peak a single thread is trusted with before another worker is added, in requests per second. One
 * thread holds several times this open-model against a hello-world target (docs/BENCHMARKS.md, engine section);
 * real targets send bigger responses and scripts render templates and parse captures, so the default keeps a margin.
 */
export const REQUESTS_PER_WORKER = 8000;

/** Requests per virtual user: each scenario's requests (loops multiplied), averaged by weight. */
function requestsPerVuser(script: Script): number {
  const count = (steps: Step[]): number => steps.reduce((sum, step) => sum + (step.kind === "request" ? 1 : step.kind === "loop" ? step.count * count(step.steps) : 0), 0);
  const totalWeight = script.scenarios.reduce((sum, s) => sum + s.weight, 0);
  if (totalWeight <= 0) return 0;
  return script.scenarios.reduce((sum, s) => sum + (s.weight / totalWeight) * count(s.flow), 0);
}

/** The highest request rate the phases plan (think times ignored, so an upper bound), per second. */
export function plannedPeakRequestRate(script: Script): number {
  const arrivals = Math.max(
    0,
    ...script.phases.map((phase) => (phase.arrivalCount !== undefined ? phase.arrivalCount / Math.max(phase.duration, 1e-9) : Math.max(phase.arrivalRate ?? 0, phase.rampTo ?? 0))),
  );
  return arrivals * requestsPerVuser(script);
}

/**
 * The default number of workers: one (this thread) until the planned peak needs more than REQUESTS_PER_WORKER per
 * thread, and never more than the cores minus one, which is left to the main thread, the OS and, often, the target.
 */
export function defaultWorkerCount(script: Script, cores = os.availableParallelism()): number {
  const wanted = Math.ceil(plannedPeakRequestRate(script) / REQUESTS_PER_WORKER);
  return Math.max(1, Math.min(wanted, cores - 1));
}

/** The worker entry; a .ts source gets tsx registered inside the worker first (Node 20 ignores --import in a Worker's execArgv). */
function startWorker(input: WorkerInput): Worker {
  const entry = new URL("./run-worker.ts", import.meta.url).href;
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: input });
}

/** Adds counters key by key (the error, status and vuser-error tables by name). */
export function sumCounters(all: readonly RunCounters[]): RunCounters {
  const sum = createCounters();
  for (const counters of all) {
    for (const key of Object.keys(sum) as (keyof RunCounters)[]) {
      const value = counters[key];
      if (typeof value === "number") (sum[key] as number) += value;
    }
    for (const key of ["errors", "statusCodes", "vuserErrors"] as const) {
      for (const [name, count] of Object.entries(counters[key])) sum[key][name] = (sum[key][name] ?? 0) + count;
    }
  }
  sum.failures = mergeFailureCauses(all.map((counters) => counters.failures));
  return sum;
}

/** Merges the workers' snapshots of one interval: counts add, the latency histograms add. */
function mergeSnapshots(parts: readonly ProgressSnapshot[], latestCounters: readonly RunCounters[]): ProgressSnapshot {
  const histogram = createLatencyHistogram();
  for (const part of parts) {
    if (!part.interval.encodedLatency) continue;
    const decoded = decodeHistogram(part.interval.encodedLatency);
    histogram.add(decoded);
    decoded.destroy();
  }
  const first = parts[0]!;
  const snapshot: ProgressSnapshot = {
    elapsedMs: Math.max(...parts.map((p) => p.elapsedMs)),
    counters: sumCounters(latestCounters),
    interval: {
      startMs: first.interval.startMs,
      requests: parts.reduce((s, p) => s + p.interval.requests, 0),
      responses: parts.reduce((s, p) => s + p.interval.responses, 0),
      errors: parts.reduce((s, p) => s + p.interval.errors, 0),
      unexpected: parts.reduce((s, p) => s + (p.interval.unexpected ?? 0), 0),
      serverErrors: parts.reduce((s, p) => s + (p.interval.serverErrors ?? 0), 0),
      vusersCreated: parts.reduce((s, p) => s + p.interval.vusersCreated, 0),
      latency: summarizeHistogram(histogram),
      encodedLatency: encodeHistogram(histogram),
    },
  };
  histogram.destroy();
  return snapshot;
}

/** Runs `script` split over `options.workers` worker threads and returns the exact merge of their results. */
export async function runScriptParallel(script: Script, options: ParallelRunOptions): Promise<RunResult> {
  const { workers: count, signal, onProgress, ...shared } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`workers must be a whole number of at least 1, got ${count}`);
  // Histograms with the progress whenever someone reads it (the live dashboard draws whole-run percentiles from them).
  if (count === 1) return runScript(script, { ...shared, signal, onProgress, progressHistograms: onProgress !== undefined });

  const workers = Array.from({ length: count }, (_, index) => startWorker({ script, shard: { index, count }, options: shared, withProgress: onProgress !== undefined }));
  const send = (message: ToWorker) => {
    for (const worker of workers) worker.postMessage(message);
  };
  const onAbort = () => send({ type: "abort" });
  signal?.addEventListener("abort", onAbort, { once: true });

  // Progress: an interval is shown once every worker has closed it (a finished worker has closed all of its own).
  const latestCounters = workers.map(() => createCounters());
  const closedUpTo = workers.map(() => Number.NEGATIVE_INFINITY);
  const pending = new Map<number, ProgressSnapshot[]>();
  const flush = () => {
    const closedByAll = Math.min(...closedUpTo);
    for (const startMs of [...pending.keys()].sort((a, b) => a - b)) {
      if (startMs > closedByAll) break;
      const parts = pending.get(startMs) ?? [];
      pending.delete(startMs);
      onProgress?.(mergeSnapshots(parts, latestCounters));
    }
  };

  try {
    const results = await new Promise<RunResult[]>((resolve, reject) => {
      const results: (RunResult | undefined)[] = workers.map(() => undefined);
      let ready = 0;
      let isSettled = false;
      const fail = (index: number, message: string, cause?: unknown) => {
        if (isSettled) return;
        isSettled = true;
        reject(new Error(`load-generator worker ${index + 1} of ${count} failed: ${message}`, { cause }));
      };
      workers.forEach((worker, index) => {
        worker.on("message", (message: FromWorker) => {
          switch (message.type) {
            case "ready":
              // Every shard starts at the same moment, shortly after the slowest worker has loaded.
              if (++ready === count) send({ type: "start", startAt: performance.timeOrigin + performance.now() + 20 });
              break;
            case "progress": {
              const { startMs } = message.snapshot.interval;
              latestCounters[index] = message.snapshot.counters;
              closedUpTo[index] = startMs;
              pending.set(startMs, [...(pending.get(startMs) ?? []), message.snapshot]);
              flush();
              break;
            }
            case "result":
              results[index] = message.result;
              latestCounters[index] = message.result.counters;
              // Intervals this worker closed only by finishing (never sent as progress) join the pending ones, so
              // the merged snapshot of an interval holds every worker's part of it, as the merged result does.
              for (const interval of message.result.intervals.filter((candidate) => candidate.startMs > closedUpTo[index]!)) {
                const part: ProgressSnapshot = {
                  elapsedMs: interval.startMs,
                  counters: message.result.counters,
                  interval: { ...interval, latency: summarizeEncoded(interval.latency), encodedLatency: interval.latency },
                };
                pending.set(interval.startMs, [...(pending.get(interval.startMs) ?? []), part]);
              }
              closedUpTo[index] = Number.POSITIVE_INFINITY;
              flush();
              if (results.every((r) => r !== undefined)) {
                isSettled = true;
                resolve(results as RunResult[]);
              }
              break;
            case "error":
              fail(index, message.message, Object.assign(new Error(message.message), { stack: message.stack }));
              break;
          }
        });
        worker.on("error", (error) => fail(index, error.message, error));
        worker.on("exit", (code) => {
          if (results[index] === undefined) fail(index, `the thread exited (code ${code}) before sending its result`);
        });
      });
    });
    return mergeRunResults(results);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
