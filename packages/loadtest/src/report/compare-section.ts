// The HTML of `compare --out`: the comparison's table and verdict, then the two runs side by side (latency per window
// over time, the percentile curves, failed requests per window, the counters), in the report's own styles and charts.
import type { Comparison, RunSide } from "../compare/compare-runs.ts";
import { formatVerdict, metricLabel, TABLE_HEADERS, tableRows, verdictLine } from "../compare/compare-format.ts";
import { decodeHistogram, summarize, type LatencySummary } from "../engine/run-result.ts";
import { ninesLabel, percentileCurve, renderReportPage } from "./render-report.ts";
import type { SavedRun } from "./saved-run.ts";
import { escapeHtml, renderLineChart } from "./svg-charts.ts";

export interface ComparedRun {
  /** How the run is named on the page, e.g. its file name. */
  label: string;
  saved: SavedRun;
}

export interface CompareSectionInput {
  comparison: Comparison;
  baseline: ComparedRun;
  current: ComparedRun;
}

const COLORS = { baseline: "#4e79a7", current: "#f28e2b" };

const ms = (value: number) => value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2);

function comparisonTable(comparison: Comparison): string {
  const headers = [...TABLE_HEADERS];
  headers[4] = `${Math.round(comparison.confidence * 100)} % CI`;
  const rows = tableRows(comparison)
    .map((cells, r) => {
      const verdict = comparison.metrics[r]?.verdict;
      const css = verdict === "fail" ? ' class="fail"' : verdict === "pass" ? ' class="pass"' : "";
      const body = cells.slice(0, -1).map((cell) => `<td>${escapeHtml(cell)}</td>`);
      return `<tr>${body.join("")}<td${css}>${escapeHtml(cells.at(-1) ?? "")}</td></tr>`;
    })
    .join("");
  return `<table class="comparison"><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table>`;
}

/** Each window plotted at its end, in seconds since its run's start. */
function windowSeries(side: RunSide, windowMs: number, name: string, color: string, y: (w: RunSide["windows"][number]) => number | null) {
  const points = side.windows.flatMap((w) => {
    const value = y(w);
    return value === null ? [] : [{ x: (w.startMs + windowMs) / 1000, y: value }];
  });
  return { name, color, points, style: "line+dots" as const };
}

function sideBySide(baseline: ComparedRun, current: ComparedRun): string {
  const summaries = [summarize(baseline.saved), summarize(current.saved)];
  const latency = (s: LatencySummary) => [String(s.count), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max)];
  const [b, c] = summaries as [ReturnType<typeof summarize>, ReturnType<typeof summarize>];
  const rows: [string, string, string][] = [
    ["started", new Date(baseline.saved.startedAt).toISOString(), new Date(current.saved.startedAt).toISOString()],
    ["duration (s)", (b.durationMs / 1000).toFixed(1), (c.durationMs / 1000).toFixed(1)],
    ["requests", String(b.counters.requests), String(c.counters.requests)],
    ["responses", String(b.counters.responses), String(c.counters.responses)],
    ["requests/s", b.rates.requests.toFixed(1), c.rates.requests.toFixed(1)],
    ["request error rate (%)", (b.requestErrorRate * 100).toFixed(3), (c.requestErrorRate * 100).toFixed(3)],
    ["dropped / late arrivals", `${b.counters.vusersDropped} / ${b.counters.arrivalsLate}`, `${c.counters.vusersDropped} / ${c.counters.arrivalsLate}`],
    ...(["count", "p50 (ms)", "p95 (ms)", "p99 (ms)", "max (ms)"].map((label, i) => [`latency ${label}`, latency(b.latency)[i] ?? "", latency(c.latency)[i] ?? ""]) as [
      string,
      string,
      string,
    ][]),
    [
      "status codes",
      Object.entries(b.counters.statusCodes)
        .map(([code, n]) => `${code}: ${n}`)
        .join(", ") || "none",
      Object.entries(c.counters.statusCodes)
        .map(([code, n]) => `${code}: ${n}`)
        .join(", ") || "none",
    ],
  ];
  const head = `<thead><tr><th></th><th>baseline: ${escapeHtml(baseline.label)}</th><th>current: ${escapeHtml(current.label)}</th></tr></thead>`;
  const body = rows.map(([label, before, after]) => `<tr><td>${escapeHtml(label)}</td><td>${escapeHtml(before)}</td><td>${escapeHtml(after)}</td></tr>`).join("");
  return `<table class="side-by-side">${head}<tbody>${body}</tbody></table>`;
}

/** The comparison as a report section: verdict, table, notes, charts of both runs and their counters side by side. */
export function renderCompareSection({ comparison, baseline, current }: CompareSectionInput): string {
  const { windowMs } = comparison;
  const timeAxis = { label: `time since start (s), at window end (${windowMs / 1000} s windows)` };
  const p95Chart = renderLineChart({
    title: "p95 latency per window",
    series: [
      windowSeries(comparison.baseline, windowMs, "baseline", COLORS.baseline, (w) => w.p95),
      windowSeries(comparison.current, windowMs, "current", COLORS.current, (w) => w.p95),
    ],
    xAxis: timeAxis,
    yAxis: { label: "ms" },
  });
  const curves = [baseline, current].map((run) => {
    const histogram = decodeHistogram(run.saved.histograms.latency);
    const curve = percentileCurve(histogram);
    histogram.destroy();
    return curve;
  });
  const maxNines = Math.max(1, ...curves.map((curve) => Math.round(curve.at(-1)?.x ?? 1)));
  const distributionChart = renderLineChart({
    title: "Latency distribution (percentile curve)",
    series: [
      { name: "baseline", color: COLORS.baseline, points: curves[0] ?? [] },
      { name: "current", color: COLORS.current, points: curves[1] ?? [] },
    ],
    xAxis: { label: "percentile", ticks: Array.from({ length: maxNines + 1 }, (_, n) => n), format: ninesLabel },
    yAxis: { label: "ms" },
  });
  const failureRate = (w: RunSide["windows"][number]) => (w.requests === 0 ? null : (w.failures / w.requests) * 100);
  const failuresChart = renderLineChart({
    title: "Failed requests per window",
    series: [
      windowSeries(comparison.baseline, windowMs, "baseline", COLORS.baseline, failureRate),
      windowSeries(comparison.current, windowMs, "current", COLORS.current, failureRate),
    ],
    xAxis: timeAxis,
    yAxis: { label: "% of requests" },
  });
  const failed = comparison.metrics.filter((m) => m.verdict === "fail");
  const notes = comparison.notes.length === 0 ? "" : `<ul class="notes">${comparison.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join("")}</ul>`;
  const judged = comparison.metrics.filter((m) => m.verdict === "insufficient");
  const notJudged = judged.length === 0 ? "" : `<p class="meta">Not judged: ${escapeHtml(judged.map((m) => `${metricLabel(m.metric)} (${formatVerdict(m)})`).join("; "))}.</p>`;
  return `<h2>Comparison</h2>
<section id="comparison">
<p>Verdict: <span class="${comparison.passed ? "pass" : "fail"}">${comparison.passed ? "PASS" : "FAIL"}</span>${failed.length > 0 ? ` — ${escapeHtml(verdictLine(comparison).replace(/^verdict: FAIL /, ""))}` : ""}</p>
<p class="meta">Current <strong>${escapeHtml(current.label)}</strong> against baseline <strong>${escapeHtml(baseline.label)}</strong>. Each confidence interval is a bootstrap over
${comparison.iterations} resamples of whole ${windowMs / 1000} s windows (${comparison.baseline.windows.length} in the baseline, ${comparison.current.windows.length} now),
${Math.round(comparison.confidence * 100)} % confidence, seed ${comparison.seed}; a metric fails only when the interval's low end is above its limit.</p>
${comparisonTable(comparison)}
${notJudged}${notes}
<div class="charts">${p95Chart}${distributionChart}${failuresChart}</div>
<h2>The two runs</h2>
${sideBySide(baseline, current)}
</section>`;
}

/** `compare --out`: a page of its own around the section. */
export function renderCompareReport(input: CompareSectionInput): string {
  return renderReportPage({
    title: `Load test comparison — ${input.current.label} against ${input.baseline.label}`,
    body: `<h1>Load test comparison</h1>\n${renderCompareSection(input)}`,
  });
}
