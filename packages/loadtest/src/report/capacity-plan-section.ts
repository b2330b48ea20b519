// The report's "Capacity plan" section: the knee, the per-process rate, the tasks for a target, and latency by window rate.
import { vcpuOf } from "../../../../stacks/api-task-size.ts";
import { BACKLOG_TOLERANCE, CapacityPlanError, planCapacity, primaryLatencyThreshold, type CapacityPlan, type PlanOptions, type WindowVerdict } from "../plan/capacity-plan.ts";
import type { SavedRun } from "./saved-run.ts";
import { escapeHtml, formatNumber, niceTicks, renderLineChart, type Guide } from "./svg-charts.ts";

const COLORS = { line: "#b0b0b0", met: "#59a14f", broken: "#e15759", knee: "#1a7f37", limit: "#cf222e" };
/** Windows far past the knee can reach seconds; the chart stops at this many times the latency limit. */
const CLIP_FACTOR = 3;

const rate = (value: number) => Math.round(value).toLocaleString("en-US");
const ms = (value: number) => value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2);
const seconds = (value: number) => String(Number((value / 1000).toFixed(1)));
const span = (w: WindowVerdict) => `${seconds(w.startMs)}–${seconds(w.endMs)} s`;

function row(cells: string[]): string {
  return `<tr>${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`;
}

function rateChart(plan: CapacityPlan): string {
  const threshold = primaryLatencyThreshold(plan.thresholds);
  if (!threshold) return "";
  const { stat } = threshold.measure;
  const cap = threshold.max * CLIP_FACTOR;
  const point = (w: WindowVerdict) => ({ x: w.responseRate, y: Math.min(cap, w.latency[stat]) });
  const isClipped = plan.windows.some((w) => w.latency[stat] > cap);
  const guides: Guide[] = [{ axis: "y", value: threshold.max, label: `${stat} limit ${formatNumber(threshold.max)} ms`, color: COLORS.limit }];
  if (plan.knee) guides.push({ axis: "x", value: plan.knee.responseRate, label: `knee ${rate(plan.knee.responseRate)}/s`, color: COLORS.knee });
  return renderLineChart({
    title: `${stat} by window rate${isClipped ? ` (above ${formatNumber(cap)} ms drawn at the top)` : ""}`,
    series: [
      { name: `${stat} in time order`, color: COLORS.line, points: plan.windows.map(point) },
      { name: "met", color: COLORS.met, style: "dots", points: plan.windows.filter((w) => w.met).map(point) },
      { name: "broken", color: COLORS.broken, style: "dots", points: plan.windows.filter((w) => !w.met).map(point) },
    ],
    xAxis: { label: "window rate (responses/s)" },
    yAxis: { label: "ms", ticks: isClipped ? niceTicks(0, cap, 5) : undefined },
    guides,
  });
}

function summaryTable(plan: CapacityPlan): string {
  const { knee, firstBroken, taskSize, target } = plan;
  const rows: string[] = [];
  if (knee) {
    rows.push(
      row([
        "knee",
        `${rate(knee.responseRate)} responses/s in ${span(knee)} (p95 ${ms(knee.latency.p95)} ms, p99 ${ms(knee.latency.p99)} ms, request errors ${knee.requestErrorRatePercent.toFixed(3)} %)` +
          (plan.isLowerBound ? " — a lower bound: no window broke" : ""),
      ]),
    );
  }
  rows.push(row(["first broken window", firstBroken ? `${span(firstBroken)} at ${rate(firstBroken.responseRate)} responses/s: ${firstBroken.failures.join("; ")}` : "none"]));
  if (plan.perProcessRps !== null) {
    rows.push(row(["per API process", `${rate(plan.perProcessRps)} req/s (the run was served by ${plan.processes} API process(es))`]));
  }
  rows.push(
    row([
      "deployed task",
      `${vcpuOf(taskSize)} vCPU, ${taskSize.memoryMiB} MiB, ${taskSize.apiProcessesPerTask} API process(es); autoscaling ${taskSize.minTasks}–${taskSize.maxTasks} tasks`,
    ]),
  );
  if (target) {
    const cells =
      `${rate(target.requiredRps)} req/s (${rate(target.targetRps)} + ${Number((target.headroom * 100).toFixed(1))} % headroom) / ` +
      `${rate(target.perTaskRps)} req/s per task = ${target.exactTasks.toFixed(2)} → ${target.tasks} tasks`;
    const verdict = target.exceedsMax
      ? `<td class="fail">${escapeHtml(`${cells}: OVER the autoscaling maximum of ${taskSize.maxTasks}`)}</td>`
      : `<td class="pass">${escapeHtml(`${cells}, within ${taskSize.minTasks}–${taskSize.maxTasks}`)}</td>`;
    rows.push(`<tr><td>tasks for ${escapeHtml(rate(target.targetRps))} req/s</td>${verdict}</tr>`);
  } else if (plan.knee) {
    rows.push(row(["tasks", "give report --target-rps N to count the tasks for a target rate"]));
  }
  return `<table class="capacity-plan"><tbody>${rows.join("")}</tbody></table>`;
}

function windowsTable(plan: CapacityPlan): string {
  const head = ["window", "req/s", "resp/s", "p95 ms", "p99 ms", "errors %", "done %", "result"].map((h) => `<th>${h}</th>`).join("");
  const body = plan.windows
    .map((w) => {
      const mark = w === plan.knee ? " ← knee" : w === plan.firstBroken ? " ← first broken" : "";
      const result = w.met ? "met" : `BROKEN: ${w.failures.join("; ")}`;
      return (
        `<tr${w === plan.knee ? ' class="knee"' : ""}>` +
        [span(w), rate(w.requestRate), rate(w.responseRate), ms(w.latency.p95), ms(w.latency.p99), w.requestErrorRatePercent.toFixed(3), (w.completionRatio * 100).toFixed(1)]
          .map((cell) => `<td>${escapeHtml(cell)}</td>`)
          .join("") +
        `<td class="${w.met ? "pass" : "fail"}">${escapeHtml(result + mark)}</td></tr>`
      );
    })
    .join("");
  return `<details><summary>All ${plan.windows.length} windows</summary><table class="windows"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></details>`;
}

/** The section's HTML, and the marks for the requests-over-time chart (at the knee's and first broken window's ends). */
export function renderCapacityPlanSection(saved: SavedRun, options: PlanOptions = {}): { html: string; timeGuides: Guide[] } {
  let plan: CapacityPlan;
  try {
    plan = planCapacity(saved, options);
  } catch (error) {
    if (error instanceof CapacityPlanError) return { html: `<p>No capacity plan: ${escapeHtml(error.message)}.</p>`, timeGuides: [] };
    throw error;
  }
  const rule =
    `Windows of ${plan.windowSeconds} s slide over the run by one interval. A window meets when ` +
    plan.thresholds.map((t) => `${t.metric} ≤ ${t.max} ${t.unit} (${t.source === "script" ? "the script's ensure" : "service level"})`).join(", ") +
    `, with latencies from the window's merged histogram, and the server kept up: the requests it left unanswered are at most ${BACKLOG_TOLERANCE * 100} % of its requests, ` +
    `or request rate × ${plan.backlogLatencyMs} ms (the backlog that latency implies) if that is more. ` +
    "The knee is the highest rate before the first window that breaks.";
  const verdict = plan.knee
    ? `<p>Capacity: <strong>${escapeHtml(rate(plan.perProcessRps ?? 0))} req/s per API process</strong>${plan.target ? ` → <strong>${plan.target.tasks} tasks</strong> for ${escapeHtml(rate(plan.target.targetRps))} req/s` : ""}.</p>`
    : `<p class="fail">The run never met the thresholds: its first window already broke them, so there is no capacity to plan from.</p>`;
  const timeGuides: Guide[] = [];
  if (plan.knee) timeGuides.push({ axis: "x", value: plan.knee.endMs / 1000, label: "knee", color: COLORS.knee });
  if (plan.firstBroken) timeGuides.push({ axis: "x", value: plan.firstBroken.endMs / 1000, label: "first broken", color: COLORS.limit });
  const html =
    `<section id="capacity-plan">${verdict}${summaryTable(plan)}` +
    `<div class="charts">${rateChart(plan)}</div>` +
    `<p class="meta">${escapeHtml(rule)}</p>` +
    (plan.ignoredThresholds.length > 0
      ? `<p class="meta">Not applied per window: ${escapeHtml(plan.ignoredThresholds.map((i) => `${i.metric} (${i.reason})`).join("; "))}.</p>`
      : "") +
    `<ul class="notes">${plan.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join("")}</ul>` +
    windowsTable(plan) +
    `</section>`;
  return { html, timeGuides };
}
