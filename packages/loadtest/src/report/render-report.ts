// Renders a saved run (RunResult, plus the verdicts `run --output` saved) as one self-contained HTML page.
import type { Histogram } from "hdr-histogram-js";
import type { Verdict } from "../engine/ensure.ts";
import { decodeHistogram, intervalFailures, latencyAtPercentile, summarize, summarizeWindow, type LatencySummary, type RunResult } from "../engine/run-result.ts";
import type { PlanOptions } from "../plan/capacity-plan.ts";
import { renderCapacityPlanSection } from "./capacity-plan-section.ts";
import type { AnnotationFact, SavedRun } from "./saved-run.ts";
import { escapeHtml, formatNumber, renderBarChart, renderLineChart, type Guide } from "./svg-charts.ts";

export type { RunAnnotations, SavedRun } from "./saved-run.ts";

/** One colour per annotated window, in turn. */
const WINDOW_COLORS = ["#8c564b", "#9467bd", "#17becf", "#bcbd22"];

const COLORS = { p50: "#4e79a7", p95: "#f28e2b", p99: "#e15759", max: "#76b7b2", requests: "#4e79a7", errors: "#e15759" };

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1340px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { background: #fafafa; border: 1px solid #e3e3e3; max-width: 100%; height: auto; }
.chart .chart-title { font-weight: 600; font-size: 13px; }
.chart .tick, .chart .legend, .chart .bar-value { font-size: 11px; fill: #444; }
.chart .axis-label { font-size: 12px; fill: #222; }
.chart .axis { stroke: #333; fill: none; }
.chart .grid { stroke: #e6e6e6; }
.chart .tick-mark { stroke: #333; }
.chart .empty { fill: #999; }
.chart .guide-label { font-size: 11px; paint-order: stroke; stroke: #fafafa; stroke-width: 3px; }
tr.knee td { background: #eaf5ea; }
table.capacity-plan td, table.annotation-facts td { text-align: left; }
details { margin: 8px 0; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f2f2f2; }
.pass { color: #1a7f37; font-weight: 600; }
.fail { color: #cf222e; font-weight: 600; }
`;

function ms(value: number): string {
  return value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2);
}

function table(headers: string[], rows: string[][]): string {
  const head = `<thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>`;
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`).join("");
  return `<table>${head}<tbody>${body}</tbody></table>`;
}

function countsTable(title: string, counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return `<p>${escapeHtml(title)}: none</p>`;
  return table(
    [title, "count"],
    entries.map(([key, count]) => [key, String(count)]),
  );
}

/** Percentiles on a "nines" scale: x = log10(1 / (1 − p)), so p90 → 1, p99 → 2, p99.9 → 3. */
function percentileCurve(histogram: Histogram): { x: number; y: number }[] {
  if (histogram.totalCount === 0) return [];
  const maxNines = Math.min(5, Math.max(1, Math.ceil(Math.log10(histogram.totalCount))));
  const points: { x: number; y: number }[] = [];
  for (let x = 0; x <= maxNines + 1e-9; x += 0.05) {
    const percentile = Math.min(100, 100 * (1 - 10 ** -x));
    points.push({ x, y: latencyAtPercentile(histogram, percentile) });
  }
  points.push({ x: maxNines, y: histogram.maxValue / 1000 });
  return points;
}

function ninesLabel(x: number): string {
  if (x === 0) return "p0";
  const percentile = 100 * (1 - 10 ** -x);
  return `p${Number(percentile.toFixed(Math.max(0, Math.round(x) - 2)))}`;
}

function intervalSeconds(result: RunResult, startMs: number): number {
  const width = Math.min(result.intervalMs, result.durationMs - startMs);
  return (width > 0 ? width : result.intervalMs) / 1000;
}

function verdictsSection(verdicts: Verdict[] | undefined): string {
  if (!verdicts) return `<p>No threshold verdicts were saved with this result (save them with <code>run --output</code>).</p>`;
  const passed = verdicts.every((v) => v.passed);
  const rows = verdicts
    .map(
      (v) =>
        `<tr><td class="${v.passed ? "pass" : "fail"}">${v.passed ? "pass" : "FAIL"}</td><td>${escapeHtml(v.metric)}</td>` +
        `<td>${v.actual === null ? "—" : escapeHtml(formatNumber(v.actual))}</td><td>${v.max === null ? "—" : escapeHtml(String(v.max))}</td>` +
        `<td>${escapeHtml(v.message)}</td></tr>`,
    )
    .join("");
  return (
    `<p>Verdict: <span class="${passed ? "pass" : "fail"}">${passed ? "PASS" : "FAIL"}</span></p>` +
    `<table class="verdicts"><thead><tr><th>result</th><th>metric</th><th>actual</th><th>max</th><th>detail</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

function factCell(fact: AnnotationFact | undefined): string {
  if (!fact) return "<td>—</td>";
  const css = fact.passed === undefined ? "" : ` class="${fact.passed ? "pass" : "fail"}"`;
  return `<td${css}>${escapeHtml(fact.value)}</td>`;
}

/** The annotations' section (facts, then each window's load measured from the intervals) and a guide per window start and end. */
function annotationsSection(saved: SavedRun): { html: string; guides: Guide[] } {
  const annotations = saved.annotations;
  if (!annotations) return { html: "", guides: [] };
  const guides: Guide[] = annotations.windows.flatMap((window, index) => {
    const color = WINDOW_COLORS[index % WINDOW_COLORS.length]!;
    return [
      { axis: "x" as const, value: window.startMs / 1000, label: window.label, color },
      { axis: "x" as const, value: window.endMs / 1000, label: "", color },
    ];
  });
  const verdict = annotations.passed === undefined ? "" : `<p>Verdict: <span class="${annotations.passed ? "pass" : "fail"}">${annotations.passed ? "PASS" : "FAIL"}</span></p>`;
  const facts = annotations.facts.map((fact) => `<tr><td>${escapeHtml(fact.label)}</td>${factCell(fact)}</tr>`).join("");
  const factLabels = [...new Set(annotations.windows.flatMap((w) => (w.facts ?? []).map((f) => f.label)))];
  const head = ["window", "from (s)", "to (s)", "requests", "failed", "p50 (ms)", "p95 (ms)", "p99 (ms)", "max (ms)", ...factLabels];
  const rows = annotations.windows
    .map((window, index) => {
      const load = summarizeWindow(saved, window.startMs, window.endMs);
      const color = WINDOW_COLORS[index % WINDOW_COLORS.length]!;
      const cells = [(window.startMs / 1000).toFixed(1), (window.endMs / 1000).toFixed(1), String(load.requests)].map((c) => `<td>${escapeHtml(c)}</td>`);
      cells.push(`<td class="${load.failed === 0 ? "pass" : "fail"}">${load.failed}</td>`);
      cells.push(...[load.latency.p50, load.latency.p95, load.latency.p99, load.latency.max].map((v) => `<td>${escapeHtml(ms(v))}</td>`));
      cells.push(...factLabels.map((label) => factCell(window.facts?.find((f) => f.label === label))));
      return `<tr><td><span style="color:${color}">■</span> ${escapeHtml(window.label)}</td>${cells.join("")}</tr>`;
    })
    .join("");
  const windows =
    annotations.windows.length === 0
      ? ""
      : `<table class="annotation-windows"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table>` +
        `<p class="meta">Each window's load is every whole interval that overlaps it (marked on the charts above), so it can include a little before and after. Failed: no response, a response a step's expect refused, or a 5xx.</p>`;
  const html =
    `<h2>${escapeHtml(annotations.title)}</h2><section id="annotations">${verdict}` +
    (facts ? `<table class="annotation-facts"><tbody>${facts}</tbody></table>` : "") +
    `${windows}</section>`;
  return { html, guides };
}

function latencyRow(name: string, s: LatencySummary): string[] {
  return [name, String(s.count), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max)];
}

export interface ReportOptions {
  /** For the capacity plan: the target rate, headroom and API processes that served the run. */
  plan?: PlanOptions;
}

export function renderReport(saved: SavedRun, options: ReportOptions = {}): string {
  const summary = summarize(saved);
  const capacityPlan = renderCapacityPlanSection(saved, options.plan);
  const annotations = annotationsSection(saved);
  const { counters } = summary;
  // Each interval is plotted at its end, so a run of N whole intervals spans 0..N seconds.
  const endSeconds = (startMs: number) => (startMs + intervalSeconds(saved, startMs) * 1000) / 1000;
  const timeAxis = { label: "time since start (s), at interval end" };

  const throughputChart = renderLineChart({
    title: "Requests and failed requests per second",
    series: [
      { name: "requests/s", color: COLORS.requests, points: saved.intervals.map((i) => ({ x: endSeconds(i.startMs), y: i.requests / intervalSeconds(saved, i.startMs) })) },
      { name: "failed/s", color: COLORS.errors, points: saved.intervals.map((i) => ({ x: endSeconds(i.startMs), y: intervalFailures(i) / intervalSeconds(saved, i.startMs) })) },
    ],
    xAxis: timeAxis,
    yAxis: { label: "per second" },
    guides: [...capacityPlan.timeGuides, ...annotations.guides],
  });

  const withResponses = summary.intervals.filter((i) => i.latency.count > 0);
  const latencySeries = (["p50", "p95", "p99", "max"] as const).map((key) => ({
    name: key,
    color: COLORS[key],
    points: withResponses.map((i) => ({ x: endSeconds(i.startMs), y: i.latency[key] })),
  }));
  const latencyChart = renderLineChart({
    title: "Latency over time (from intended start)",
    series: latencySeries,
    xAxis: timeAxis,
    yAxis: { label: "ms" },
    guides: annotations.guides,
  });

  const overall = decodeHistogram(saved.histograms.latency);
  const curve = percentileCurve(overall);
  overall.destroy();
  const maxNines = Math.round(curve.at(-1)?.x ?? 1);
  const distributionChart = renderLineChart({
    title: "Latency distribution (percentile curve)",
    series: [{ name: "latency", color: COLORS.p95, points: curve }],
    xAxis: { label: "percentile", ticks: Array.from({ length: maxNines + 1 }, (_, n) => n), format: ninesLabel },
    yAxis: { label: "ms" },
  });

  const statusChart = renderBarChart({
    title: "Responses by status code, transport errors by kind",
    bars: [
      ...Object.entries(counters.statusCodes).map(([code, value]) => ({ label: code, value, color: code.startsWith("2") ? "#59a14f" : "#f28e2b" })),
      ...Object.entries(counters.errors).map(([kind, value]) => ({ label: kind, value, color: COLORS.errors })),
    ],
    yAxis: { label: "count" },
    xLabel: "status code / error",
  });

  const endpointRows = Object.entries(summary.endpoints)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => latencyRow(name, s));
  const started = new Date(saved.startedAt).toISOString();

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Load test report — ${escapeHtml(started)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Load test report</h1>
<p class="meta">Started ${escapeHtml(started)} · ${escapeHtml((summary.durationMs / 1000).toFixed(1))} s · ${escapeHtml(summary.rates.responses.toFixed(1))} responses/s${saved.aborted ? " · <strong>aborted</strong>" : ""}</p>
<h2>Thresholds</h2>
${verdictsSection(saved.verdicts)}
<h2>Over time</h2>
<div class="charts">${throughputChart}${latencyChart}</div>
${annotations.html}
<h2>Capacity plan</h2>
${capacityPlan.html}
<h2>Latency</h2>
${table(["latency (ms)", "count", "p50", "p95", "p99", "max"], [latencyRow("from intended start", summary.latency), latencyRow("service time (from actual send)", summary.serviceTime)])}
<div class="charts">${distributionChart}${statusChart}</div>
<h2>Endpoints</h2>
${endpointRows.length > 0 ? table(["endpoint", "count", "p50 (ms)", "p95 (ms)", "p99 (ms)", "max (ms)"], endpointRows) : "<p>No endpoint recorded a response.</p>"}
<h2>Counters</h2>
${table(
  ["virtual users", "count"],
  [
    ["planned arrivals", String(counters.arrivalsPlanned)],
    ["created", String(counters.vusersCreated)],
    ["completed", String(counters.vusersCompleted)],
    ["failed", String(counters.vusersFailed)],
    ["dropped (maxVusers)", String(counters.vusersDropped)],
    [`late (> ${saved.lateThresholdMs} ms; worst ${ms(saved.maxLatenessMs)} ms)`, String(counters.arrivalsLate)],
    ["requests", String(counters.requests)],
    ["responses", String(counters.responses)],
    ["unexpected status", String(counters.unexpectedStatus)],
  ],
)}
${countsTable("status code", counters.statusCodes)}
${countsTable("transport error", counters.errors)}
${countsTable("virtual-user error", counters.vuserErrors)}
</body>
</html>
`;
}
