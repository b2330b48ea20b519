// Renders the engine benchmark as console lines and as its own section of docs/BENCHMARKS.md, between markers the API bench keeps.
import { sectionMarkers } from "@checkout/bench-support";
import { othersPct, type CpuShares } from "./cpu.ts";
import type { DistributedComparison } from "./distributed-bench.ts";
import { renderDistributed, renderDistributedConsole } from "./distributed-report.ts";

/** The markers of this bench's section; the API bench keeps what is between them when it rewrites the file. */
export const SECTION = sectionMarkers("engine-bench");

export interface SustainRule {
  /** Share of planned arrivals that may start late (the engine's own tolerance, LATE_ARRIVAL_TOLERANCE). */
  maxLateShare: number;
  lateThresholdMs: number;
  /** p99 bound, ms (from the intended start for the engine; Artillery only has the time from the send). */
  maxP99Ms: number;
  /** Share of the offered rate a tool without a per-arrival clock (Artillery) must achieve. */
  minAchievedShare: number;
}

export interface EngineStep {
  offered: number;
  achieved: number;
  planned: number;
  responses: number;
  errors: number;
  dropped: number;
  late: number;
  maxLatenessMs: number;
  p50: number;
  p99: number;
  serviceP99: number;
  cpu: CpuShares;
  /** Why it was not sustained; empty when it was. */
  failures: string[];
  /** A repeat of a failed step (one retry absorbs a burst from other programs). */
  isRetry: boolean;
}

export interface AutocannonRun {
  label: string;
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  cpu: CpuShares;
}

export interface ArtilleryStep {
  offered: number;
  achieved: number;
  created: number;
  expected: number;
  responses: number;
  errors: number;
  p50: number;
  p99: number;
  wallSeconds: number;
  /** Artillery's process (all its threads), percent of one core, sampled until it exited. */
  cpuPercent: number | null;
  failures: string[];
  isRetry: boolean;
}

export interface Agreement {
  rate: number;
  engine: { p50: number; p99: number; serviceP50: number; serviceP99: number; responses: number };
  autocannon: { p50: number; p99: number; ownP50: number; ownP99: number; responses: number; connections: number };
}

export interface EngineBenchReport {
  date: Date;
  machine: string;
  nodeVersion: string;
  commit: string | null;
  loadAverage: number[];
  versions: { autocannon: string; artillery: string };
  helloBytes: number;
  workers: number;
  engineSeconds: number;
  artillerySeconds: number;
  rule: SustainRule;
  engineSteps: EngineStep[];
  autocannonRuns: AutocannonRun[];
  artillerySteps: ArtilleryStep[];
  agreement: Agreement;
  /** The run over local generators against the same run in one process; null when it was not run. */
  distributed: DistributedComparison | null;
  cores: number;
  totalSeconds: number;
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const rps = (value: number) => integer.format(value);
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : "–");
const pct = (value: number | null) => (value === null ? "n/a" : `${Math.round(value)} %`);
const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "–");

/** The highest sustained step, or null when none was. */
export function highestSustained<T extends { offered: number; failures: string[] }>(steps: readonly T[]): T | null {
  return steps.filter((s) => s.failures.length === 0).reduce<T | null>((best, s) => (best && best.offered >= s.offered ? best : s), null);
}

export interface Headline {
  engine: EngineStep | null;
  artillery: ArtilleryStep | null;
  /** autocannon's throughput: the mean of the runs at its best connection count (measured before and after the engine). */
  autocannon: { requestsPerSecond: number; connections: number; runs: AutocannonRun[] };
  engineOverAutocannon: number;
  engineOverArtillery: number;
}

export function headline(report: EngineBenchReport): Headline {
  const byConnections = new Map<number, AutocannonRun[]>();
  for (const run of report.autocannonRuns) byConnections.set(run.connections, [...(byConnections.get(run.connections) ?? []), run]);
  const mean = (runs: AutocannonRun[]) => runs.reduce((sum, r) => sum + r.requestsPerSecond, 0) / runs.length;
  const [connections, runs] = [...byConnections].reduce((best, entry) => (mean(entry[1]) > mean(best[1]) ? entry : best));
  const engine = highestSustained(report.engineSteps);
  const artillery = highestSustained(report.artillerySteps);
  const autocannon = { requestsPerSecond: mean(runs), connections, runs };
  return {
    engine,
    artillery,
    autocannon,
    engineOverAutocannon: (engine?.offered ?? 0) / autocannon.requestsPerSecond,
    engineOverArtillery: artillery ? (engine?.offered ?? 0) / artillery.offered : Number.POSITIVE_INFINITY,
  };
}

/** Above this share of one core used by other programs during a window, the run is flagged as disturbed. */
const DISTURBED_PERCENT = 25;

export function disturbance(report: EngineBenchReport): string | null {
  const windows = [...report.engineSteps, ...report.autocannonRuns].map((s) => s.cpu);
  const worst = Math.max(0, ...windows.map((cpu) => cpu.others ?? 0));
  if (worst <= DISTURBED_PERCENT) return null;
  const worstSteal = Math.max(0, ...windows.map((cpu) => cpu.steal ?? 0));
  const steal = worstSteal >= 1 ? ` (the hypervisor's steal alone up to ${Math.round(worstSteal)} %: time this virtual machine's cores were given to other guests)` : "";
  return `Other programs used up to ${Math.round(worst)} % of a core during a measured window${steal} (load average ${report.loadAverage
    .map((v) => v.toFixed(2))
    .join(", ")} at the start): these numbers are disturbed. Rerun on a quiet machine.`;
}

export function renderConsole(report: EngineBenchReport): string {
  const h = headline(report);
  const warning = disturbance(report);
  return [
    `engine highest sustained: ${h.engine ? `${rps(h.engine.offered)} req/s (p50 ${ms(h.engine.p50)} ms, p99 ${ms(h.engine.p99)} ms from the intended start)` : "none"}`,
    `autocannon throughput:    ${rps(h.autocannon.requestsPerSecond)} req/s (${h.autocannon.connections} connections, mean of ${h.autocannon.runs.length} runs)`,
    `Artillery sustained:      ${h.artillery ? `${rps(h.artillery.offered)} req/s` : "none of the steps"}`,
    `engine / autocannon = ${ratio(h.engineOverAutocannon)}, engine / Artillery = ${ratio(h.engineOverArtillery)}`,
    `latency at ${rps(report.agreement.rate)} req/s: engine p50 ${ms(report.agreement.engine.serviceP50)} / p99 ${ms(report.agreement.engine.serviceP99)} ms from the send ` +
      `(${ms(report.agreement.engine.p50)} / ${ms(report.agreement.engine.p99)} from the intended start); autocannon p50 ${ms(report.agreement.autocannon.p50)} / p99 ${ms(report.agreement.autocannon.p99)} ms`,
    ...renderDistributedConsole(report.distributed),
    ...(warning ? [`WARNING: ${warning}`] : []),
  ].join("\n");
}

function renderEngineSteps(report: EngineBenchReport): string {
  const lines = [
    "| offered req/s | achieved req/s | responses | errors | late (> " +
      `${report.rule.lateThresholdMs} ms) | worst lateness ms | p50 ms | p99 ms | p99 from send ms | engine CPU | server CPU | other programs' CPU | sustained |`,
    "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
  ];
  for (const s of report.engineSteps) {
    lines.push(
      `| ${rps(s.offered)}${s.isRetry ? " (retry)" : ""} | ${rps(s.achieved)} | ${integer.format(s.responses)} of ${integer.format(s.planned)} | ${integer.format(s.errors + s.dropped)} | ` +
        `${integer.format(s.late)} (${((100 * s.late) / Math.max(1, s.planned)).toFixed(2)} %) | ${ms(s.maxLatenessMs)} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.serviceP99)} | ` +
        `${pct(s.cpu.generator)} | ${pct(s.cpu.server)} | ${othersPct(s.cpu)} | ${s.failures.length ? `no: ${s.failures.join("; ")}` : "yes"} |`,
    );
  }
  return lines.join("\n");
}

function usPerRequest(percentOfCore: number, rate: number): string {
  return rate > 0 ? ((percentOfCore * 1e4) / rate).toFixed(1) : "–";
}

function renderAutocannonRuns(report: EngineBenchReport): string {
  const lines = ["| when | connections | req/s | p50 ms | p99 ms | errors | autocannon CPU | server CPU | other programs' CPU |", "|---|--:|--:|--:|--:|--:|--:|--:|--:|"];
  for (const r of report.autocannonRuns) {
    lines.push(
      `| ${r.label} the engine | ${r.connections} | ${rps(r.requestsPerSecond)} | ${ms(r.p50)} | ${ms(r.p99)} | ${integer.format(r.errors)} | ` +
        `${pct(r.cpu.generator)} | ${pct(r.cpu.server)} | ${othersPct(r.cpu)} |`,
    );
  }
  return lines.join("\n");
}

function renderArtillerySteps(report: EngineBenchReport): string {
  if (report.artillerySteps.length === 0) return "Artillery was not run.";
  const lines = [
    "| offered req/s | achieved req/s | vusers created | responses | errors | p50 ms | p99 ms | wall time s | Artillery CPU | sustained |",
    "|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
  ];
  for (const s of report.artillerySteps) {
    lines.push(
      `| ${rps(s.offered)}${s.isRetry ? " (retry)" : ""} | ${rps(s.achieved)} | ${integer.format(s.created)} of ${integer.format(s.expected)} | ${integer.format(s.responses)} | ` +
        `${integer.format(s.errors)} | ${ms(s.p50)} | ${ms(s.p99)} | ${s.wallSeconds.toFixed(0)} | ${pct(s.cpuPercent)} | ${s.failures.length ? `no: ${s.failures.join("; ")}` : "yes"} |`,
    );
  }
  return lines.join("\n");
}

/** The section; `distributedNotes` is the hand-written reading of the distributed part, kept from the existing file. */
export function renderSection(report: EngineBenchReport, distributedNotes = ""): string {
  const h = headline(report);
  const { rule, agreement: a } = report;
  const warning = disturbance(report);
  const perRequest = (cpu: CpuShares | undefined, rate: number) =>
    cpu ? `${usPerRequest(cpu.generator, rate)} | ${cpu.server === null ? "n/a" : usPerRequest(cpu.server, rate)}` : "n/a | n/a";
  const engineLine = h.engine
    ? `${rps(h.engine.offered)} req/s | ${ms(h.engine.p50)} | ${ms(h.engine.p99)} | ${perRequest(h.engine.cpu, h.engine.achieved)}`
    : "none of the steps | – | – | – | –";
  const artilleryLine = h.artillery
    ? `${rps(h.artillery.offered)} req/s | ${ms(h.artillery.p50)} | ${ms(h.artillery.p99)} | ${h.artillery.cpuPercent === null ? "n/a" : usPerRequest(h.artillery.cpuPercent, h.artillery.achieved)} | n/a`
    : "none of the steps | – | – | – | –";
  const autocannonP = h.autocannon.runs[0];
  return `${SECTION.start}
## Load tester engine against autocannon and Artillery

<!-- Generated by \`pnpm --filter @checkout/loadtest bench\` (packages/loadtest/bench/engine-bench.ts), also run by the root \`pnpm bench\`; the API bench keeps this section as it is. -->

One run, one machine, one target: a raw \`node:http\` hello-world (\`packages/loadtest/bench/hello-server.ts\`, ${report.helloBytes} B JSON
body) in its own process, and each load generator in turn on the same cores. The question: how much load can our
engine *hold* — open model, every arrival at its planned time, latency from that time — compared with autocannon
(closed model: as fast as its connections can go) and with Artillery 2 (the tool the project's scripts come from).

| | |
|---|---|
| Date | ${report.date.toISOString()} |
| Machine | ${report.machine} |
| Node | ${report.nodeVersion} |
| Commit | ${report.commit ?? "unknown"} |
| Tools | engine with ${report.workers} load-generating thread${report.workers === 1 ? " (in the bench's process)" : "s (worker threads)"}, default 100 keep-alive sockets; autocannon ${report.versions.autocannon} (programmatic, in the bench's process); Artillery ${report.versions.artillery} (its CLI, its own process) |
| Load average at start | ${report.loadAverage.map((v) => v.toFixed(2)).join(", ")} |
| Whole run | ${report.totalSeconds.toFixed(0)} s |
${warning ? `\n> **Warning.** ${warning}\n` : ""}
### Highest sustained rate

| Tool | Model | req/s | p50 ms | p99 ms | its CPU µs per request | server CPU µs per request |
|---|---|--:|--:|--:|--:|--:|
| our engine | open; latency from the intended start | ${engineLine} |
| autocannon | closed, ${h.autocannon.connections} connections: its throughput, not a held rate | ${rps(h.autocannon.requestsPerSecond)} req/s | ${ms(autocannonP?.p50 ?? Number.NaN)} | ${ms(autocannonP?.p99 ?? Number.NaN)} | ${perRequest(autocannonP?.cpu, autocannonP?.requestsPerSecond ?? Number.NaN)} |
| Artillery | open arrivals; latency from the send | ${artilleryLine} |

- **engine / autocannon = ${ratio(h.engineOverAutocannon)}** (autocannon: mean of its ${h.autocannon.runs.length} windows at ${h.autocannon.connections} connections, measured before and after the engine's steps: ${h.autocannon.runs.map((r) => rps(r.requestsPerSecond)).join(" and ")} req/s)
- **engine / Artillery = ${ratio(h.engineOverArtillery)}**

**Sustained** means, over a ${report.engineSeconds} s window after a 1 s warm-up at the same rate: every planned arrival
launched (none dropped) and answered with a 2xx (no errors), at most ${(100 * rule.maxLateShare).toFixed(0)} % of the arrivals launched more than
${rule.lateThresholdMs} ms late (the engine's own tolerance: a late arrival's wait is counted in its latency), and p99 latency from the
intended start at most ${rule.maxP99Ms} ms. The offered rate steps up until a step fails twice in a row (the retry absorbs a burst
from other programs), then halves the gap to the last sustained step twice. Artillery is held to the same p99 bound (on
its latency from the send, which is kinder) and must create every virtual user and answer every request, at ≥ ${(100 * rule.minAchievedShare).toFixed(0)} % of the
offered rate (created users over the span from its first to its last metric): when it falls behind it keeps going past
the phase's end, so its achieved rate drops instead of its arrivals being counted late. autocannon has no offered rate:
its number is what its connections get through, which is the ceiling an open-model tool must stay under to keep p99 bounded.

CPU per request: the tool's and the server's CPU time over the measured window divided by the requests answered
(autocannon: its first window at that connection count) — what each request costs the two sides on these shared cores.

autocannon windows (5 s each after a 1 s warm-up; percentiles are autocannon's own, in whole ms):

${renderAutocannonRuns(report)}

### Engine steps

${renderEngineSteps(report)}

CPU columns: percent of one core during the measured window (the engine's column is this whole process). "Other
programs" is the machine's busy time minus the engine and the server: anything else running, and the hypervisor's
steal (shown in brackets: time this virtual machine's cores were given to other guests). It should be near 0.

### Artillery steps

${renderArtillerySteps(report)}

Each Artillery step is one \`artillery run --output\` of a generated script (\`phases: [{duration: ${report.artillerySeconds}, arrivalRate: R}]\`, one GET),
including its start-up; the numbers come from its JSON report.

### Latency agreement at ${rps(a.rate)} req/s

| | p50 ms | p99 ms | responses |
|---|--:|--:|--:|
| engine, from the intended start | ${ms(a.engine.p50)} | ${ms(a.engine.p99)} | ${integer.format(a.engine.responses)} |
| engine, from the send | ${ms(a.engine.serviceP50)} | ${ms(a.engine.serviceP99)} | ${integer.format(a.engine.responses)} |
| autocannon \`overallRate: ${a.rate}\`, ${a.autocannon.connections} connections, exact (from the send) | ${ms(a.autocannon.p50)} | ${ms(a.autocannon.p99)} | ${integer.format(a.autocannon.responses)} |
| autocannon's own histogram (whole ms, its coordinated-omission correction) | ${ms(a.autocannon.ownP50)} | ${ms(a.autocannon.ownP99)} | |

engine / autocannon, from the send: p50 ${ratio(a.engine.serviceP50 / a.autocannon.p50)}, p99 ${ratio(a.engine.serviceP99 / a.autocannon.p99)}. The two
send load differently at the same rate: the engine spreads arrivals evenly, autocannon's \`overallRate\` lets each
connection send its share of a second back to back and then wait, so some difference in the tail is expected; the
engine's "from the intended start" also counts its own timer granularity (about 1 ms).
${renderDistributed(report.distributed, distributedNotes, report.cores)}
\`\`\`sh
pnpm --filter @checkout/loadtest bench     # this section only (pnpm bench runs the API bench, then this)
\`\`\`

Knobs: \`BENCH_ENGINE_SECONDS\` (measured window per engine step, default 4), \`BENCH_ENGINE_WORKERS\` (default 1 on up
to 3 cores, else 2), \`BENCH_ARTILLERY_SECONDS\` (phase length per Artillery step, default 5), \`BENCH_AGREEMENT_RATE\` (default 2000),
\`BENCH_SKIP_ARTILLERY=1\`; the distributed part: \`BENCH_DISTRIBUTED_RATE\` (default a quarter of the engine's highest
sustained rate), \`BENCH_DISTRIBUTED_SECONDS\` (default 10), \`BENCH_DISTRIBUTED_ROUNDS\` (default 2),
\`BENCH_DISTRIBUTED_START_DELAY_MS\` (default 3000, as \`--on local\`), \`BENCH_SKIP_DISTRIBUTED=1\`. The reading below the
distributed part is hand-written and kept between its \`engine-distributed-notes\` comment markers when this reruns.
${SECTION.end}`;
}
