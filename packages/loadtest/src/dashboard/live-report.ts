// A run's report as it goes: the engine's progress snapshots, one per closed interval, gathered into what the report's
// renderer draws (ReportInput), with each histogram decoded once, when its interval arrives.
import type { Histogram } from "hdr-histogram-js";
import type { ProgressSnapshot } from "../engine/run-script.ts";
import { createCounters, createLatencyHistogram, decodeHistogram, summarizeHistogram, type RunCounters } from "../engine/run-result.ts";
import { percentileCurve, type ReportInput } from "../report/render-report.ts";

export interface LiveReportOptions {
  /** The run's interval length (the engine's `intervalMs`). Default 1000 ms, the engine's default. */
  intervalMs?: number;
  /** The run's lateness threshold (the engine's `lateThresholdMs`). Default 10 ms, the engine's default. */
  lateThresholdMs?: number;
  /** The wall clock (epoch ms), to date the run from its first snapshot. */
  now?: () => number;
}

export class LiveReport {
  private readonly intervalMs: number;
  private readonly lateThresholdMs: number;
  private readonly now: () => number;
  private startedAt: number;
  private hasSnapshot = false;
  private durationMs = 0;
  /** The worst lateness the snapshots reported (each since the one before); null until one reports it. */
  private maxLatenessMs: number | null = null;
  private counters: RunCounters = createCounters();
  private readonly intervals = new Map<number, ReportInput["intervals"][number]>();
  /** Each interval's encoded latency as last shown, to merge the run's latency again when an interval is shown again. */
  private readonly encoded = new Map<number, string>();
  /**
   * Every interval's latency, merged as it arrives; null once an interval came without its histogram (the engine
   * sends them with `progressHistograms`), since the whole run's percentiles would then be wrong.
   */
  private latency: Histogram | null = createLatencyHistogram();

  constructor(options: LiveReportOptions = {}) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.lateThresholdMs = options.lateThresholdMs ?? 10;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** Adds an interval that closed; an interval shown again (a late part merged in) replaces the one shown before. */
  add(snapshot: ProgressSnapshot): void {
    if (!this.hasSnapshot) {
      this.hasSnapshot = true;
      this.startedAt = this.now() - snapshot.elapsedMs;
    }
    this.durationMs = Math.max(this.durationMs, snapshot.elapsedMs);
    this.counters = snapshot.counters;
    if (snapshot.maxLatenessMs !== undefined) this.maxLatenessMs = Math.max(this.maxLatenessMs ?? 0, snapshot.maxLatenessMs);
    const { encodedLatency, ...interval } = snapshot.interval;
    if (this.intervals.has(interval.startMs)) {
      // Shown again with more in it (a distributed run's generator reported this interval late): the whole interval
      // as merged now replaces what was shown, and the run's latency is merged again from every interval.
      this.intervals.set(interval.startMs, interval);
      if (!this.latency || encodedLatency === undefined) return;
      this.encoded.set(interval.startMs, encodedLatency);
      this.latency.reset();
      for (const each of this.encoded.values()) {
        const histogram = decodeHistogram(each);
        this.latency.add(histogram);
        histogram.destroy();
      }
      return;
    }
    this.intervals.set(interval.startMs, interval);
    if (encodedLatency !== undefined) this.encoded.set(interval.startMs, encodedLatency);
    if (!this.latency) return;
    if (encodedLatency === undefined) {
      this.latency.destroy();
      this.latency = null;
      return;
    }
    const histogram = decodeHistogram(encodedLatency);
    this.latency.add(histogram);
    histogram.destroy();
  }

  /** What the report's renderer draws for the run so far. */
  input(): ReportInput {
    const intervals = [...this.intervals.values()].sort((a, b) => a.startMs - b.startMs);
    const hasLatency = this.latency !== null && this.latency.totalCount > 0;
    return {
      startedAt: this.startedAt,
      durationMs: this.durationMs,
      intervalMs: this.intervalMs,
      lateThresholdMs: this.lateThresholdMs,
      maxLatenessMs: this.maxLatenessMs,
      aborted: false,
      counters: this.counters,
      intervals,
      latency: this.latency && hasLatency ? summarizeHistogram(this.latency) : null,
      percentiles: this.latency && hasLatency ? percentileCurve(this.latency) : [],
      serviceTime: null,
      endpoints: null,
      verdicts: undefined,
      annotations: { html: "", guides: [] },
      capacityPlan: null,
      isLive: true,
    };
  }

  /** Frees the merged histogram; nothing may be added after. */
  dispose(): void {
    this.latency?.destroy();
    this.latency = null;
  }
}
