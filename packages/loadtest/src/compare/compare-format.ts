// How a comparison reads: the terminal table, the verdict line, JUnit XML and GitHub annotations. Shared by the
// command and the HTML section so every place shows the same numbers the same way.
import type { Annotation } from "../ci/github-actions.ts";
import { renderJunit } from "../ci/junit.ts";
import type { ChangeUnit, Comparison, MetricComparison } from "./compare-runs.ts";
import { formatLimit } from "./regression-limits.ts";

export const TABLE_HEADERS = ["metric", "baseline", "current", "change", "CI", "limit", "verdict"];

/** A change with its sign; one that rounds to zero reads +0. */
function signed(value: number, digits: number): string {
  const text = Math.abs(value).toFixed(digits);
  return `${value < 0 && Number(text) !== 0 ? "-" : "+"}${text}`;
}

/** A latency (ms) or an error rate (%) as measured. */
export function formatValue(metric: MetricComparison["metric"], value: number | null): string {
  if (value === null) return "—";
  if (metric === "error_rate") return `${value.toFixed(3)} %`;
  return `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ms`;
}

export function formatChange(unit: ChangeUnit, change: number | null): string {
  if (change === null) return "—";
  switch (unit) {
    case "relative":
      return `${signed(change * 100, 1)} %`;
    case "ms":
      return `${signed(change, 2)} ms`;
    default:
      return `${signed(change, 3)} pp`;
  }
}

export function formatInterval(metric: MetricComparison): string {
  if (!metric.interval) return "—";
  return `[${formatChange(metric.unit, metric.interval.low)}, ${formatChange(metric.unit, metric.interval.high)}]`;
}

export function formatVerdict(metric: MetricComparison): string {
  switch (metric.verdict) {
    case "fail":
      return "FAIL";
    case "insufficient":
      return `not judged: ${metric.note ?? "too little data"}`;
    default:
      return metric.verdict;
  }
}

export function metricLabel(metric: MetricComparison["metric"]): string {
  return metric === "error_rate" ? "error rate" : metric;
}

export function tableRows(comparison: Comparison): string[][] {
  return comparison.metrics.map((m) => [
    metricLabel(m.metric),
    formatValue(m.metric, m.baseline),
    formatValue(m.metric, m.current),
    formatChange(m.unit, m.change),
    formatInterval(m),
    m.limit ? formatLimit(m.limit) : "—",
    formatVerdict(m),
  ]);
}

/** The table aligned for a terminal: text columns to the left, numbers to the right. */
export function formatTable(comparison: Comparison): string {
  const headers = [...TABLE_HEADERS];
  headers[4] = `${Math.round(comparison.confidence * 100)} % CI`;
  const rows = tableRows(comparison);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const isLeft = (i: number) => i === 0 || i === headers.length - 1;
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (isLeft(i) ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** Why a metric failed, in one sentence. */
export function failureMessage(metric: MetricComparison, confidence: number): string {
  const low = metric.interval ? formatChange(metric.unit, metric.interval.low) : "?";
  return (
    `${metricLabel(metric.metric)} regressed: ${formatValue(metric.metric, metric.baseline)} → ${formatValue(metric.metric, metric.current)} ` +
    `(${formatChange(metric.unit, metric.change)}); with ${Math.round(confidence * 100)} % confidence at least ${low}, over the limit ${metric.limit ? formatLimit(metric.limit) : ""}`
  );
}

export function verdictLine(comparison: Comparison): string {
  const failed = comparison.metrics.filter((m) => m.verdict === "fail");
  const confidence = `${Math.round(comparison.confidence * 100)} %`;
  if (failed.length === 0) return `verdict: PASS (no metric is worse than its limit with ${confidence} confidence)`;
  return `verdict: FAIL (${failed.map((m) => `${metricLabel(m.metric)} at least ${formatChange(m.unit, m.interval?.low ?? null)}, limit ${m.limit ? formatLimit(m.limit) : "—"}`).join("; ")})`;
}

/** A test case per metric: a failure when it regressed past its limit, skipped when it could not be judged. */
export function comparisonJunit(comparison: Comparison, labels: { baseline: string; current: string }): string {
  const cases = comparison.metrics.map((m) => {
    const details = `baseline ${formatValue(m.metric, m.baseline)}, current ${formatValue(m.metric, m.current)}, change ${formatChange(m.unit, m.change)}, CI ${formatInterval(m)}`;
    const outcome: "passed" | "failed" | "skipped" = m.verdict === "fail" ? "failed" : m.verdict === "insufficient" ? "skipped" : "passed";
    const message = m.verdict === "fail" ? failureMessage(m, comparison.confidence) : m.verdict === "insufficient" ? `not judged: ${m.note ?? "too little data"}` : details;
    return { name: metricLabel(m.metric), classname: "checkout-loadtest.compare", outcome, message, type: "regression", details };
  });
  return renderJunit({
    name: "checkout-loadtest",
    suites: [
      {
        name: `checkout-loadtest compare: ${labels.current} against ${labels.baseline}`,
        time: 0,
        timestamp: new Date(comparison.current.startedAt).toISOString(),
        properties: { baseline: labels.baseline, current: labels.current, confidence: String(comparison.confidence), seed: String(comparison.seed) },
        cases,
      },
    ],
  });
}

export function comparisonAnnotations(comparison: Comparison, labels: { baseline: string; current: string }): Annotation[] {
  const failed = comparison.metrics.filter((m) => m.verdict === "fail");
  return [
    ...failed.map((m) => ({ level: "error" as const, title: `Load test regression: ${metricLabel(m.metric)}`, message: failureMessage(m, comparison.confidence) })),
    ...comparison.notes.map((note) => ({ level: "warning" as const, title: "Load test comparison", message: note })),
    {
      level: "notice",
      title: `Load test comparison: ${comparison.passed ? "PASS" : "FAIL"}`,
      message: `${labels.current} against ${labels.baseline}: ${verdictLine(comparison).replace(/^verdict: /, "")}`,
    },
  ];
}
