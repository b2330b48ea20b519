// The overload bench's report: per scenario and setting, medians over the rounds and ratios against admission off in
// the same round, as a console table and as its section of docs/BENCHMARKS.md (keeping the hand-written reading).
import { median, sectionMarkers } from "@checkout/bench-support";
import { SCENARIOS, type Scenario } from "./load.ts";
import { PROBE_INTERVAL_MS, PROBE_TIMEOUT_MS } from "./probes.ts";
import type { OverloadConfig, Setting } from "./settings.ts";
import { attempts, okPerSecond, others, type Window } from "./window.ts";

export const SECTION = sectionMarkers("overload-bench");
/** Hand-written reading of the numbers, inside the section; a rerun keeps it (and it may then need updating). */
const CONCLUSIONS = sectionMarkers("overload-conclusions");

/** The hand-written reading in the existing section: from a line that is the start marker to a line that is the end marker. */
export function existingConclusions(existing: string | null): string {
  const lines = existing?.split("\n") ?? [];
  const start = lines.findIndex((line) => line.trim() === CONCLUSIONS.start);
  const end = lines.findIndex((line, at) => at > start && line.trim() === CONCLUSIONS.end);
  return start === -1 || end === -1 ? "" : lines.slice(start, end + 1).join("\n");
}

export function fmt(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "–";
}
export const pct = (part: number, whole: number) => (whole === 0 ? "–" : `${fmt((100 * part) / whole, 1)} %`);

/** Across rounds: "a" when the rounds agree to two decimals, else "a–b" (min–max of the per-round ratios). */
function ratioRange(values: number[]): string {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return "–";
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  return fmt(low, 2) === fmt(high, 2) ? `${fmt(low, 2)}×` : `${fmt(low, 2)}–${fmt(high, 2)}×`;
}

export interface Report {
  settings: Setting[];
  openRates: number[];
  windows: Window[];
  config: OverloadConfig;
  loadAverage: { start: number[]; end: number[] };
  database: string;
  commit: string | null;
  totalSeconds: number;
}

function rowsFor(report: Report, scenario: Scenario) {
  return report.settings.map((setting) => {
    const own = report.windows.filter((w) => w.scenario === scenario && w.setting === setting.key);
    const perRound = own.map((w) => {
      const base = report.windows.find((b) => b.scenario === scenario && b.setting === "off" && b.round === w.round);
      return {
        w,
        okRate: base ? okPerSecond(w) / okPerSecond(base) : Number.NaN,
        p50: base ? w.okLatency.p50 / base.okLatency.p50 : Number.NaN,
        p99: base ? w.okLatency.p99 / base.okLatency.p99 : Number.NaN,
        readyP99: base ? w.ready.p99 / base.ready.p99 : Number.NaN,
      };
    });
    const sum = (pick: (w: Window) => number) => own.reduce((total, w) => total + pick(w), 0);
    return {
      setting,
      limits: setting.limits(report.config.DB_POOL_MAX),
      okPerSecond: median(own.map(okPerSecond)),
      p50: median(own.map((w) => w.okLatency.p50)),
      p99: median(own.map((w) => w.okLatency.p99)),
      max: Math.max(...own.map((w) => w.okLatency.max)),
      shedShare: pct(
        sum((w) => w.shed),
        sum(attempts),
      ),
      shedPerSecond: median(own.map((w) => w.shed / w.seconds)),
      shedP99: median(own.map((w) => w.shedLatency.p99)),
      shedReasons: own.reduce<Record<string, number>>((all, w) => {
        for (const [reason, value] of Object.entries(w.shedReasons)) all[reason] = (all[reason] ?? 0) + value;
        return all;
      }, {}),
      otherStatus: own.reduce<Record<string, number>>((all, w) => {
        for (const [status, value] of Object.entries(w.otherStatus)) all[status] = (all[status] ?? 0) + value;
        return all;
      }, {}),
      failedShare: pct(
        sum((w) => w.errors + others(w)),
        sum(attempts),
      ),
      errors: sum((w) => w.errors),
      timeouts: sum((w) => w.timeouts),
      health: { p50: median(own.map((w) => w.health.p50)), p99: median(own.map((w) => w.health.p99)), failed: sum((w) => w.health.failed), count: sum((w) => w.health.count) },
      ready: {
        p50: median(own.map((w) => w.ready.p50)),
        p99: median(own.map((w) => w.ready.p99)),
        max: Math.max(...own.map((w) => w.ready.max)),
        failed: sum((w) => w.ready.failed),
        count: sum((w) => w.ready.count),
      },
      cpu: {
        api: median(own.map((w) => w.cpuPercent.api ?? Number.NaN)),
        database: median(own.map((w) => w.cpuPercent.database ?? Number.NaN)),
        loadGenerator: median(own.map((w) => w.cpuPercent.loadGenerator)),
        others: median(own.map((w) => w.cpuPercent.others ?? Number.NaN)),
      },
      ratios: {
        okRate: ratioRange(perRound.map((r) => r.okRate)),
        p50: ratioRange(perRound.map((r) => r.p50)),
        p99: ratioRange(perRound.map((r) => r.p99)),
        readyP99: ratioRange(perRound.map((r) => r.readyP99)),
      },
    };
  });
}

export function renderConsole(report: Report, scenario: Scenario): string {
  const header = [scenario, "2xx/s", "p50 ms", "p99 ms", "shed", "failed", "timeouts", "/health p99", "/ready p99", "/ready failed", "2xx/s ×off", "p99 ×off"];
  const rows = rowsFor(report, scenario).map((row) => [
    row.setting.key,
    fmt(row.okPerSecond),
    fmt(row.p50),
    fmt(row.p99),
    row.shedShare,
    row.failedShare,
    String(row.timeouts),
    fmt(row.health.p99, 1),
    fmt(row.ready.p99),
    `${row.ready.failed}/${row.ready.count}`,
    row.ratios.okRate,
    row.ratios.p99,
  ]);
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? "").length)));
  return [header, ...rows].map((row) => row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join("  ")).join("\n");
}

const SCENARIO_TITLES: Record<Scenario, string> = {
  instant: "Shed clients retry at once (closed loop, autocannon)",
  "retry-after": "Shed clients wait the Retry-After (1 s) before their next request",
  open: "Open arrivals above capacity (no retries)",
};

function renderScenario(report: Report, scenario: Scenario): string {
  const rows = rowsFor(report, scenario);
  const limits = (row: (typeof rows)[number]) =>
    row.setting.key === "off" ? "∞ / ∞ / 60 s" : `${fmt(row.limits.maxInFlight)} / ${fmt(row.limits.maxQueue)} / ${row.limits.queueTimeoutMs / 1000} s`;
  const codes = (counts: Record<string, number>) =>
    Object.entries(counts)
      .filter(([, value]) => value > 0)
      .map(([key, value]) => `${key} ${fmt(value)}`)
      .join(", ") || "none";
  return `### ${SCENARIO_TITLES[scenario]}

| setting (key) | in flight / queue / queue timeout | 2xx/s | 2xx p50 ms | 2xx p99 ms | shed (503) | failed (other status, errors) | client timeouts | \`/health\` p99 ms | \`/ready\` p99 ms | \`/ready\` probes failed |
|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|
${rows
  .map(
    (row) =>
      `| ${row.setting.label} (\`${row.setting.key}\`) | ${limits(row)} | ${fmt(row.okPerSecond)} | ${fmt(row.p50)} | ${fmt(row.p99)} | ${row.shedShare} | ${row.failedShare} | ${fmt(row.timeouts)} | ${fmt(row.health.p99, 1)} | ${fmt(row.ready.p99)} | ${row.ready.failed} of ${row.ready.count} |`,
  )
  .join("\n")}

Against admission off in the same round (range over the rounds), and detail: why requests were shed (the API's
\`http_requests_shed_total\`, all rounds), shed answers per second and their own p99, other statuses, and CPU as % of one
core (API / PostgreSQL / load generator / other programs on the machine):

| key | 2xx/s ×off | 2xx p50 ×off | 2xx p99 ×off | \`/ready\` p99 ×off | shed reasons | shed/s | shed p99 ms | other statuses | CPU API / DB / load / others |
|---|--:|--:|--:|--:|---|--:|--:|---|---|
${rows
  .map(
    (row) =>
      `| \`${row.setting.key}\` | ${row.ratios.okRate} | ${row.ratios.p50} | ${row.ratios.p99} | ${row.ratios.readyP99} | ${codes(row.shedReasons)} | ${fmt(row.shedPerSecond)} | ${fmt(row.shedP99, 1)} | ${codes(row.otherStatus)} | ${fmt(row.cpu.api)} / ${fmt(row.cpu.database)} / ${fmt(row.cpu.loadGenerator)} / ${fmt(row.cpu.others)} |`,
  )
  .join("\n")}`;
}

export function renderSection(report: Report, conclusions: string): string {
  const { config } = report;
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(", ");
  return `${SECTION.start}
## Admission control under overload

Written by \`pnpm --filter @checkout/api bench:overload\` (\`packages/api/bench/overload.ts\`) on ${new Date().toISOString().slice(0, 10)}
at commit ${report.commit ?? "unknown"}; ${report.database}; \`DB_POOL_MAX=${config.DB_POOL_MAX}\`; load average
${load(report.loadAverage.start)} at the start and ${load(report.loadAverage.end)} at the end (2 cores: the API, PostgreSQL,
the load generator and other programs share them). ${config.OVERLOAD_ROUNDS} round(s); in each round every setting gets a
fresh API process, ${config.OVERLOAD_WARMUP} s of discarded warm-up, then ${config.OVERLOAD_DURATION} s measured per
scenario of **${config.OVERLOAD_CONNECTIONS} concurrent clients**, each sending \`POST /trpc/cart.create\` (one insert,
fsync on) again as soon as it has an answer (client timeout ${config.OVERLOAD_CLIENT_TIMEOUT} s); the first two scenarios
differ only in what a client answered 503 does next. The third is an open model: \`cart.create\` requests arrive at a
fixed rate (${config.OVERLOAD_OPEN_RATE ? "`OVERLOAD_OPEN_RATE`" : `${config.OVERLOAD_OPEN_FACTOR}× admission off's 2xx/s in the first scenario of the same round`}:
${report.openRates.map((rate) => fmt(rate)).join(", ")} req/s in this run) for ${config.OVERLOAD_DURATION} s whatever the answers,
no retries, latency counted from each request's scheduled arrival; the window then waits for the requests still out (so
its 2xx/s is over arrivals plus drain). A worker thread probes \`/health\` and \`/ready\` (which runs
\`select 1\` on the pool, and is the ALB's health check) every ${PROBE_INTERVAL_MS} ms on fresh connections; a probe
fails on a non-200 or no answer in ${PROBE_TIMEOUT_MS / 1000} s (the ALB's timeout). Numbers are medians over the rounds;
ratios (×off) are taken per round against admission off in the same round and scenario.

${SCENARIOS.map((scenario) => renderScenario(report, scenario)).join("\n\n")}
${conclusions ? `\n${conclusions}\n` : ""}
Reproduce: \`pnpm --filter @checkout/api bench:overload\` (about ${Math.ceil(report.totalSeconds / 60)} minutes; not part of
\`pnpm bench\`). Knobs: \`OVERLOAD_CONNECTIONS\` (default 800), \`OVERLOAD_DURATION\` (10), \`OVERLOAD_WARMUP\` (3),
\`OVERLOAD_ROUNDS\` (2), \`OVERLOAD_CLIENT_TIMEOUT\` (10), \`OVERLOAD_OPEN_RATE\` / \`OVERLOAD_OPEN_FACTOR\` (1.5),
\`OVERLOAD_OPEN_MAX_SOCKETS\` (6000), \`OVERLOAD_SETTINGS\` (comma-separated keys: default, x8-q4, x2, x4, x16, x8-1s; off
always runs), \`DB_POOL_MAX\` (10), \`BENCH_DATABASE_URL\`, \`OVERLOAD_WRITE_DOC=0\` (print only). This section sits
below the notes marker, so \`pnpm bench\` keeps it; this script replaces only what is between its own markers, and
keeps the hand-written reading between its \`overload-conclusions\` comment markers.
${SECTION.end}`;
}
