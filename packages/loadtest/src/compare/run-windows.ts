// A saved run cut into windows of whole intervals, each window's latencies as the non-empty buckets of its HDR
// histogram: the unit a bootstrap resamples. Latencies within a run are correlated in time (a slow spell slows every
// request in it), so whole windows are resampled, not single requests; that keeps the spread of slow spells in the
// confidence interval instead of averaging it away.
import * as hdr from "hdr-histogram-js";
import { createLatencyHistogram, decodeHistogram, intervalFailures, type RunResult } from "../engine/run-result.ts";

/** Windows the bootstrap aims for at least, when the run is long enough to have them. */
export const TARGET_WINDOWS = 10;
/** The widest window chosen on its own, in ms: long enough to hold a slow spell, short enough to have many windows. */
export const DEFAULT_WINDOW_MS = 5000;

export interface LatencyWindow {
  startMs: number;
  requests: number;
  /** Requests without a response, refused by a step's expect, or answered 5xx. */
  failures: number;
  /** Responses with a latency. */
  responses: number;
  /** Sum of the responses' latencies (µs), each at its bucket's middle, as the histogram's mean takes them. */
  sumUs: number;
  /** Bucket indexes (the histograms' shared layout), ascending, and the count in each. */
  buckets: Int32Array;
  counts: Float64Array;
}

export interface RunWindows {
  intervalMs: number;
  windowMs: number;
  windows: LatencyWindow[];
}

/** What a bucket index stands for in the shared histogram layout: its highest value (percentiles) and its middle (means). */
export interface BucketValues {
  highest: Float64Array;
  median: Float64Array;
}

function asJsHistogram(histogram: hdr.Histogram): hdr.JsHistogram {
  if (!(histogram instanceof hdr.JsHistogram)) throw new Error("latency histograms are expected to be JavaScript histograms");
  return histogram;
}

let bucketValues: BucketValues | undefined;

/** The value of every bucket index, computed once for the layout createLatencyHistogram gives every histogram. */
export function latencyBucketValues(): BucketValues {
  if (bucketValues) return bucketValues;
  const histogram = asJsHistogram(createLatencyHistogram());
  const length = histogram.countsArrayLength;
  const highest = new Float64Array(length);
  const median = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const value = histogram.valueFromIndex(i);
    highest[i] = histogram.highestEquivalentValue(value);
    median[i] = histogram.medianEquivalentValue(value);
  }
  histogram.destroy();
  bucketValues = { highest, median };
  return bucketValues;
}

/** Whole intervals per window: about DEFAULT_WINDOW_MS, fewer when that would leave under TARGET_WINDOWS windows. */
export function chooseWindowIntervals(result: Pick<RunResult, "intervalMs" | "intervals">, windowMs?: number): number {
  if (windowMs !== undefined) return Math.max(1, Math.round(windowMs / result.intervalMs));
  const wanted = Math.max(1, Math.round(DEFAULT_WINDOW_MS / result.intervalMs));
  return Math.max(1, Math.min(wanted, Math.floor(result.intervals.length / TARGET_WINDOWS)));
}

/** The run's intervals grouped into windows of `intervalsPerWindow`; windows with no request are left out. */
export function cutWindows(result: RunResult, intervalsPerWindow: number): RunWindows {
  const windowMs = intervalsPerWindow * result.intervalMs;
  const values = latencyBucketValues();
  const groups = new Map<number, RunResult["intervals"]>();
  for (const interval of result.intervals) {
    const key = Math.floor(interval.startMs / windowMs);
    groups.set(key, [...(groups.get(key) ?? []), interval]);
  }
  const windows: LatencyWindow[] = [];
  for (const [key, intervals] of [...groups.entries()].sort(([a], [b]) => a - b)) {
    const requests = intervals.reduce((n, i) => n + i.requests, 0);
    if (requests === 0) continue;
    const histogram = createLatencyHistogram();
    for (const interval of intervals) {
      const decoded = decodeHistogram(interval.latency);
      histogram.add(decoded);
      decoded.destroy();
    }
    const merged = asJsHistogram(histogram);
    const buckets: number[] = [];
    const counts: number[] = [];
    let sumUs = 0;
    for (let i = 0; i < merged.countsArrayLength; i++) {
      const count = merged.getCountAtIndex(i);
      if (count === 0) continue;
      buckets.push(i);
      counts.push(count);
      sumUs += (values.median[i] ?? 0) * count;
    }
    windows.push({
      startMs: key * windowMs,
      requests,
      failures: intervals.reduce((n, i) => n + intervalFailures(i), 0),
      responses: merged.totalCount,
      sumUs,
      buckets: Int32Array.from(buckets),
      counts: Float64Array.from(counts),
    });
    merged.destroy();
  }
  return { intervalMs: result.intervalMs, windowMs, windows };
}
