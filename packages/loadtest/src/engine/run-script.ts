// Runs a script in the open model: each virtual user starts at its intended time, and latency counts from then.
import type { Script } from "../script/script-types.ts";
import { launchArrivals } from "./arrivals.ts";
import { listEndpointNames, PreparedScript } from "./prepared-script.ts";
import { RunMetrics, type ProgressSnapshot } from "./run-metrics.ts";
import type { RunResult } from "./run-result.ts";
import { RunState } from "./run-state.ts";
import { buildArrivalSchedule, selectShard } from "./schedule.ts";

export type { ProgressSnapshot } from "./run-metrics.ts";

export interface RunOptions {
  onProgress?(snapshot: ProgressSnapshot): void;
  signal?: AbortSignal;
  /** An arrival launched later than this after its intended time counts as late. Default 10 ms. */
  lateThresholdMs?: number;
  /** Length of a time-series interval. Default 1000 ms. */
  intervalMs?: number;
  /**
   * Keep-alive sockets per origin. Default 100: unbounded (null) opens a socket per concurrent request, which hits
   * EMFILE near 8k req/s here; requests queued behind busy sockets still count their wait, from the intended time.
   */
  connectionsPerOrigin?: number | null;
  /** Run only this shard of the arrivals (for worker threads); results merge with mergeRunResults. */
  shard?: { index: number; count: number };
  /** Start the schedule at this moment, as `performance.timeOrigin + performance.now()` (comparable across threads). */
  startAt?: number;
  /** Add each closed interval's encoded latency histogram to the progress snapshots (so shards' progress merges exactly). */
  progressHistograms?: boolean;
}

/** How late an arrival may launch before it counts as late: 10 ms, or LOADTEST_LATE_MS (a whole number of ms, 1 to 60,000). */
export function lateThresholdFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.LOADTEST_LATE_MS;
  if (text === undefined || text === "") return 10;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 60_000) {
    throw new Error(`LOADTEST_LATE_MS is ${JSON.stringify(text)}: use a whole number of milliseconds from 1 to 60000 (an arrival launched later than that counts as late)`);
  }
  return value;
}

export async function runScript(script: Script, options: RunOptions = {}): Promise<RunResult> {
  const lateThresholdMs = options.lateThresholdMs ?? lateThresholdFromEnv();
  const intervalMs = options.intervalMs ?? 1000;
  const connections = options.connectionsPerOrigin === undefined ? 100 : (options.connectionsPerOrigin ?? Number.POSITIVE_INFINITY);
  let schedule = buildArrivalSchedule(script.phases);
  if (options.shard) schedule = selectShard(schedule, options.shard);

  const metrics = new RunMetrics({
    intervalMs,
    lateThresholdMs,
    arrivalsPlanned: schedule.atMs.length,
    endpointNames: listEndpointNames(script),
    acknowledgedVariable: script.invariants?.acknowledgedOrders,
    onProgress: options.onProgress,
    progressHistograms: options.progressHistograms,
  });
  const prepared = new PreparedScript(script, {
    connections,
    timeoutMs: script.http.timeoutSeconds * 1000,
    endpointHistogram: (name) => metrics.endpointHistogram(name),
  });
  const state = new RunState(prepared, metrics, options.signal);
  await state.start(options.startAt);
  await launchArrivals(state, schedule, script.phases);
  return state.finish(schedule.durationMs, intervalMs);
}
