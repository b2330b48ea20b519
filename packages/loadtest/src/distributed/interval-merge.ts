// The live view of a distributed run: each interval merged exactly from every generator's part of it, shown once every
// generator has either reported it, moved past it, finished or died (or was waited for too long), and shown again
// when a part arrives after that, so a late part is added, never dropped.
import type { Histogram } from "hdr-histogram-js";
import { sumCounters } from "../engine/run-parallel.ts";
import { createCounters, createLatencyHistogram, decodeHistogram, encodeHistogram, summarizeHistogram, type IntervalResult, type RunCounters } from "../engine/run-result.ts";
import type { ProgressSnapshot } from "../engine/run-script.ts";
import type { GeneratorIntervalStats, IntervalReport } from "./run-files.ts";

/** One generator's own figures for the interval a progress update shows. */
export interface GeneratorIntervalView extends GeneratorIntervalStats {
  index: number;
  /** cpuMs / wallMs: the share of one core the generator used (1 = a core fully busy). */
  cpuShare: number;
}

export interface DistributedProgress {
  /** The interval merged over the generators whose part is in, as one run's progress snapshot shows it. */
  snapshot: ProgressSnapshot;
  /** Generators whose part of the interval is in this snapshot. */
  included: number[];
  /** Generators whose part is not (yet): died, not started, or late; a part that comes later is shown again. */
  missing: number[];
  /** This shows again an interval shown before, with the part(s) that arrived since. */
  isLate: boolean;
  /** How each generator whose part this update adds kept up in the interval. */
  generators: GeneratorIntervalView[];
}

type Figures = Omit<IntervalResult, "latency" | "startMs">;

interface OpenInterval {
  figures: Figures;
  histogram: Histogram;
  included: Set<number>;
  stats: GeneratorIntervalView[];
}

const emptyFigures = (): Figures => ({ requests: 0, responses: 0, errors: 0, unexpected: 0, serverErrors: 0, vusersCreated: 0 });

function addFigures(into: Figures, part: IntervalResult): void {
  into.requests += part.requests;
  into.responses += part.responses;
  into.errors += part.errors;
  into.unexpected = (into.unexpected ?? 0) + (part.unexpected ?? 0);
  into.serverErrors = (into.serverErrors ?? 0) + (part.serverErrors ?? 0);
  into.vusersCreated += part.vusersCreated;
}

function viewOf(report: IntervalReport): GeneratorIntervalView {
  const { stats } = report;
  return { index: report.index, ...stats, cpuShare: stats.wallMs > 0 ? stats.cpuMs / stats.wallMs : 0 };
}

export class IntervalMerger {
  /** Intervals not shown yet, by start. */
  private readonly open = new Map<number, OpenInterval>();
  /** Intervals shown, by start: their merged figures, histogram encoded, and whose parts they hold. */
  private readonly shown = new Map<number, { interval: IntervalResult; included: Set<number> }>();
  private shownUpTo = Number.NEGATIVE_INFINITY;
  private readonly counters: RunCounters[];

  constructor(
    private readonly count: number,
    private readonly intervalMs: number,
    private readonly onProgress: ((progress: DistributedProgress) => void) | undefined,
  ) {
    this.counters = Array.from({ length: count }, () => createCounters());
  }

  /** Takes one generator's part of an interval; a part of an interval already shown is shown again at once. */
  add(report: IntervalReport): { isLate: boolean } {
    const { index, interval } = report;
    this.counters[index] = sumCounters([this.counters[index] ?? createCounters(), report.countersDelta]);
    if (interval.startMs > this.shownUpTo) {
      const entry = this.open.get(interval.startMs) ?? { figures: emptyFigures(), histogram: createLatencyHistogram(), included: new Set<number>(), stats: [] };
      this.open.set(interval.startMs, entry);
      addFigures(entry.figures, interval);
      this.addLatency(entry.histogram, interval.latency);
      entry.included.add(index);
      entry.stats.push(viewOf(report));
      return { isLate: false };
    }
    const shown = this.shown.get(interval.startMs) ?? { interval: { startMs: interval.startMs, ...emptyFigures(), latency: "" }, included: new Set<number>() };
    this.shown.set(interval.startMs, shown);
    const histogram = shown.interval.latency === "" ? createLatencyHistogram() : decodeHistogram(shown.interval.latency);
    this.addLatency(histogram, interval.latency);
    addFigures(shown.interval, interval);
    shown.included.add(index);
    this.emit(interval.startMs, shown.interval, histogram, shown.included, [viewOf(report)], true);
    shown.interval.latency = encodeHistogram(histogram);
    histogram.destroy();
    return { isLate: true };
  }

  /** Shows, in order, each open interval every generator is done with; `isAccountedFor` says whether one is. */
  flush(isAccountedFor: (index: number, startMs: number) => boolean): void {
    for (const startMs of [...this.open.keys()].sort((a, b) => a - b)) {
      const entry = this.open.get(startMs)!;
      for (let index = 0; index < this.count; index++) {
        if (!entry.included.has(index) && !isAccountedFor(index, startMs)) return;
      }
      this.open.delete(startMs);
      this.shownUpTo = startMs;
      const interval: IntervalResult = { startMs, ...entry.figures, latency: encodeHistogram(entry.histogram) };
      this.shown.set(startMs, { interval, included: entry.included });
      this.emit(startMs, interval, entry.histogram, entry.included, entry.stats, false);
      entry.histogram.destroy();
    }
  }

  /** Every interval shown or still open, merged over the parts that arrived (the live series of the whole run). */
  intervals(): IntervalResult[] {
    const open = [...this.open.entries()].map(([startMs, entry]) => ({ startMs, ...entry.figures, latency: encodeHistogram(entry.histogram) }));
    return [...[...this.shown.values()].map(({ interval }) => interval), ...open].sort((a, b) => a.startMs - b.startMs);
  }

  /** Frees the histograms of intervals never shown. */
  close(): void {
    for (const entry of this.open.values()) entry.histogram.destroy();
    this.open.clear();
  }

  private addLatency(histogram: Histogram, encoded: string): void {
    if (encoded === "") return;
    const part = decodeHistogram(encoded);
    histogram.add(part);
    part.destroy();
  }

  private emit(startMs: number, interval: IntervalResult, histogram: Histogram, included: Set<number>, generators: GeneratorIntervalView[], isLate: boolean): void {
    if (!this.onProgress) return;
    const { latency: _encoded, ...figures } = interval;
    this.onProgress({
      snapshot: {
        elapsedMs: startMs + this.intervalMs,
        counters: sumCounters(this.counters),
        maxLatenessMs: Math.max(0, ...generators.map((g) => g.maxLagMs)),
        interval: { ...figures, latency: summarizeHistogram(histogram), encodedLatency: encodeHistogram(histogram) },
      },
      included: [...included].sort((a, b) => a - b),
      missing: Array.from({ length: this.count }, (_, index) => index).filter((index) => !included.has(index)),
      isLate,
      generators,
    });
  }
}
