// What a distributed run says about its generators, beside the run's own verdicts: a table showing each kept up (CPU,
// lag, dropped and late arrivals) and verdicts that fail the run when a generator died or started late.
import type { Verdict } from "../engine/ensure.ts";
import type { DistributedOutcome } from "./coordinator.ts";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * Fails when any generator died, was stopped for overrunning or never wrote its result (each named, with its id and
 * why), and when any started its schedule later than the late threshold after the common start (every arrival of
 * it was then that late, which the engine alone cannot see).
 */
export function generatorVerdicts(outcome: DistributedOutcome): Verdict[] {
  const { generators, failed, job } = outcome;
  const failedNames = failed.map((f) => `generator ${f.index} (${f.id}): ${f.reason}`);
  const late = generators.filter((g) => g.hasResult && g.startLagMs > job.lateThresholdMs);
  const worstStart = Math.max(0, ...generators.map((g) => g.startLagMs));
  return [
    {
      metric: "generators.failed",
      max: 0,
      actual: failed.length,
      passed: failed.length === 0,
      message:
        failed.length === 0
          ? `generators: all ${generators.length} ran their shard and wrote their result`
          : `generators: ${failed.length} of ${generators.length} failed, their part of the load is missing or partial: ${failedNames.join("; ")}`,
    },
    {
      metric: "generators.start_lag_ms",
      max: job.lateThresholdMs,
      actual: worstStart,
      passed: late.length === 0,
      message:
        late.length === 0
          ? `generators: every one started within ${job.lateThresholdMs} ms of the common start`
          : `generators: ${plural(late.length, "generator")} started late (${late.map((g) => `generator ${g.index} by ${Math.round(g.startLagMs)} ms`).join(", ")}): raise the start delay so they boot in time`,
    },
  ];
}

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** One row per generator: its arrivals, responses, dropped and late arrivals, worst lag, CPU and share of a core. */
export function formatGeneratorTable(outcome: DistributedOutcome): string {
  const header = ["gen", "id", "arrivals", "responses", "dropped", "late", "max lag ms", "start lag ms", "CPU s", "CPU share", "state"];
  const rows = outcome.generators.map((g) => [
    String(g.index),
    g.id,
    `${g.vusersCreated}/${g.arrivalsPlanned}`,
    String(g.responses),
    String(g.droppedArrivals),
    String(g.lateArrivals),
    g.maxLagMs.toFixed(1),
    g.startLagMs.toFixed(0),
    (g.cpuMs / 1000).toFixed(1),
    `${(g.cpuShare * 100).toFixed(0)} %`,
    g.failure ? `FAILED: ${g.failure}` : g.hasResult ? "ok" : g.state.state,
  ]);
  return pad([header, ...rows]);
}
