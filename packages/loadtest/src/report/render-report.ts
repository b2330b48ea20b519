// Renders a saved run (RunResult, plus the verdicts `run --output` saved) as one self-contained HTML page.
import type { Histogram } from "hdr-histogram-js";
import type { Verdict } from "../engine/ensure.ts";
import {
  decodeHistogram,
  intervalFailures,
  latencyAtPercentile,
  summarize,
  summarizeWindow,
  type LatencySummary,
  type RunCounters,
  type RunResult,
  type RunSummary,
} from "../engine/run-result.ts";
import { failureCauseRows } from "../engine/failure-causes.ts";
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

/** Failed virtual users by where and why (scenario, step, request, status and error code); results saved before it have none. */
function failedVusersTable(counters: Pick<RunCounters, "failures">): string {
  const rows = failureCauseRows(counters);
  if (rows.length === 0) return "<p>failed virtual users by cause: none</p>";
  return table(["failed virtual users by cause", "count"], rows);
}

/** Percentiles on a "nines" scale: x = log10(1 / (1 − p)), so p90 → 1, p99 → 2, p99.9 → 3. */
export function percentileCurve(histogram: Histogram): { x: number; y: number }[] {
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

export function ninesLabel(x: number): string {
  if (x === 0) return "p0";
  const percentile = 100 * (1 - 10 ** -x);
  return `p${Number(percentile.toFixed(Math.max(0, Math.round(x) - 2)))}`;
}

function intervalSeconds(result: Pick<RunResult, "intervalMs" | "durationMs">, startMs: number): number {
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

function latencyRow(name: string, s: LatencySummary | null): string[] {
  if (!s) return [name, "—", "—", "—", "—", "—"];
  return [name, String(s.count), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max)];
}

export interface ReportOptions {
  /** For the capacity plan: the target rate, headroom and API processes that served the run. */
  plan?: PlanOptions;
}

/**
 * What the page shows, with every histogram already decoded: `reportInput` makes it from a saved run for the final
 * report, the live dashboard (src/dashboard) builds it interval by interval. The page itself comes from
 * `renderReportBody` alone, so the live page and the frozen report are one renderer.
 */
export interface ReportInput {
  startedAt: number;
  durationMs: number;
  intervalMs: number;
  lateThresholdMs: number;
  /** Largest lateness of a launched arrival (ms); null while the run goes on. */
  maxLatenessMs: number | null;
  aborted: boolean;
  counters: RunCounters;
  intervals: RunSummary["intervals"];
  /** Latency from the intended start over the whole run; null when not known yet. */
  latency: LatencySummary | null;
  /** The same latency as a percentile curve on a "nines" scale (see percentileCurve); empty when not known. */
  percentiles: { x: number; y: number }[];
  serviceTime: LatencySummary | null;
  endpoints: Record<string, LatencySummary> | null;
  verdicts: Verdict[] | undefined;
  annotations: { html: string; guides: Guide[] };
  /** Null while the run goes on: a plan needs the whole run. */
  capacityPlan: { html: string; timeGuides: Guide[] } | null;
  /** True while the run goes on: what only its end can tell says so instead. */
  isLive: boolean;
}

/** Decodes a saved run's histograms into what the page shows. */
export function reportInput(saved: SavedRun, options: ReportOptions = {}): ReportInput {
  const summary = summarize(saved);
  const overall = decodeHistogram(saved.histograms.latency);
  const percentiles = percentileCurve(overall);
  overall.destroy();
  return {
    startedAt: saved.startedAt,
    durationMs: saved.durationMs,
    intervalMs: saved.intervalMs,
    lateThresholdMs: saved.lateThresholdMs,
    maxLatenessMs: saved.maxLatenessMs,
    aborted: saved.aborted,
    counters: saved.counters,
    intervals: summary.intervals,
    latency: summary.latency,
    percentiles,
    serviceTime: summary.serviceTime,
    endpoints: summary.endpoints,
    verdicts: saved.verdicts,
    annotations: annotationsSection(saved),
    capacityPlan: renderCapacityPlanSection(saved, options.plan),
    isLive: false,
  };
}

/** The report's content: what `<main id="report">` holds, in the saved report and on the live dashboard alike. */
export function renderReportBody(input: ReportInput): string {
  const { counters, annotations, isLive } = input;
  const timeGuides = input.capacityPlan?.timeGuides ?? [];
  const seconds = (startMs: number) => intervalSeconds(input, startMs);
  // Each interval is plotted at its end, so a run of N whole intervals spans 0..N seconds.
  const endSeconds = (startMs: number) => (startMs + seconds(startMs) * 1000) / 1000;
  const timeAxis = { label: "time since start (s), at interval end" };

  const throughputChart = renderLineChart({
    title: "Requests and failed requests per second",
    series: [
      { name: "requests/s", color: COLORS.requests, points: input.intervals.map((i) => ({ x: endSeconds(i.startMs), y: i.requests / seconds(i.startMs) })) },
      { name: "failed/s", color: COLORS.errors, points: input.intervals.map((i) => ({ x: endSeconds(i.startMs), y: intervalFailures(i) / seconds(i.startMs) })) },
    ],
    xAxis: timeAxis,
    yAxis: { label: "per second" },
    guides: [...timeGuides, ...annotations.guides],
  });

  const withResponses = input.intervals.filter((i) => i.latency.count > 0);
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

  const maxNines = Math.round(input.percentiles.at(-1)?.x ?? 1);
  const distributionChart = renderLineChart({
    title: "Latency distribution (percentile curve)",
    series: [{ name: "latency", color: COLORS.p95, points: input.percentiles }],
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

  const endpointRows = Object.entries(input.endpoints ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => latencyRow(name, s));
  const started = new Date(input.startedAt).toISOString();
  const responseRate = counters.responses / (input.durationMs / 1000 || 1);
  const duration = `${(input.durationMs / 1000).toFixed(1)} s${isLive ? " so far" : ""}`;
  const lateness = input.maxLatenessMs === null ? "" : `; worst ${ms(input.maxLatenessMs)} ms`;
  const endpoints = isLive
    ? "<p>Each endpoint's latency is listed when the run ends.</p>"
    : endpointRows.length > 0
      ? table(["endpoint", "count", "p50 (ms)", "p95 (ms)", "p99 (ms)", "max (ms)"], endpointRows)
      : "<p>No endpoint recorded a response.</p>";

  return `<h1>Load test report</h1>
<p class="meta">Started ${escapeHtml(started)} · ${isLive ? "<strong>running</strong> · " : ""}${escapeHtml(duration)} · ${escapeHtml(responseRate.toFixed(1))} responses/s${input.aborted ? " · <strong>aborted</strong>" : ""}</p>
<h2>Thresholds</h2>
${isLive ? "<p>The thresholds are judged when the run ends.</p>" : verdictsSection(input.verdicts)}
<h2>Over time</h2>
<div class="charts">${throughputChart}${latencyChart}</div>
${annotations.html}
<h2>Capacity plan</h2>
${input.capacityPlan?.html ?? "<p>The capacity plan is made from the whole run, when it ends.</p>"}
<h2>Latency</h2>
${table(["latency (ms)", "count", "p50", "p95", "p99", "max"], [latencyRow("from intended start", input.latency), latencyRow("service time (from actual send)", input.serviceTime)])}
${isLive ? '<p class="meta">While the run goes on, a figure shown as — is known only at its end.</p>\n' : ""}<div class="charts">${distributionChart}${statusChart}</div>
<h2>Endpoints</h2>
${endpoints}
<h2>Counters</h2>
${table(
  ["virtual users", "count"],
  [
    ["planned arrivals", String(counters.arrivalsPlanned)],
    ["created", String(counters.vusersCreated)],
    ["completed", String(counters.vusersCompleted)],
    ["failed", String(counters.vusersFailed)],
    ["dropped (maxVusers)", String(counters.vusersDropped)],
    [`late (> ${input.lateThresholdMs} ms${lateness})`, String(counters.arrivalsLate)],
    ["requests", String(counters.requests)],
    ["responses", String(counters.responses)],
    ["unexpected status", String(counters.unexpectedStatus)],
  ],
)}
${countsTable("status code", counters.statusCodes)}
${countsTable("transport error", counters.errors)}
${countsTable("virtual-user error", counters.vuserErrors)}
${failedVusersTable(counters)}`;
}

/** The saved report's policy: styles only; the page runs no script and loads nothing. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

export interface ReportPage {
  /** From renderReportBody. */
  body: string;
  title: string;
  /** The Content-Security-Policy the page declares. */
  csp?: string;
  /** Markup before `<main>` (the live dashboard's status line). */
  before?: string;
  /** Markup at the end of `<head>` (the live dashboard's script). */
  head?: string;
}

/** The HTML document around a report's content. */
export function renderReportPage({ body, title, csp = REPORT_CSP, before = "", head = "" }: ReportPage): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
${head}</head>
<body>
${before}<main id="report">
${body}
</main>
</body>
</html>
`;
}

export function renderReport(saved: SavedRun, options: ReportOptions = {}): string {
  return renderReportPage({ body: renderReportBody(reportInput(saved, options)), title: `Load test report — ${new Date(saved.startedAt).toISOString()}` });
}
