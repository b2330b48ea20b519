// The coordinator of a distributed run: writes the job, starts the generators through a launcher, follows their
// interval files in the store (merging each interval exactly once every generator is done with it, and again when a
// part comes late), watches the platform for generators that die, and at the end merges every generator's result.
import { setTimeout as sleep } from "node:timers/promises";
import { createCounters, createLatencyHistogram, decodeHistogram, encodeHistogram, mergeRunResults, type IntervalResult, type RunResult } from "../engine/run-result.ts";
import { sumCounters } from "../engine/run-parallel.ts";
import { buildArrivalSchedule, selectShard } from "../engine/schedule.ts";
import type { Script } from "../script/script-types.ts";
import { IntervalMerger, type DistributedProgress } from "./interval-merge.ts";
import type { GeneratorLauncher, GeneratorSpec, GeneratorState, LaunchedGenerator } from "./launcher.ts";
import type { ResultStore } from "./result-store.ts";
import {
  checkPayloadsSplit,
  CorruptFileError,
  DistributedUsageError,
  isValidRunId,
  newRunId,
  parseGeneratorKey,
  readGeneratorFile,
  runFiles,
  writeJob,
  type DistributedJob,
  type GeneratorError,
  type IntervalReport,
} from "./run-files.ts";

export type { DistributedProgress } from "./interval-merge.ts";

/** How long after the job is written the generators start, by default: long enough for them to boot. */
export const DEFAULT_START_DELAY_MS: Record<GeneratorLauncher["kind"], number> = { local: 3000, fargate: 90_000 };

export interface DistributedRunOptions {
  launcher: GeneratorLauncher;
  store: ResultStore;
  /** Generators: each runs every count-th arrival and its share of the payload rows. */
  count: number;
  /** Names the run in the store (letters, digits, `.`, `_`, `-`); default the time and a random suffix. */
  runId?: string;
  /** From writing the job to the common start; default DEFAULT_START_DELAY_MS for the launcher's kind. */
  startDelayMs?: number;
  /** Default 1000 ms. */
  intervalMs?: number;
  /** Default 10 ms, as a single run. */
  lateThresholdMs?: number;
  /** Keep-alive sockets per origin in each generator (the engine's default when absent; null for unbounded). */
  connectionsPerOrigin?: number | null;
  /** Each interval once merged, and again when a part arrives late. */
  onProgress?(progress: DistributedProgress): void;
  /** The generators as the launcher started them (their ids, for the operator), before the run begins. */
  onLaunched?(generators: readonly LaunchedGenerator[], job: DistributedJob): void;
  /** Ctrl-C: stops every generator and returns what arrived. */
  signal?: AbortSignal;
  /** How often the store and the launcher are asked. Default 1000 ms for an S3 store, else half an interval (at most 1000 ms). */
  pollIntervalMs?: number;
  /** How long an interval waits for a generator that has not reported it before it is shown without it. Default max(5 s, 3 intervals). */
  stragglerTimeoutMs?: number;
  /** How long past the schedule's end generators may still run (users finishing their flows) before they are stopped and failed. Default 5 min. */
  overrunMs?: number;
  /** After stopAll, how long to wait for generators to end and write what they have. Default 30 s. */
  stopWaitMs?: number;
}

/** One generator's part of the run: how it ended and whether it kept up. */
export interface GeneratorReport {
  index: number;
  /** The launcher's name for it ("local pid 123", a task ARN), or "not launched". */
  id: string;
  /** The platform's last word on it. */
  state: GeneratorState;
  /** It wrote its final result; without one, its part is what its interval files hold. */
  hasResult: boolean;
  /** Why it failed, when it did. */
  failure?: string;
  /** CPU its process used while running, ms (from its interval files). */
  cpuMs: number;
  /** The wall-clock time those interval files cover, ms. */
  wallMs: number;
  /** cpuMs / wallMs: the share of one core it used (1 = a core fully busy). */
  cpuShare: number;
  /** Largest lateness of any arrival it launched, ms, or its start lag when that is larger (worstLagMs). */
  maxLagMs: number;
  /** How long after the common start its schedule began, ms. */
  startLagMs: number;
  arrivalsPlanned: number;
  vusersCreated: number;
  droppedArrivals: number;
  lateArrivals: number;
  requests: number;
  responses: number;
  /** Interval files read, and how many of them arrived after their interval was shown without them. */
  intervalsReported: number;
  intervalsLate: number;
}

export interface FailedGenerator {
  index: number;
  id: string;
  reason: string;
}

export interface DistributedOutcome {
  runId: string;
  /** The store the run's files are in (generators/<i>/… under runId). */
  storeUrl: string;
  job: DistributedJob;
  /**
   * Every generator's result merged exactly (mergeRunResults): a generator without result.json counts with what its
   * interval files hold (marked aborted), or with nothing but its planned arrivals when it wrote none.
   */
  result: RunResult;
  /** The live series merged from the interval files, late parts included. */
  intervals: IntervalResult[];
  generators: GeneratorReport[];
  /** Generators that died (exited non-zero, failed, exited without result.json) or had to be stopped. */
  failed: FailedGenerator[];
  /** Stopped by the signal. */
  aborted: boolean;
}

interface Track {
  index: number;
  id: string;
  state: GeneratorState;
  seen: Set<string>;
  /** Highest interval start it reported: it has closed every interval before (it writes them in order). */
  closedUpTo: number;
  result?: RunResult;
  error?: GeneratorError;
  isSettled: boolean;
  /** Why the coordinator gave up on it (still running at the deadline). */
  abandoned?: string;
  cpuMs: number;
  wallMs: number;
  maxLagMs: number;
  startLagMs: number;
  deltas: ReturnType<typeof createCounters>;
  intervalsReported: number;
  intervalsLate: number;
  corruptFiles: string[];
}

const isEnded = (state: GeneratorState) => state.state === "exited" || state.state === "failed";

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function checkOptions(script: Script, options: DistributedRunOptions): void {
  const { count } = options;
  if (!Number.isInteger(count) || count < 1) throw new DistributedUsageError(`the generator count must be a whole number of at least 1, got ${count}`);
  if (options.runId !== undefined && !isValidRunId(options.runId)) {
    throw new DistributedUsageError(`run id "${options.runId}" must be letters, digits, dots, dashes and underscores`);
  }
  for (const [name, value] of [
    ["startDelayMs", options.startDelayMs],
    ["intervalMs", options.intervalMs],
  ] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new DistributedUsageError(`${name} must be a number of ms of at least 0, got ${value}`);
  }
  checkPayloadsSplit(script, count);
}

/** The arrivals each shard plans, from the same schedule the generators build. */
function plannedPerShard(script: Script, count: number): number[] {
  const schedule = buildArrivalSchedule(script.phases);
  return Array.from({ length: count }, (_, index) => selectShard(schedule, { index, count }).atMs.length);
}

/** A generator's part when it wrote no result: its interval files, or nothing but the arrivals it was to launch. */
function partialResult(job: DistributedJob, track: Track, reports: IntervalReport[], arrivalsPlanned: number): RunResult {
  const latency = createLatencyHistogram();
  for (const { interval } of reports) {
    if (interval.latency === "") continue;
    const part = decodeHistogram(interval.latency);
    latency.add(part);
    part.destroy();
  }
  const empty = createLatencyHistogram();
  const counters = sumCounters(reports.map((report) => report.countersDelta));
  counters.arrivalsPlanned = arrivalsPlanned;
  const lastStart = Math.max(-job.intervalMs, ...reports.map((report) => report.interval.startMs));
  const result: RunResult = {
    version: 1,
    startedAt: job.startAt + track.startLagMs,
    durationMs: lastStart + job.intervalMs,
    intervalMs: job.intervalMs,
    lateThresholdMs: job.lateThresholdMs,
    maxLatenessMs: track.maxLagMs,
    aborted: true,
    counters,
    // Interval files carry latency from the intended time only; the service time of a lost generator is unknown.
    histograms: { latency: encodeHistogram(latency), serviceTime: encodeHistogram(empty), endpoints: {} },
    intervals: reports.map((report) => report.interval).sort((a, b) => a.startMs - b.startMs),
    ...(job.script.invariants?.acknowledgedOrders ? { acknowledgedOrders: [] } : {}),
  };
  latency.destroy();
  empty.destroy();
  return result;
}

function failureOf(track: Track, aborted: boolean): string | undefined {
  const { state, error } = track;
  const withError = (reason: string) => (error && !reason.includes(error.message) ? `${reason}: ${error.message}` : reason);
  if (track.abandoned) return track.abandoned;
  // Stopped on purpose after writing what it had: however the platform words the stop, nothing was lost.
  if (aborted && track.result && !error) return undefined;
  if (state.state === "failed") return withError(state.reason);
  if (state.state === "exited") {
    if (state.exitCode !== 0) return withError(state.reason ?? `exited with code ${state.exitCode}`);
    if (error) return withError("failed");
    if (!track.result) return `exited without writing its result${track.corruptFiles.some((key) => key.endsWith("/result.json")) ? " (its result.json is not JSON)" : ""}`;
    return undefined;
  }
  // Still pending or running when the coordinator stopped waiting.
  return aborted ? "still running when the run was stopped" : "still running when the coordinator stopped waiting";
}

/**
 * Runs `script` split over `options.count` generators started by `options.launcher`, all starting their shard at one
 * common moment, and returns the exact merge of their results with how each generator kept up and which failed.
 */
export async function runDistributed(script: Script, options: DistributedRunOptions): Promise<DistributedOutcome> {
  checkOptions(script, options);
  const { launcher, store, count, signal } = options;
  const runId = options.runId ?? newRunId();
  if ((await store.read(runFiles.job(runId))) !== undefined) throw new DistributedUsageError(`run id ${runId} is already used in ${store.url}`);
  const intervalMs = options.intervalMs ?? 1000;
  // An S3 listing per generator per poll costs requests: once a second there, twice an interval on a folder.
  const pollIntervalMs = options.pollIntervalMs ?? (store.url.startsWith("s3://") ? 1000 : Math.min(1000, Math.max(50, intervalMs / 2)));
  const stragglerTimeoutMs = options.stragglerTimeoutMs ?? Math.max(5000, 3 * intervalMs);
  const scheduleMs = buildArrivalSchedule(script.phases).durationMs;
  const planned = plannedPerShard(script, count);

  const job: DistributedJob = {
    version: 1,
    runId,
    script,
    count,
    startAt: Date.now() + (options.startDelayMs ?? DEFAULT_START_DELAY_MS[launcher.kind]),
    intervalMs,
    lateThresholdMs: options.lateThresholdMs ?? 10,
    ...(options.connectionsPerOrigin !== undefined ? { connectionsPerOrigin: options.connectionsPerOrigin } : {}),
  };
  await writeJob(store, job);
  const specs: GeneratorSpec[] = Array.from({ length: count }, (_, index) => ({ index, count, runId, storeUrl: store.url }));
  const tracks: Track[] = specs.map(({ index }) => ({
    index,
    id: "not launched",
    state: { state: "pending" },
    seen: new Set(),
    closedUpTo: Number.NEGATIVE_INFINITY,
    isSettled: false,
    cpuMs: 0,
    wallMs: 0,
    maxLagMs: 0,
    startLagMs: 0,
    deltas: createCounters(),
    intervalsReported: 0,
    intervalsLate: 0,
    corruptFiles: [],
  }));
  const merger = new IntervalMerger(count, intervalMs, options.onProgress);

  const launched = await launcher.start(specs);
  for (const generator of launched) {
    const track = tracks[generator.spec.index];
    if (track) track.id = generator.id;
  }
  options.onLaunched?.(launched, job);

  const absorb = (track: Track, report: IntervalReport) => {
    track.closedUpTo = Math.max(track.closedUpTo, report.interval.startMs);
    track.cpuMs += report.stats.cpuMs;
    track.wallMs += report.stats.wallMs;
    track.maxLagMs = Math.max(track.maxLagMs, report.stats.maxLagMs, report.stats.startLagMs);
    track.startLagMs = Math.max(track.startLagMs, report.stats.startLagMs);
    track.deltas = sumCounters([track.deltas, report.countersDelta]);
    track.intervalsReported++;
    if (merger.add(report).isLate) track.intervalsLate++;
  };

  /** Reads the files of `track` not read yet; a file that cannot be read now is tried again next time. */
  const collect = async (track: Track) => {
    const keys = await store.list(runFiles.generatorPrefix(runId, track.index));
    const fresh = keys.filter((key) => !track.seen.has(key)).map((key) => ({ key, file: parseGeneratorKey(runId, key) }));
    // Intervals in order, so the live view sees a generator's parts as it wrote them; the result last.
    fresh.sort((a, b) => (a.file?.kind === "interval" ? a.file.startMs : Number.POSITIVE_INFINITY) - (b.file?.kind === "interval" ? b.file.startMs : Number.POSITIVE_INFINITY));
    for (const { key, file } of fresh) {
      if (!file || file.index !== track.index) {
        track.seen.add(key);
        continue;
      }
      let content: (IntervalReport & RunResult & GeneratorError) | undefined;
      try {
        content = await readGeneratorFile<IntervalReport & RunResult & GeneratorError>(store, key);
      } catch (error) {
        // A file that is not JSON will not become JSON: skip it (a missing result then fails the generator).
        if (!(error instanceof CorruptFileError)) throw error;
        track.seen.add(key);
        track.corruptFiles.push(key);
        continue;
      }
      if (content === undefined) continue;
      track.seen.add(key);
      if (file.kind === "interval") absorb(track, content);
      else if (file.kind === "result") track.result = content;
      else track.error = content;
    }
  };

  let stopping: Promise<void> | undefined;
  let stopDeadline = Number.POSITIVE_INFINITY;
  const stop = (reason: string) => {
    if (stopping) return;
    stopDeadline = Date.now() + (options.stopWaitMs ?? 30_000);
    stopping = launcher.stopAll(reason).catch(() => undefined);
  };
  // Ctrl-C cuts the current wait short (once: each wait after it has a controller of its own).
  let wake = new AbortController();
  const onAbort = () => {
    stop("the run was stopped (Ctrl-C)");
    wake.abort();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const overrunDeadline = job.startAt + scheduleMs + (options.overrunMs ?? 300_000);

  try {
    for (;;) {
      let states: GeneratorState[] | undefined;
      try {
        states = await launcher.status();
      } catch {
        // The platform did not answer this time: ask again at the next poll.
      }
      if (states) {
        for (const track of tracks) track.state = states[track.index] ?? track.state;
      }
      // The state is read before the listing, so a generator seen ended here has every file it wrote in this listing.
      const endedBeforeListing = tracks.map((track) => isEnded(track.state));
      // Before the common start only a generator that already ended has anything to read.
      const isStarted = Date.now() >= job.startAt;
      await eachLimited(
        tracks.filter((track) => !track.isSettled && (isStarted || endedBeforeListing[track.index])),
        16,
        async (track) => {
          try {
            await collect(track);
            if (endedBeforeListing[track.index]) track.isSettled = true;
          } catch {
            // The store did not answer for this generator: read it again at the next poll.
          }
        },
      );
      const now = Date.now();
      merger.flush((index, startMs) => {
        const track = tracks[index]!;
        return track.isSettled || track.result !== undefined || track.closedUpTo > startMs || now > job.startAt + startMs + intervalMs + stragglerTimeoutMs;
      });
      if (tracks.every((track) => track.isSettled)) break;
      if (stopping && now > stopDeadline) {
        for (const track of tracks.filter((candidate) => !candidate.isSettled)) {
          track.abandoned = `did not end within ${options.stopWaitMs ?? 30_000} ms of being stopped`;
        }
        break;
      }
      if (!stopping && now > overrunDeadline) {
        const running = tracks.filter((track) => !track.isSettled);
        for (const track of running) track.abandoned = `still running ${Math.round((now - job.startAt - scheduleMs) / 1000)} s after the schedule ended; stopped`;
        stop("generators still running long after the schedule ended");
      }
      await sleep(pollIntervalMs, undefined, { signal: wake.signal }).catch(() => {
        wake = new AbortController();
      });
    }
    await stopping;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }

  const aborted = signal?.aborted ?? false;
  // A last look at the generators without a result: a file that became visible only now still counts.
  await eachLimited(
    tracks.filter((track) => !track.result),
    16,
    (track) => collect(track).catch(() => undefined),
  );
  // Intervals still open (a generator never reported them) are shown with the parts that came.
  merger.flush(() => true);
  const parts: RunResult[] = [];
  const generators: GeneratorReport[] = [];
  const failed: FailedGenerator[] = [];
  for (const track of tracks) {
    let part = track.result;
    if (!part) {
      const reports: IntervalReport[] = [];
      for (const key of [...track.seen].filter((candidate) => parseGeneratorKey(runId, candidate)?.kind === "interval")) {
        const report = await readGeneratorFile<IntervalReport>(store, key).catch(() => undefined);
        if (report) reports.push(report);
      }
      part = partialResult(job, track, reports, planned[track.index] ?? 0);
    }
    parts.push(part);
    const failure = failureOf(track, aborted);
    if (failure) failed.push({ index: track.index, id: track.id, reason: failure });
    const counters = track.result?.counters ?? part.counters;
    const startLagMs = track.result ? Math.max(0, track.result.startedAt - job.startAt) : track.startLagMs;
    generators.push({
      index: track.index,
      id: track.id,
      state: track.state,
      hasResult: track.result !== undefined,
      ...(failure ? { failure } : {}),
      cpuMs: track.cpuMs,
      wallMs: track.wallMs,
      cpuShare: track.wallMs > 0 ? track.cpuMs / track.wallMs : 0,
      maxLagMs: worstLagMs(track.maxLagMs, track.result, startLagMs),
      startLagMs,
      arrivalsPlanned: counters.arrivalsPlanned,
      vusersCreated: counters.vusersCreated,
      droppedArrivals: counters.vusersDropped,
      lateArrivals: counters.arrivalsLate,
      requests: counters.requests,
      responses: counters.responses,
      intervalsReported: track.intervalsReported,
      intervalsLate: track.intervalsLate,
    });
  }
  const intervals = merger.intervals();
  merger.close();
  const result = mergeRunResults(parts);
  if (aborted) result.aborted = true;
  return { runId, storeUrl: store.url, job, result, intervals, generators, failed, aborted };
}

/**
 * A generator's worst lag: with its result, the result's own figures (the largest lateness of any arrival and the real
 * start lag); without one (it died), what its interval files said, whose start lag is estimated when the engine hands an
 * interval over and so includes the time spent launching the arrivals due at that moment (tens of ms too high).
 */
export function worstLagMs(fromIntervals: number, result: Pick<RunResult, "maxLatenessMs"> | undefined, startLagMs: number): number {
  return result ? Math.max(result.maxLatenessMs, startLagMs) : Math.max(fromIntervals, startLagMs);
}
