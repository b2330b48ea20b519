// The abuse bench's report: per window, the shoppers' success rate, p50 and p99 against the mean of the baselines, and
// what the attacker got back; its section of docs/BENCHMARKS.md.
import { mean, sectionMarkers } from "@checkout/bench-support";
import { ATTACKS, type Outcomes } from "./attacks.ts";
import { PROBE, type ProbeSummary } from "./probe.ts";
import { DEFAULT_SECONDS } from "./settings.ts";

export const SECTION = sectionMarkers("abuse-bench");

/** One window of the run: the baseline (no attack) or an attack, with the probe beside it. */
export interface Window {
  key: string;
  label: string;
  probe: ProbeSummary;
  outcomes: Outcomes;
}

export const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "–");
const ratio = (value: number, base: number) => (Number.isFinite(value) && base > 0 ? `${(value / base).toFixed(2)}×` : "–");
const successRate = (probe: ProbeSummary) => (probe.attempts === 0 ? "–" : `${((100 * probe.succeeded) / probe.attempts).toFixed(probe.succeeded === probe.attempts ? 0 : 1)} %`);
export const describeOutcomes = (outcomes: Outcomes) =>
  Object.entries(outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([label, count]) => `${label} ×${fmt(count)}`)
    .join(", ") || "–";

function baselineOf(windows: Window[]): { p50: number; p99: number } {
  const baselines = windows.filter((w) => w.key === "baseline");
  return { p50: mean(baselines.map((w) => w.probe.p50)), p99: mean(baselines.map((w) => w.probe.p99)) };
}

export function renderSection(
  windows: Window[],
  info: { seconds: number; isSmoke: boolean; database: string; commit: string | null; loadAverage: number[][]; totalSeconds: number },
): string {
  const base = baselineOf(windows);
  const rows = windows.map(
    (w) =>
      `| ${w.key === "baseline" ? "baseline (no attack)" : `\`${w.key}\`: ${w.label}`} | ${fmt(w.probe.attempts)} | ${successRate(w.probe)} | ${fmt(w.probe.p50, 1)} | ${fmt(w.probe.p99, 1)} | ${ratio(w.probe.p50, base.p50)} | ${ratio(w.probe.p99, base.p99)} | ${describeOutcomes(w.outcomes)} |`,
  );
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(", ");
  return `${SECTION.start}
## The shop under attack: shoppers beside each attack of the abuse suite

Written by \`pnpm --filter @checkout/api bench:abuse${info.isSmoke ? " --smoke" : ""}\` (\`packages/api/bench/abuse.ts\`) on ${new Date().toISOString().slice(0, 10)}
at commit ${info.commit ?? "unknown"}; ${info.database}; load average ${load(info.loadAverage[0]!)} at the start and
${load(info.loadAverage[1]!)} at the end (2 cores shared by the API, PostgreSQL, the attackers, the probe and other programs).
One API process (\`NODE_ENV=production\`, every edge limit at its default, the payment sandbox) for the whole run. In each
${info.seconds} s window the shopper probe — ${PROBE.addresses.length} shoppers, each from its own loopback address on one keep-alive
connection, looping \`catalog.list\` (GET), \`cart.create\`, \`cart.addLine\`, \`cart.get\` (POST) with ${PROBE.pauseMs} ms between
requests, in a worker thread — runs beside one attack from other loopback addresses (the attack tools of
\`packages/api/test/abuse.test.ts\`). A probe request succeeds on a 200 with a result within ${PROBE.timeoutMs / 1000} s; p50 and
p99 are over the successful ones; × baseline is against the mean of the two baseline windows of the same run. The last
column is what the attacker got back, by status and \`appCode\` (or how its connection ended).

| window | shopper requests | succeeded | p50 ms | p99 ms | p50 × baseline | p99 × baseline | what the attacker got |
|---|--:|--:|--:|--:|--:|--:|---|
${rows.join("\n")}

"Open when the window closed" counts slow sockets cut off by the end of the window, not by the server: opened less than
the timeout (\`BODY_TIMEOUT_MS\`, \`HEADERS_TIMEOUT_MS\`, 10 s) before it, or past the header timeout but not yet reached
by Node's check, which runs every second. Every probe window is one run on a shared, noisy machine: read the ratios
between rows, not the absolute times.

Reproduce: \`pnpm --filter @checkout/api bench:abuse\` (about ${Math.ceil(info.totalSeconds / 60)} minute(s); \`--smoke\` runs 1 s windows and writes
its report to \`BENCH_SMOKE_REPORT_DIR\`, never this file). Knobs: \`ABUSE_DURATION\` (seconds per window, default ${DEFAULT_SECONDS}),
\`ABUSE_ATTACKS\` (comma-separated keys: ${ATTACKS.map((attack) => attack.key).join(", ")}), \`BENCH_DATABASE_URL\`, \`ABUSE_WRITE_DOC\`.
This script replaces only what is between its own comment markers.
${SECTION.end}`;
}
