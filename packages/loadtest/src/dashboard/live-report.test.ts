// LiveReport on a real engine run's progress snapshots: what it gathers is what the saved result says about the same
// intervals, and what it cannot know yet it leaves unknown.
import { beforeAll, describe, expect, it } from "vitest";
import { createLatencyHistogram, decodeHistogram, encodeHistogram, summarizeHistogram } from "../engine/run-result.ts";
import { renderReportBody } from "../report/render-report.ts";
import { recordRun, type RecordedRun } from "./dashboard-fixture.ts";
import { LiveReport } from "./live-report.ts";

let run: RecordedRun;
let withoutHistograms: RecordedRun;
beforeAll(async () => {
  [run, withoutHistograms] = await Promise.all([recordRun(), recordRun({ withHistograms: false })]);
}, 30_000);

describe("LiveReport", () => {
  it("gathers each interval's counts and the whole run's latency exactly as the saved result has them", () => {
    const live = new LiveReport();
    for (const snapshot of run.snapshots) live.add(snapshot);
    const input = live.input();
    const published = run.saved.intervals.filter((interval) => run.snapshots.some((s) => s.interval.startMs === interval.startMs));
    expect(published.length).toBeGreaterThanOrEqual(1);
    expect(input.intervals.map(({ startMs, requests, responses, errors, vusersCreated }) => ({ startMs, requests, responses, errors, vusersCreated }))).toEqual(
      published.map(({ startMs, requests, responses, errors, vusersCreated }) => ({ startMs, requests, responses, errors, vusersCreated })),
    );
    // The merged interval histograms, as the saved result merges them.
    const merged = createLatencyHistogram();
    for (const interval of published) merged.add(decodeHistogram(interval.latency));
    expect(input.latency).toEqual(summarizeHistogram(merged));
    expect(input.latency?.count).toBeGreaterThan(0);
    expect(input.percentiles.length).toBeGreaterThan(10);
    expect(input.counters).toEqual(run.snapshots.at(-1)?.counters);
    expect(input.isLive).toBe(true);
    live.dispose();
  });

  it("shows the worst lateness the snapshots reported so far", () => {
    const live = new LiveReport();
    expect(live.input().maxLatenessMs).toBeNull();
    const [first, second] = run.snapshots;
    live.add({ ...first!, maxLatenessMs: 42.5 });
    live.add({ ...second!, maxLatenessMs: 3 });
    expect(live.input().maxLatenessMs).toBe(42.5);
    expect(renderReportBody(live.input())).toContain("; worst 42.5 ms)</td>");
  });

  it("keeps an interval that arrives twice once", () => {
    const live = new LiveReport();
    const first = run.snapshots[0]!;
    live.add(first);
    live.add(first);
    const input = live.input();
    expect(input.intervals).toHaveLength(1);
    expect(input.latency?.count).toBe(first.interval.latency.count);
  });

  it("replaces an interval shown again with a late part merged in, and merges the run's latency again", () => {
    const live = new LiveReport();
    const [first, second] = run.snapshots;
    live.add(first!);
    live.add(second!);
    // The first interval again, as a distributed run shows it once a late generator's part is in: here, twice as much.
    const both = createLatencyHistogram();
    for (const encoded of [first!.interval.encodedLatency!, first!.interval.encodedLatency!]) both.add(decodeHistogram(encoded));
    const again = {
      ...first!,
      interval: { ...first!.interval, responses: first!.interval.responses * 2, latency: summarizeHistogram(both), encodedLatency: encodeHistogram(both) },
    };
    live.add(again);
    const input = live.input();
    expect(input.intervals).toHaveLength(2);
    expect(input.intervals[0]?.responses).toBe(first!.interval.responses * 2);
    expect(input.latency?.count).toBe(2 * first!.interval.latency.count + second!.interval.latency.count);
    live.dispose();
  });

  it("leaves the whole run's latency unknown when the snapshots carry no histogram, and still draws the intervals", () => {
    const live = new LiveReport();
    for (const snapshot of withoutHistograms.snapshots) live.add(snapshot);
    const input = live.input();
    expect(input.latency).toBeNull();
    expect(input.percentiles).toEqual([]);
    expect(input.intervals.length).toBe(withoutHistograms.snapshots.length);
    const body = renderReportBody(input);
    expect(body).toMatch(/<tr><td>from intended start<\/td><td>—<\/td>/);
    expect(body).toContain("a figure shown as — is known only at its end");
    // The latency-over-time chart is drawn from each interval's own summary.
    const latencyChart = body.match(/<svg [^>]*aria-label="Latency over time \(from intended start\)"[\s\S]*?<\/svg>/)?.[0] ?? "";
    expect(latencyChart).not.toContain("no data");
  });

  it("says, while the run goes on, that thresholds, the capacity plan and the endpoints come at the end", () => {
    const live = new LiveReport();
    live.add(run.snapshots[0]!);
    const body = renderReportBody(live.input());
    expect(body).toContain("<strong>running</strong>");
    expect(body).toContain("The thresholds are judged when the run ends.");
    expect(body).toContain("The capacity plan is made from the whole run, when it ends.");
    expect(body).toContain("Each endpoint's latency is listed when the run ends.");
    expect(body).not.toContain("NaN");
  });
});
