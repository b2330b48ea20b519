// `checkout-loadtest plan result.json --target-rps N`: flag parsing, the printed plan (or --json) and its exit code.
import { readFileSync } from "node:fs";
import { vcpuOf } from "../../../../stacks/api-task-size.ts";
import type { SavedRun } from "../report/saved-run.ts";
import { BACKLOG_TOLERANCE, CapacityPlanError, planCapacity, type CapacityPlan, type PlanOptions, type WindowVerdict } from "./capacity-plan.ts";

export class PlanUsageError extends Error {}

/** The flags `plan` and `report` share, as parseArgs gives them. */
export interface PlanFlags {
  "target-rps"?: string;
  headroom?: string;
  processes?: string;
  window?: string;
}

function parseNumber(value: string | undefined, name: string, isValid: (n: number) => boolean, expected: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || !isValid(parsed)) throw new PlanUsageError(`${name} must be ${expected}, got "${value}"`);
  return parsed;
}

export function parsePlanFlags(flags: PlanFlags): PlanOptions {
  return {
    targetRps: parseNumber(flags["target-rps"], "--target-rps", (n) => n > 0, "a positive number of requests/s"),
    headroom: parseNumber(flags.headroom, "--headroom", (n) => n >= 0 && n <= 10, "a fraction between 0 and 10 (0.3 = 30 %)"),
    processes: parseNumber(flags.processes, "--processes", (n) => Number.isInteger(n) && n >= 1, "a whole number of API processes >= 1"),
    windowSeconds: parseNumber(flags.window, "--window", (n) => n > 0, "a positive number of seconds"),
  };
}

/** Reads a result written by `run --output`; a usage error when it is not one. */
export function readSavedRun(file: string): SavedRun {
  let saved: SavedRun;
  try {
    saved = JSON.parse(readFileSync(file, "utf8")) as SavedRun;
  } catch (error) {
    if (error instanceof SyntaxError) throw new PlanUsageError(`${file} is not JSON: ${error.message}`);
    throw error;
  }
  if (saved?.version !== 1 || !saved.histograms || !Array.isArray(saved.intervals)) {
    throw new PlanUsageError(`${file} is not a result written by run --output`);
  }
  return saved;
}

const rate = (value: number) => Math.round(value).toLocaleString("en-US");
const ms = (value: number) => value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2);
const seconds = (value: number) => String(Number((value / 1000).toFixed(1)));
const span = (w: WindowVerdict) => `${seconds(w.startMs)}–${seconds(w.endMs)} s`;

function windowTable(plan: CapacityPlan): string[] {
  const headers = ["window", "req/s", "resp/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors %", "done %", "result"];
  const rows = plan.windows.map((w) => [
    span(w),
    rate(w.requestRate),
    rate(w.responseRate),
    ms(w.latency.p50),
    ms(w.latency.p95),
    ms(w.latency.p99),
    ms(w.latency.max),
    w.requestErrorRatePercent.toFixed(3),
    (w.completionRatio * 100).toFixed(1),
    (w.met ? "met" : "BROKEN") + (w === plan.knee ? "  ← knee" : w === plan.firstBroken ? `  ← first broken: ${w.failures.join("; ")}` : ""),
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === headers.length - 1 ? 0 : (r[i] ?? "").length))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : i === cells.length - 1 ? cell : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** The plan as the terminal shows it: thresholds, the window table, the knee, the per-process rate and the tasks. */
export function formatPlan(plan: CapacityPlan, { source, saved }: { source: string; saved: SavedRun }): string {
  const { knee, firstBroken, taskSize, target } = plan;
  const lines = [
    `capacity plan from ${source}: a ${seconds(saved.durationMs)} s run started ${new Date(saved.startedAt).toISOString()}, served by ${plan.processes} API process(es)`,
    `windows of ${plan.windowSeconds} s sliding by ${seconds(plan.intervalMs)} s; a window meets when`,
    ...plan.thresholds.map(
      (t) => `  ${t.metric} <= ${t.max} ${t.unit}  (${t.source === "script" ? "the script's ensure" : "service level: the script sets no threshold of this kind"})`,
    ),
    `  the server kept up: requests unanswered at its end <= ${BACKLOG_TOLERANCE * 100} % of its requests, or request rate × ${plan.backlogLatencyMs} ms if more`,
    ...plan.ignoredThresholds.map((i) => `  not applied per window: ${i.metric} (${i.reason})`),
    "",
    ...windowTable(plan),
    "",
  ];
  if (!knee) {
    lines.push(
      firstBroken ? `no knee: the first window (${span(firstBroken)}) already broke the thresholds (${firstBroken.failures.join("; ")})` : "no knee: no window sent a request",
    );
    return lines.join("\n");
  }
  lines.push(
    `knee: ${rate(knee.responseRate)} responses/s in ${span(knee)} (p95 ${ms(knee.latency.p95)} ms, p99 ${ms(knee.latency.p99)} ms, request errors ${knee.requestErrorRatePercent.toFixed(3)} %)` +
      (plan.isLowerBound ? " — a lower bound: no window broke" : ""),
    firstBroken ? `first broken window: ${span(firstBroken)} at ${rate(firstBroken.responseRate)} responses/s — ${firstBroken.failures.join("; ")}` : "first broken window: none",
    `per API process: ${rate(plan.perProcessRps ?? 0)} req/s (${rate(knee.responseRate)} / ${plan.processes} process(es))`,
    `task size (API_TASK_SIZE, stacks/api-task-size.ts): ${vcpuOf(taskSize)} vCPU, ${taskSize.memoryMiB} MiB, ${taskSize.apiProcessesPerTask} API process(es) per task, autoscaling ${taskSize.minTasks}–${taskSize.maxTasks} tasks`,
  );
  if (target) {
    const verdict = target.exceedsMax
      ? `OVER the autoscaling maximum of ${taskSize.maxTasks}: raise maxTasks, or make each process faster`
      : target.isAtMinimum && Math.ceil(target.exactTasks) < taskSize.minTasks
        ? `the autoscaling minimum (${taskSize.minTasks}) is enough`
        : `within the autoscaling range ${taskSize.minTasks}–${taskSize.maxTasks}`;
    lines.push(
      `tasks for ${rate(target.targetRps)} req/s with ${Number((target.headroom * 100).toFixed(1))} % headroom: ` +
        `${rate(target.requiredRps)} req/s / ${rate(target.perTaskRps)} req/s per task = ${target.exactTasks.toFixed(2)} → ${target.tasks} tasks (${verdict})`,
    );
  } else {
    lines.push("tasks: give --target-rps N to count them");
  }
  lines.push("notes:", ...plan.notes.map((note) => `  - ${note}`));
  return lines.join("\n");
}

export interface PlanIo {
  out(text: string): void;
  err(text: string): void;
}

const consoleIo: PlanIo = { out: (text) => console.log(text), err: (text) => console.error(text) };

/** Prints the plan; 0 when there is one, 2 (with the reason on stderr) when the run never met the thresholds. */
export function executePlan(input: PlanFlags & { file: string | undefined; json?: boolean }, io: PlanIo = consoleIo): number {
  if (!input.file) throw new PlanUsageError("plan needs a result.json written by run --output");
  const options = parsePlanFlags(input);
  const saved = readSavedRun(input.file);
  let plan: CapacityPlan;
  try {
    plan = planCapacity(saved, options);
  } catch (error) {
    if (error instanceof CapacityPlanError) throw new PlanUsageError(`${input.file}: ${error.message}`);
    throw error;
  }
  io.out(input.json ? JSON.stringify(plan, null, 2) : formatPlan(plan, { source: input.file, saved }));
  if (!plan.knee) {
    io.err(
      `${input.file}: the run never met the thresholds (its first window already broke them), so there is no capacity to plan from. ` +
        "Start the ramp lower, or fix what broke first.",
    );
    return 2;
  }
  return 0;
}
