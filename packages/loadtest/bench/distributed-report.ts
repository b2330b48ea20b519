// Renders the engine benchmark's distributed part: the run over local generators against the same run in one process,
// each figure also as a ratio to the one-process run of the same round, and whether the merged counts are exact.
import { sectionMarkers } from "@checkout/bench-support";
import { othersPct } from "./cpu.ts";
import { ANSWERED_PATH, type DistributedComparison, type DistributedRound, type DistributedSide } from "./distributed-bench.ts";

/** The hand-written reading below the distributed part, inside the engine's section; a rerun keeps it. */
export const DISTRIBUTED_NOTES = sectionMarkers("engine-distributed-notes");

/** The hand-written reading in `existing` (markers included), or "" when it has none. */
export function existingDistributedNotes(existing: string | null): string {
  const lines = existing?.split("\n") ?? [];
  const start = lines.findIndex((line) => line.trim() === DISTRIBUTED_NOTES.start);
  const end = lines.findIndex((line, at) => at > start && line.trim() === DISTRIBUTED_NOTES.end);
  return start === -1 || end === -1 ? "" : lines.slice(start, end + 1).join("\n");
}

/** Throughput held: in every round the distributed run answered at least this share of the one-process run's responses/s. */
export const HELD_SHARE = 0.99;

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const count = (value: number) => integer.format(value);
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : "–");
const pct = (value: number | null) => (value === null ? "n/a" : `${Math.round(value)} %`);
const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "–");
const ratio = (b: number, a: number) => times(b / a);

/** The load-generating CPU of a run, percent of one core: the engine's process, or the coordinator and every generator. */
export function loadCpu(side: DistributedSide): number | null {
  if (side.cpu.generators.some((share) => share === null)) return null;
  return side.cpu.own + side.cpu.generators.reduce<number>((sum, share) => sum + (share ?? 0), 0);
}

export function throughputRatios(comparison: DistributedComparison): number[] {
  return comparison.rounds.map((round) => round.distributed.throughput / round.oneProcess.throughput);
}

export function isThroughputHeld(comparison: DistributedComparison): boolean {
  return comparison.rounds.length > 0 && throughputRatios(comparison).every((value) => value >= HELD_SHARE);
}

const sustained = (side: DistributedSide) => (side.failures.length ? `no: ${side.failures.join("; ")}` : "yes");
const late = (side: DistributedSide) => `${count(side.late)} (${((100 * side.late) / Math.max(1, side.planned)).toFixed(2)} %)`;

function runRows(rounds: readonly DistributedRound[]): string {
  const lines = [
    "| round | run | arrivals created of planned | responses | responses/s over the schedule | ×one process | dropped | late (> 10 ms) | worst lateness ms | run span s | p50 ms | ×one process | p99 ms | ×one process | sustained |",
    "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
  ];
  rounds.forEach(({ oneProcess: a, distributed: b }, at) => {
    for (const side of [a, b]) {
      const isBase = side === a;
      lines.push(
        `| ${at + 1} | ${isBase ? "(a) one process" : `(b) ${b.generators.length} local generators`} | ${count(side.created)} of ${count(side.planned)} | ${count(side.responses)} | ` +
          `${count(side.throughput)} | ${isBase ? "1.00×" : ratio(side.throughput, a.throughput)} | ${count(side.dropped)} | ${late(side)} | ${ms(side.maxLatenessMs)} | ` +
          `${side.spanSeconds.toFixed(2)} | ${ms(side.p50)} | ${isBase ? "1.00×" : ratio(side.p50, a.p50)} | ${ms(side.p99)} | ${isBase ? "1.00×" : ratio(side.p99, a.p99)} | ${sustained(side)} |`,
      );
    }
  });
  return lines.join("\n");
}

function cpuRows(rounds: readonly DistributedRound[]): string {
  const lines = [
    "| round | run | engine or coordinator process | generators (each) | load-generating CPU | ×one process | server | other programs |",
    "|--:|---|--:|--:|--:|--:|--:|--:|",
  ];
  rounds.forEach(({ oneProcess: a, distributed: b }, at) => {
    const base = loadCpu(a);
    for (const side of [a, b]) {
      const total = loadCpu(side);
      lines.push(
        `| ${at + 1} | ${side === a ? "(a) one process" : "(b) distributed"} | ${pct(side.cpu.own)} | ${side.cpu.generators.length ? side.cpu.generators.map(pct).join(", ") : "–"} | ` +
          `${pct(total)} | ${side === a ? "1.00×" : total === null || base === null ? "–" : ratio(total, base)} | ${pct(side.cpu.server)} | ${othersPct(side.cpu)} |`,
      );
    }
  });
  return lines.join("\n");
}

function generatorRows(rounds: readonly DistributedRound[]): string {
  const lines = [
    "| round | generator | arrivals created of planned | responses | dropped | late (> 10 ms) | max lag ms | start lag ms | CPU share (its own report) | CPU (/proc, the schedule) | state |",
    "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
  ];
  rounds.forEach(({ distributed: b }, at) => {
    for (const g of b.generators) {
      lines.push(
        `| ${at + 1} | ${g.index} | ${count(g.created)} of ${count(g.planned)} | ${count(g.responses)} | ${count(g.dropped)} | ${count(g.late)} | ${ms(g.maxLagMs)} | ` +
          `${Math.round(g.startLagMs)} | ${pct(g.reportedCpu)} | ${pct(b.cpu.generators[g.index] ?? null)} | ${g.failure ? `FAILED: ${g.failure}` : "ok"} |`,
      );
    }
  });
  return lines.join("\n");
}

function exactnessRows(rounds: readonly DistributedRound[]): string {
  const lines = ["| round | run | latency histogram's count | generators' histograms, added | responses counted | the target's count | exact |", "|--:|---|--:|--:|--:|--:|---|"];
  rounds.forEach(({ oneProcess: a, distributed: b }, at) => {
    for (const side of [a, b]) {
      lines.push(
        `| ${at + 1} | ${side === a ? "(a) one process" : "(b) merged"} | ${count(side.histogramCount)} | ${side.partsHistogramCount === null ? "–" : count(side.partsHistogramCount)} | ` +
          `${count(side.responses)} | ${count(side.targetAnswered)} | ${side.isExact ? "yes" : "**no**"} |`,
      );
    }
  });
  return lines.join("\n");
}

export function renderDistributedConsole(comparison: DistributedComparison | null): string[] {
  if (!comparison) return [];
  const ratios = throughputRatios(comparison).map(times).join(", ");
  const p99 = comparison.rounds.map((r) => times(r.distributed.p99 / r.oneProcess.p99)).join(", ");
  const exact = comparison.rounds.every((r) => r.oneProcess.isExact && r.distributed.isExact);
  return [
    `distributed (${comparison.count} local generators) / one process at ${count(comparison.rate)} req/s: throughput ${ratios}, p99 ${p99}; ` +
      `throughput ${isThroughputHeld(comparison) ? "held" : "NOT held"}; counts ${exact ? "exact" : "DISAGREE"}`,
  ];
}

export function renderDistributed(comparison: DistributedComparison | null, notes: string, cores: number): string {
  if (!comparison) return "";
  const { rate, seconds, count: generators, rounds } = comparison;
  const ratios = throughputRatios(comparison);
  const exact = rounds.every((r) => r.oneProcess.isExact && r.distributed.isExact);
  const cpuRatios = rounds.map((r) => {
    const [a, b] = [loadCpu(r.oneProcess), loadCpu(r.distributed)];
    return a === null || b === null ? "–" : times(b / a);
  });
  return `
### Distributed: --on local --count ${generators} vs one process

The same open-model run against the same target, ${count(rate)} req/s for ${seconds} s (${count(rate * seconds)} arrivals, one GET each), (a) in
one process, as \`run\` without \`--on\` runs it (${comparison.oneProcessThreads} load-generating thread${comparison.oneProcessThreads === 1 ? "" : "s"} here), and (b) spread over ${generators}
local generator processes by the coordinator, as \`run --on local --count ${generators}\` does (\`runDistributed\` with
\`launcherFor("local")\`, a folder store; each generator runs exactly every ${generators === 2 ? "second" : `${generators}th`} arrival from a common start
${(comparison.startDelayMs / 1000).toFixed(1)} s after the job is written; the merged result is \`mergeRunResults\` of theirs). ${rounds.length === 1 ? "One round" : `${rounds.length} rounds`}, (a) then (b)
in each. Rate: ${comparison.rateSource}. On this machine's ${cores} cores the target, the ${generators} generators and the coordinator
share the cores (in (a) the engine shares them with the target only): this measures what distributing costs on one
box, not extra capacity, which needs generators on other machines (\`--on fargate\`).

${runRows(rounds)}

**Throughput ${isThroughputHeld(comparison) ? "held" : "did not hold"}**: (b) / (a) responses per second over the schedule ${ratios.map(times).join(" and ")} (held means
≥ ${HELD_SHARE.toFixed(2)}× in every round). "Sustained" is the engine steps' rule above (none dropped, every arrival answered
without errors, at most 1 % late, p99 from the intended start ≤ 50 ms), and for (b) also no generator failed or started
its schedule more than 10 ms after the common start. The (b) generators start cold (a fresh process, code not yet
optimised); (a) runs in the bench's process, warmed by the steps before.

CPU over the schedule (percent of one core, from /proc): load-generating CPU is the engine's process in (a), the
coordinator's plus every generator's in (b); (b) / (a) ${cpuRatios.join(" and ")}. Other programs include the hypervisor's steal, as
in the engine steps.

${cpuRows(rounds)}

Each generator (the CLI prints the same table after a distributed run):

${generatorRows(rounds)}

**Counts ${exact ? "exact" : "NOT exact"}**: the merged latency histogram holds one sample per response; its count is checked
against the generators' own result histograms added up, the responses the counters hold, and the requests the target
itself counted during the run (\`hello-server.ts\`, \`GET ${ANSWERED_PATH}\`).

${exactnessRows(rounds)}
${notes ? `\n${notes}\n` : ""}`;
}
