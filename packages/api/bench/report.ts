// Renders one benchmark run as a console table and as docs/BENCHMARKS.md, keeping the hand-written notes.
import { FRESH_NOTES, NOTES_MARKER, findSection, mean, sectionMarkers } from "@checkout/bench-support";
import { renderJourney } from "./journey-report.ts";
import type { JourneyBench } from "./journey-run.ts";
import { renderTracingOverhead, type TracingOverheadResult } from "./tracing-overhead.ts";
import type { LoadSettings, Measurement } from "./load.ts";
import type { PgbenchResult } from "./pgbench.ts";

/** The load tester's engine benchmark (packages/loadtest/bench) owns the text between these markers; this report keeps it. */
const ENGINE_SECTION = sectionMarkers("engine-bench");

export interface RunInfo {
  date: Date;
  cpuModel: string;
  cpuCount: number;
  os: string;
  nodeVersion: string;
  autocannonVersion: string;
  commit: string | null;
  settings: LoadSettings;
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAverage: number[];
  database: string;
  logLevel: string;
  logLines: number;
  logBytes: number;
  poolSize: string;
  helloBytes: number;
  catalog: { products: number; bytes: number };
  cart: { lines: number; bytes: number };
  shutdown: string;
  totalSeconds: number;
}

export interface RunReport {
  info: RunInfo;
  measurements: Measurement[];
  /** API targets against the database's own speed for the same statement (pgbench), when measured. */
  ceilings?: DatabaseCeiling[];
  /** The checkout journey's CPU per request by procedure, and placeOrder against TPC-B (journey-run.ts). */
  journey?: JourneyBench;
  /** API CPU per request with tracing off and on (tracing-overhead.ts). */
  tracing?: TracingOverheadResult;
}

export interface DatabaseCeiling {
  /** The API target's label, as in the results table. */
  target: string;
  /** pgbench's result, or why there is none. */
  pgbench: PgbenchResult | { missing: string };
}

/** The API targets against pgbench sending the same statement to the same server. */
export function renderCeilings(measurements: readonly Measurement[], ceilings: readonly DatabaseCeiling[]): string {
  const rows = ceilings.map((ceiling) => {
    const api = measurements.find((m) => m.label === ceiling.target);
    if ("missing" in ceiling.pgbench)
      return `| ${ceiling.target} | ${api ? integer.format(Math.round(api.requestsPerSecond)) : "n/a"} | not measured: ${ceiling.pgbench.missing} | | | |`;
    const db = ceiling.pgbench;
    const ratio = api && db.tps > 0 ? api.requestsPerSecond / db.tps : null;
    return `| ${ceiling.target} | ${api ? integer.format(Math.round(api.requestsPerSecond)) : "n/a"} | \`${db.command}\`: ${integer.format(Math.round(db.tps))} tps, ${integer.format(db.transactions)} transactions, ${db.failed} failed | ${db.databaseCpuPercent === null ? "n/a" : `${Math.round(db.databaseCpuPercent)} %`} | ${ratio === null ? "n/a" : `**${ratio.toFixed(2)}×**`} |`;
  });
  return [
    "| API target | API req/s | pgbench, same statement, same server, as many clients as the API's pool | PostgreSQL CPU under pgbench | API ÷ pgbench |",
    "|---|--:|---|--:|--:|",
    ...rows,
  ].join("\n");
}

export interface Compared {
  /** 1-based position in the run. */
  number: number;
  measurement: Measurement;
  /** What "raw" means for this row: the mean of the raw windows next to it (for a raw row, of all raw windows). */
  raw: { requestsPerSecond: number; p50: number; numbers: number[] };
  /** Throughput as a multiple of `raw`. */
  ratio: number;
}

/**
 * Each measurement against the raw windows measured right before and right after it, so that a machine
 * whose speed drifts during the run moves both sides of the ratio. Raw rows are compared with the mean of
 * all raw windows, which shows the drift itself.
 */
export function compareWithRaw(measurements: readonly Measurement[]): Compared[] {
  const numbered = measurements.map((measurement, index) => ({ measurement, number: index + 1 }));
  const raws = numbered.filter(({ measurement }) => measurement.isBaseline);
  if (raws.length === 0) throw new Error("No raw baseline measurement");
  return numbered.map(({ measurement, number }) => {
    const neighbours = measurement.isBaseline
      ? raws
      : [raws.filter((raw) => raw.number < number).at(-1), raws.find((raw) => raw.number > number)].filter((raw): raw is (typeof raws)[number] => raw !== undefined);
    const requestsPerSecond = mean(neighbours.map((raw) => raw.measurement.requestsPerSecond));
    return {
      number,
      measurement,
      raw: { requestsPerSecond, p50: mean(neighbours.map((raw) => raw.measurement.latencyMs.p50)), numbers: neighbours.map((raw) => raw.number) },
      ratio: measurement.requestsPerSecond / requestsPerSecond,
    };
  });
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function rps(value: number): string {
  return integer.format(value);
}

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : "–";
}

function ratio(value: number): string {
  return `${value.toFixed(value < 0.1 ? 3 : 2)}×`;
}

function percent(value: number | null): string {
  return value === null ? "n/a" : `${Math.round(value)} %`;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} kB`;
}

export function renderConsoleTable(measurements: readonly Measurement[]): string {
  const header = ["#", "target", "req/s", "× raw", "p50 ms", "p99 ms", "responses", "non-2xx", "errors", "server CPU", "PG CPU", "bench CPU", "other CPU"];
  const rows = compareWithRaw(measurements).map(({ number, measurement: m, ratio: r }) => [
    String(number),
    `${m.label} (${m.request})`,
    rps(m.requestsPerSecond),
    ratio(r),
    ms(m.latencyMs.p50),
    ms(m.latencyMs.p99),
    integer.format(m.responses),
    integer.format(m.non2xx),
    integer.format(m.errors),
    percent(m.cpuPercent.server),
    percent(m.cpuPercent.database),
    percent(m.cpuPercent.loadGenerator),
    percent(m.cpuPercent.others),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 1 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ");
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

function renderResultsTable(measurements: readonly Measurement[]): string {
  const lines = [
    "| # | Target | Request | req/s (mean) | × raw | p50 ms | p99 ms | responses | non-2xx | errors | server CPU | PostgreSQL CPU | load-generator CPU | other programs' CPU |",
    "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const { number, measurement: m, ratio: r } of compareWithRaw(measurements)) {
    lines.push(
      `| ${number} | ${m.label} | \`${m.request}\` | ${rps(m.requestsPerSecond)} | ${ratio(r)} | ` +
        `${ms(m.latencyMs.p50)} | ${ms(m.latencyMs.p99)} | ${integer.format(m.responses)} | ${integer.format(m.non2xx)} | ` +
        `${integer.format(m.errors)} | ${percent(m.cpuPercent.server)} | ${percent(m.cpuPercent.database)} | ` +
        `${percent(m.cpuPercent.loadGenerator)} | ${percent(m.cpuPercent.others)} |`,
    );
  }
  return lines.join("\n");
}

function renderRatios(measurements: readonly Measurement[]): string {
  const compared = compareWithRaw(measurements);
  const raws = compared.filter(({ measurement }) => measurement.isBaseline);
  const rates = raws.map(({ measurement }) => measurement.requestsPerSecond);
  const lines = [
    `Raw \`node:http\` windows: ${raws.map(({ number, measurement }) => `#${number} ${rps(measurement.requestsPerSecond)}`).join(", ")} req/s ` +
      `(mean ${rps(mean(rates))}; the fastest was ${(Math.max(...rates) / Math.min(...rates)).toFixed(2)}× the slowest — ` +
      `how much this machine's speed moved during the run, with the same server and the same load). ` +
      `Each API row is therefore compared with the raw windows measured right before and right after it:`,
    "",
  ];
  for (const { measurement: m, raw, ratio: r } of compared.filter(({ measurement }) => !measurement.isBaseline)) {
    lines.push(
      `- \`${m.request}\` = **${ratio(r)} raw** — ${(100 * r).toFixed(1)} % of the throughput of raw windows ` +
        `${raw.numbers.map((n) => `#${n}`).join(" and ")} (${rps(raw.requestsPerSecond)} req/s); p50 ${ms(m.latencyMs.p50)} ms against raw's ${ms(raw.p50)} ms.`,
    );
  }
  const health = compared.find(({ measurement }) => !measurement.isBaseline && measurement.request === "GET /health");
  const procedures = compared.filter(({ measurement }) => !measurement.isBaseline && /^(GET|POST) \/trpc\//.test(measurement.request));
  if (health && procedures.length) {
    lines.push(
      "",
      `Splitting the cost: \`/health\` is the service's own \`node:http\` handler (request id, routing, metrics; no tRPC, no database, ` +
        `no access-log line), so raw → \`/health\` is the price of that wrapper (${ratio(health.ratio)}), and \`/health\` → a procedure is the ` +
        `price of tRPC, zod, the access log, the query and the JSON (ratios of the drift-corrected ratios):`,
      "",
    );
    for (const procedure of procedures) {
      lines.push(`- \`${procedure.measurement.request}\` = ${ratio(procedure.ratio / health.ratio)} \`/health\`.`);
    }
  }
  return lines.join("\n");
}

function renderStatusCodes(measurements: readonly Measurement[]): string {
  return measurements
    .map((m) => {
      const codes = Object.entries(m.statusCodes)
        .map(([code, count]) => `${code}: ${integer.format(count)}`)
        .join(", ");
      return `- ${m.label}: ${codes || "no responses"}; timeouts ${m.timeouts}; warm-up ${integer.format(m.warmup.responses)} responses, ${m.warmup.non2xx} non-2xx, ${m.warmup.errors} errors.`;
    })
    .join("\n");
}

/** Above this share of one core used by other programs during a window, the run is flagged as disturbed. */
const DISTURBED_PERCENT = 25;

/** A warning when other programs competed for the cores during a measured window, or null for a clean run. */
export function disturbanceWarning(measurements: readonly Measurement[]): string | null {
  const worst = Math.max(...measurements.map((m) => m.cpuPercent.others ?? 0));
  if (worst <= DISTURBED_PERCENT) return null;
  return (
    `Other programs used up to ${Math.round(worst)} % of a core during a measured window: this run competed for the cores, ` +
    `so its numbers (and, less so, its ratios) are disturbed. Rerun on a quiet machine.`
  );
}

export function renderMarkdown(report: RunReport): string {
  const { info, measurements, ceilings = [], journey, tracing } = report;
  const s = info.settings;
  const warning = disturbanceWarning(measurements);
  return `# Benchmarks

<!-- Generated by \`pnpm bench\` (packages/api/bench/run.ts). Everything above the notes marker is rewritten on each run; text below it is kept. -->

One run of \`pnpm bench\`, on one machine, with one load generator. What it measures: how many requests per second
the checkout API answers, and how fast, **compared with a raw \`node:http\` hello-world measured in the same run** —
absolute numbers move from machine to machine and from minute to minute; the ratios are what to compare.

| | |
|---|---|
| Date | ${info.date.toISOString()} |
| Machine | ${info.cpuModel}, ${info.cpuCount} logical CPUs (\`os.cpus()\`); ${info.os} |
| Node | ${info.nodeVersion} |
| Commit | ${info.commit ?? "unknown"} |
| Load generator | autocannon ${info.autocannonVersion}, programmatic API, in the bench's own process; ${s.connections} connections, pipelining 1, keep-alive |
| Windows | per target: ${s.amount === undefined ? `${s.warmupSeconds} s warm-up (discarded), then ${s.durationSeconds} s measured` : `no warm-up, ${s.amount} requests measured (smoke run)`}; one target at a time, in the order of the table (raw between the API targets) |
| Sharing | the load generator, both servers and PostgreSQL all run on the same ${info.cpuCount} cores; the CPU columns show who used them during each measured window (100 % = one core; "other programs" = the machine's busy time minus ours, i.e. anything else running, including a \`BENCH_DATABASE_URL\` server on this machine — it should be near 0 for a clean run) |
| Load average at start | ${info.loadAverage.map((value) => value.toFixed(2)).join(", ")} |
| Baseline server | \`packages/api/bench/hello-server.ts\`: \`node:http\`, one handler answering a ${kb(info.helloBytes)} JSON body, its own child process |
| API server | \`packages/api/src/main.ts\` through tsx (\`node --import tsx\`), its own child process; \`NODE_ENV=production\`, payment sandbox on, \`WEB_DIST\` absent |
| Logging | \`LOG_LEVEL=${info.logLevel}\` (the production default: one JSON access-log line per request except \`/health\`, \`/ready\`, \`/metrics\`), stdout and stderr to a file on local disk: ${integer.format(info.logLines)} lines, ${mb(info.logBytes)} this run |
| Database | ${info.database}; pool \`DB_POOL_MAX=${info.poolSize}\` |
| Data | \`catalog.list\`: ${info.catalog.products} products, ${kb(info.catalog.bytes)} response; \`cart.get\`: a cart with ${info.cart.lines} lines, ${kb(info.cart.bytes)} response |
| API shutdown | ${info.shutdown} |
| Whole run | ${info.totalSeconds.toFixed(0)} s |

## Results
${warning ? `\n> **Warning.** ${warning}\n` : ""}
${renderResultsTable(measurements)}

req/s is autocannon's mean of its one-second samples. Latencies are exact percentiles over every 2xx response of the
measured window (autocannon's own histogram rounds to whole milliseconds), measured by the client, so they include
the time the load generator waits for a core. The raw server is measured before, between and after the API targets;
"× raw" of an API row is its throughput over the mean of the raw windows right before and after it, and of a raw row,
its throughput over the mean of all raw windows (so the raw rows show how much the machine drifted).

## Ratios against raw \`node:http\` (same run)

${renderRatios(measurements)}

${
  ceilings.length
    ? `## Against the database's own speed (same run)

${renderCeilings(measurements, ceilings)}

pgbench sends the very statement the API sends for the target (captured from core as Kysely compiles it, the cart id
as a variable), as a prepared statement, from its own process, with as many clients as the API's pool has connections
(\`DB_POOL_MAX\`), right after the API windows. It is the ceiling for a read served from the database: the API cannot
answer faster than its database answers the query it sends.

`
    : ""
}Status codes per target (the bench fails if more than 0.1 % of a target's requests are not 2xx):

${renderStatusCodes(measurements)}

${
  journey
    ? `${renderJourney(journey)}
`
    : ""
}${
  tracing
    ? `## Tracing's cost (same run)

${renderTracingOverhead(tracing)}

`
    : ""
}## How to reproduce

\`\`\`sh
pnpm bench                      # from the repository root; about 5 minutes (the targets, pgbench, the journey, tracing)
BENCH_DURATION=30 pnpm bench    # longer measured windows (seconds)
pnpm bench --smoke              # seconds-long check that every benchmark still runs (see "Smoke mode" below)
\`\`\`

Other knobs: \`BENCH_WARMUP\` (seconds, default 3), \`BENCH_CONNECTIONS\` (default 50), \`BENCH_DATABASE_URL\` (use an
existing PostgreSQL instead of a fresh embedded one), \`BENCH_CPU_PROF=1\` (run the API under \`node --cpu-prof\`;
a profiling run prints where the profile went and leaves this file alone). The bench starts everything it needs on free
ports in a temporary directory (a fresh embedded PostgreSQL first, which the API in production mode is given as
\`DATABASE_URL\`, as a deployed task is given RDS), stops the API with SIGTERM, then the database, and removes the
directory; it exits non-zero if a server fails to start or a target exceeds 0.1 % failures.

${SMOKE_MODE}
`;
}

/** How to check that every benchmark still runs; in the generated part, so a full run keeps it. */
export const SMOKE_MODE = `**Smoke mode.** \`pnpm bench --smoke\` (or \`BENCH_SMOKE=1\`; also \`--smoke\` on \`bench:overload\`,
\`bench:abuse\` and \`pnpm --filter @checkout/loadtest bench\`) runs every benchmark for seconds — this one, the load
tester's engine benchmark, the overload and the abuse benchmarks — with 1 s windows, one step per ladder and one round,
and writes each report to \`BENCH_SMOKE_REPORT_DIR\` (default \`$TMPDIR/checkout-bench-smoke\`), never to this file. It
checks that each benchmark completes (servers start, the load reaches them, the report renders; this one and the engine
benchmark also fail on errors), never its numbers. \`packages/api/test/bench-smoke.test.ts\` runs it in \`pnpm test\`, so a benchmark that stops running
fails CI.`;

/**
 * The generated text, then the existing file's engine-benchmark section (kept as it is), then its notes (everything
 * after the marker line) or a fresh notes section.
 */
export function withPreservedNotes(generated: string, existing: string | null): string {
  const lines = existing?.split("\n") ?? [];
  const markerAt = lines.findIndex((line) => line.trim() === NOTES_MARKER);
  const notes = markerAt === -1 ? FRESH_NOTES : lines.slice(markerAt).join("\n");
  // A section someone moved into the notes is kept there, not twice.
  const engine = existing === null || notes.includes(ENGINE_SECTION.start) ? null : findSection(existing, ENGINE_SECTION);
  return engine === null ? `${generated}\n${notes}` : `${generated}\n${engine}\n\n${notes}`;
}
