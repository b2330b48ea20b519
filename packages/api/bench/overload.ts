// `pnpm --filter @checkout/api bench:overload`: the admission-control settings under overload, measured in one run.
// One PostgreSQL for the whole run (embedded, or BENCH_DATABASE_URL); for each setting a fresh API process, then far
// more concurrent cart.create calls than the pool can serve, while /health and /ready are probed from a worker thread.
// Every number is also given as a ratio against admission off, measured in the same round of the same run.
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as delay } from "node:timers/promises";
import { setMaxListeners } from "node:events";
import http from "node:http";
import { Worker } from "node:worker_threads";
import autocannon from "autocannon";
import { z } from "zod";
import {
  gitCommit,
  isSmokeRun,
  machineBusyCpuSeconds,
  median,
  ownCpuSeconds,
  percentile,
  processCpuSeconds,
  processTreeCpuSeconds,
  sectionMarkers,
  smokeReportPath,
  spliceSection,
} from "@checkout/bench-support";
import { benchDatabase, Cleanup, findFreePorts, logTail, makeWorkDir, postmasterPid, readSettings, runBench, spawnApi, waitForOk } from "./processes.ts";
import { exitWithHelpIfAsked } from "../src/cli/help.ts";

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(apiDir, "../..");
const docPath = path.join(repoRoot, "docs", "BENCHMARKS.md");
const SECTION = sectionMarkers("overload-bench");
/** Hand-written reading of the numbers, inside the section; a rerun keeps it (and it may then need updating). */
const CONCLUSIONS_START = "<!-- overload-conclusions:start -->";
const CONCLUSIONS_END = "<!-- overload-conclusions:end -->";

/** The hand-written reading in the existing section: from a line that is the start marker to a line that is the end marker. */
function existingConclusions(existing: string | null): string {
  const lines = existing?.split("\n") ?? [];
  const start = lines.findIndex((line) => line.trim() === CONCLUSIONS_START);
  const end = lines.findIndex((line, at) => at > start && line.trim() === CONCLUSIONS_END);
  return start === -1 || end === -1 ? "" : lines.slice(start, end + 1).join("\n");
}
const API_STOP_GRACE_MS = 40_000;
/** The ALB target group's health check (stacks/Api.ts): /ready every 10 s, 5 s timeout, unhealthy after 3 failures. */
const PROBE_TIMEOUT_MS = 5000;
const PROBE_INTERVAL_MS = 200;

exitWithHelpIfAsked(`
pnpm --filter @checkout/api bench:overload [--smoke] — admission control under overload against admission off, in one
run (about 8 minutes): a retry storm, clients that wait the Retry-After, and open arrivals above capacity; written to
docs/BENCHMARKS.md.

  --smoke   (or BENCH_SMOKE=1) one round of "off" and the defaults, 100 clients, 1 s windows; the report goes to
            BENCH_SMOKE_REPORT_DIR (default $TMPDIR/checkout-bench-smoke), never docs/BENCHMARKS.md. Checks the
            benchmark still runs, not its numbers.

Settings (environment): OVERLOAD_CONNECTIONS (800), OVERLOAD_DURATION (10 s), OVERLOAD_WARMUP (3 s), OVERLOAD_ROUNDS (2),
OVERLOAD_SETTINGS (which settings besides "off"), BENCH_DATABASE_URL and more (see the top of bench/overload.ts).
Exit 78 names a bad setting.
`);

/** A smoke run's settings, over whatever the environment says: seconds, not minutes. */
const SMOKE_ENV = {
  OVERLOAD_CONNECTIONS: "100",
  OVERLOAD_DURATION: "1",
  OVERLOAD_WARMUP: "1",
  OVERLOAD_ROUNDS: "1",
  OVERLOAD_SETTINGS: "default",
  OVERLOAD_OPEN_RATE: "300",
};

const BenchEnv = z.object({
  OVERLOAD_CONNECTIONS: z.coerce.number().int().min(1).max(5000).default(800),
  OVERLOAD_DURATION: z.coerce.number().positive().default(10),
  OVERLOAD_WARMUP: z.coerce.number().positive().default(3),
  OVERLOAD_ROUNDS: z.coerce.number().int().min(1).max(10).default(2),
  /** Seconds before the load generator gives up on a request (a browser or proxy would give up too). */
  OVERLOAD_CLIENT_TIMEOUT: z.coerce.number().int().min(1).max(120).default(10),
  /** Open scenario: arrivals per second; by default OVERLOAD_OPEN_FACTOR × admission off's 2xx/s in the same round. */
  OVERLOAD_OPEN_RATE: z.coerce.number().int().min(1).optional(),
  OVERLOAD_OPEN_FACTOR: z.coerce.number().positive().default(1.5),
  /** Open scenario: most sockets the load generator opens (the process's file limit is the ceiling); beyond, requests wait in it. */
  OVERLOAD_OPEN_MAX_SOCKETS: z.coerce.number().int().min(1).default(6000),
  /** Comma-separated setting keys to run (off is always run: it is the baseline). */
  OVERLOAD_SETTINGS: z.string().optional(),
  OVERLOAD_WRITE_DOC: z.enum(["1", "0", "true", "false"]).default("1").transform((value) => value === "1" || value === "true"),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  BENCH_DATABASE_URL: z.url({ message: "must be a postgres:// URL" }).optional(),
});

interface Setting {
  key: string;
  label: string;
  env: Record<string, string>;
  limits: (pool: number) => { maxInFlight: number; maxQueue: number; queueTimeoutMs: number };
}

/** The defaults as app.ts computes them, so the report says what "default" meant in this run. */
const DEFAULT_MULTIPLIER = 8;
const DEFAULT_QUEUE_FACTOR = 1;
const DEFAULT_QUEUE_TIMEOUT_MS = 5000;

function multiple(key: string, factor: number, options: { queueFactor?: number; queueTimeoutMs?: number } = {}): Setting {
  const timeout = options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
  const queueFactor = options.queueFactor ?? DEFAULT_QUEUE_FACTOR;
  return {
    key,
    label: `${factor}× pool in flight, queue ${queueFactor}× that, ${timeout / 1000} s queue timeout`,
    env: {},
    limits: (pool) => ({ maxInFlight: factor * pool, maxQueue: factor * pool * queueFactor, queueTimeoutMs: timeout }),
  };
}

/**
 * The settings a run without OVERLOAD_SETTINGS measures. x16 and x8-1s only on request: in the first runs x16 shed
 * nothing the closed loops offered and did worse than the defaults in the open model, and a 1 s queue timeout never fired
 * before the queue was full, so it behaved like the defaults.
 */
const DEFAULT_RUN = ["default", "x8-q4", "x2", "x4"];

function settingsFor(pool: number): Setting[] {
  const withEnv = (setting: Setting): Setting => {
    const limits = setting.limits(pool);
    return setting.key === "default"
      ? setting
      : { ...setting, env: { MAX_IN_FLIGHT: String(limits.maxInFlight), ADMISSION_QUEUE_MAX: String(limits.maxQueue), ADMISSION_QUEUE_TIMEOUT_MS: String(limits.queueTimeoutMs) } };
  };
  return [
    {
      key: "off",
      label: "admission off (100,000 in flight, queue 100,000, 60 s)",
      env: {},
      limits: () => ({ maxInFlight: 100_000, maxQueue: 100_000, queueTimeoutMs: 60_000 }),
    },
    { ...multiple("default", DEFAULT_MULTIPLIER), label: `defaults (nothing set: ${DEFAULT_MULTIPLIER}× pool in flight, queue ${DEFAULT_QUEUE_FACTOR}× that, 5 s)` },
    multiple("x2", 2),
    multiple("x4", 4),
    multiple("x16", 16),
    { ...multiple("x8-q4", 8, { queueFactor: 4 }), label: "8× pool in flight, queue 4× that, 5 s (the defaults until this benchmark)" },
    multiple("x8-1s", 8, { queueTimeoutMs: 1000 }),
  ].map(withEnv);
}

interface Probe {
  count: number;
  /** Not 200, or no answer within PROBE_TIMEOUT_MS. */
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * How a client answered 503 behaves: "instant" sends its next request at once (autocannon's closed loop, the worst case
 * for shedding); "retry-after" waits the Retry-After the API sent (1 s) first, as a polite client would. "open" is not a
 * closed loop: requests arrive at a fixed rate above capacity whatever the answers (new shoppers keep coming), no retries.
 */
type Scenario = "instant" | "retry-after" | "open";
const SCENARIOS: Scenario[] = ["instant", "retry-after", "open"];

interface Window {
  scenario: Scenario;
  setting: string;
  round: number;
  seconds: number;
  ok: number;
  shed: number;
  otherStatus: Record<string, number>;
  errors: number;
  timeouts: number;
  okLatency: { p50: number; p99: number; max: number };
  shedLatency: { p50: number; p99: number };
  shedReasons: Record<string, number>;
  health: Probe;
  ready: Probe;
  cpuPercent: { api: number | null; database: number | null; loadGenerator: number; others: number | null };
}

function log(message: string): void {
  console.log(`[overload] ${message}`);
}

// Probes in their own thread, so the load generator's busy event loop in this one does not inflate their times.
const PROBE_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const http = require("node:http");
const results = { health: [], ready: [] };
let stopping = false;
function once(path) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.get({ host: "127.0.0.1", port: workerData.port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ ms: performance.now() - started, ok: res.statusCode === 200 }));
      res.on("error", () => resolve({ ms: performance.now() - started, ok: false }));
    });
    req.setTimeout(workerData.timeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ ms: performance.now() - started, ok: false }));
  });
}
async function loop(path, list) {
  while (!stopping) {
    const next = performance.now() + workerData.intervalMs;
    list.push(await once(path));
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
const loops = [loop("/health", results.health), loop("/ready", results.ready)];
parentPort.on("message", async () => {
  stopping = true;
  await Promise.all(loops);
  parentPort.postMessage(results);
});
`;

interface ProbeSample {
  ms: number;
  ok: boolean;
}

function summariseProbe(samples: ProbeSample[]): Probe {
  const sorted = samples.map((sample) => sample.ms).sort((a, b) => a - b);
  return {
    count: samples.length,
    failed: samples.filter((sample) => !sample.ok || sample.ms >= PROBE_TIMEOUT_MS).length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

function startProbes(port: number): () => Promise<{ health: Probe; ready: Probe }> {
  const worker = new Worker(PROBE_WORKER, { eval: true, workerData: { port, timeoutMs: PROBE_TIMEOUT_MS, intervalMs: PROBE_INTERVAL_MS } });
  return async () => {
    const results = new Promise<{ health: ProbeSample[]; ready: ProbeSample[] }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    worker.postMessage("stop");
    const { health, ready } = await results;
    await worker.terminate();
    return { health: summariseProbe(health), ready: summariseProbe(ready) };
  };
}

async function shedCounters(apiUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${apiUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const counters: Record<string, number> = {};
  for (const match of text.matchAll(/^http_requests_shed_total\{reason="([a-z_]+)"\} (\d+)$/gm)) counters[match[1] ?? "?"] = Number(match[2]);
  return counters;
}

const CART_CREATE_BODY = JSON.stringify({ currency: "USD" });

type OnResponse = (statusCode: number, responseTimeMs: number) => void;

/** `connections` clients in a closed loop, each sending the next `cart.create` as soon as it has an answer (autocannon). */
async function instantLoad(apiUrl: string, connections: number, seconds: number, timeout: number, onResponse: OnResponse) {
  const run = autocannon({
    url: `${apiUrl}/trpc/cart.create`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: CART_CREATE_BODY,
    connections,
    pipelining: 1,
    duration: seconds,
    timeout,
  });
  run.on("response", (_client, statusCode, _bytes, responseTimeMs) => onResponse(statusCode, responseTimeMs));
  const result = await run;
  return { errors: result.errors, timeouts: result.timeouts };
}

/** The same closed loop, except that a client answered 503 waits its Retry-After before the next request. */
async function retryAfterLoad(apiUrl: string, connections: number, seconds: number, timeout: number, onResponse: OnResponse) {
  const { hostname, port } = new URL(apiUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const end = new AbortController();
  // Every request in flight listens on it.
  setMaxListeners(connections + 10, end.signal);
  const deadline = performance.now() + seconds * 1000;
  let errors = 0;
  let timeouts = 0;
  const once = () =>
    new Promise<{ status: number; retryAfterMs: number } | null>((resolve) => {
      const started = performance.now();
      const req = http.request(
        { host: hostname, port, method: "POST", path: "/trpc/cart.create", agent, signal: end.signal, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(CART_CREATE_BODY) } },
        (res) => {
          res.resume();
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            onResponse(status, performance.now() - started);
            resolve({ status, retryAfterMs: 1000 * (Number(res.headers["retry-after"]) || 1) });
          });
          res.on("error", () => resolve(null));
        },
      );
      req.setTimeout(timeout * 1000, () => {
        timeouts += 1;
        req.destroy(new Error("timeout"));
      });
      req.on("error", () => {
        // Requests cut off by the end of the window are not counted, as autocannon does not count them.
        if (!end.signal.aborted) errors += 1;
        resolve(null);
      });
      req.end(CART_CREATE_BODY);
    });
  const client = async () => {
    while (performance.now() < deadline) {
      const answer = await once();
      if (answer?.status === 503) await delay(Math.max(0, Math.min(answer.retryAfterMs, deadline - performance.now())));
    }
  };
  const timer = setTimeout(() => end.abort(), seconds * 1000);
  await Promise.all(Array.from({ length: connections }, client));
  clearTimeout(timer);
  end.abort();
  agent.destroy();
  return { errors, timeouts };
}

/**
 * Requests arriving at `rate` per second for `seconds`, whatever the answers; then the ones still out are awaited (up to
 * the client timeout). Latency counts from each request's scheduled arrival, so time spent waiting for a socket counts.
 */
async function openLoad(apiUrl: string, rate: number, seconds: number, timeout: number, maxSockets: number, onResponse: OnResponse) {
  const { hostname, port } = new URL(apiUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  let errors = 0;
  let timeouts = 0;
  const outstanding = new Set<Promise<void>>();
  const send = (scheduledAt: number) => {
    const done = new Promise<void>((resolve) => {
      const req = http.request(
        { host: hostname, port, method: "POST", path: "/trpc/cart.create", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(CART_CREATE_BODY) } },
        (res) => {
          res.resume();
          res.on("end", () => {
            onResponse(res.statusCode ?? 0, performance.now() - scheduledAt);
            resolve();
          });
          res.on("error", () => resolve());
        },
      );
      // From the arrival, not from when a socket became free.
      const timer = setTimeout(() => {
        timeouts += 1;
        req.destroy(new Error("timeout"));
      }, Math.max(1, timeout * 1000 - (performance.now() - scheduledAt)));
      req.on("close", () => clearTimeout(timer));
      req.on("error", () => {
        errors += 1;
        resolve();
      });
      req.end(CART_CREATE_BODY);
    });
    outstanding.add(done);
    void done.then(() => outstanding.delete(done));
  };
  const started = performance.now();
  let sent = 0;
  const total = Math.round(rate * seconds);
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - started) / 1000) * rate));
    for (; sent < due; sent += 1) send(started + (1000 * sent) / rate);
    await delay(5);
  }
  while (outstanding.size > 0) await Promise.all([...outstanding]);
  agent.destroy();
  return { errors, timeouts };
}

function offer(scenario: Scenario, apiUrl: string, config: z.infer<typeof BenchEnv>, seconds: number, openRate: number, onResponse: OnResponse) {
  if (scenario === "open") return openLoad(apiUrl, openRate, seconds, config.OVERLOAD_CLIENT_TIMEOUT, config.OVERLOAD_OPEN_MAX_SOCKETS, onResponse);
  const load = scenario === "instant" ? instantLoad : retryAfterLoad;
  return load(apiUrl, config.OVERLOAD_CONNECTIONS, seconds, config.OVERLOAD_CLIENT_TIMEOUT, onResponse);
}

async function warmUp(apiUrl: string, config: z.infer<typeof BenchEnv>): Promise<void> {
  const counts: Record<string, number> = {};
  const result = await offer("instant", apiUrl, config, config.OVERLOAD_WARMUP, 0, (status) => (counts[status] = (counts[status] ?? 0) + 1));
  log(`  warm-up: status codes ${JSON.stringify(counts)}, ${result.errors} errors`);
}

async function measureWindow(options: {
  scenario: Scenario;
  setting: string;
  round: number;
  openRate: number;
  apiUrl: string;
  port: number;
  apiPid: number;
  postmasterPid: number | null;
  config: z.infer<typeof BenchEnv>;
}): Promise<Window> {
  const { config, apiUrl } = options;
  // Let what came before (warm-up, the other scenario) finish what it left queued or in flight.
  await delay(2000);

  const shedBefore = await shedCounters(apiUrl);
  const stopProbes = startProbes(options.port);
  const okLatencies: number[] = [];
  const shedLatencies: number[] = [];
  const otherStatus: Record<string, number> = {};
  const before = {
    api: processCpuSeconds(options.apiPid),
    database: options.postmasterPid === null ? null : processTreeCpuSeconds(options.postmasterPid),
    own: ownCpuSeconds(),
    machine: machineBusyCpuSeconds(),
    at: performance.now(),
  };
  const result = await offer(options.scenario, apiUrl, config, config.OVERLOAD_DURATION, options.openRate, (statusCode, responseTimeMs) => {
    if (statusCode >= 200 && statusCode < 300) okLatencies.push(responseTimeMs);
    else if (statusCode === 503) shedLatencies.push(responseTimeMs);
    else otherStatus[statusCode] = (otherStatus[statusCode] ?? 0) + 1;
  });
  const seconds = (performance.now() - before.at) / 1000;
  const after = {
    api: processCpuSeconds(options.apiPid),
    database: options.postmasterPid === null ? null : processTreeCpuSeconds(options.postmasterPid),
    own: ownCpuSeconds(),
    machine: machineBusyCpuSeconds(),
  };
  const probes = await stopProbes();
  const shedAfter = await shedCounters(apiUrl);
  const percent = (start: number | null, end: number | null) => (start === null || end === null ? null : (100 * (end - start)) / seconds);
  const api = percent(before.api, after.api);
  const database = percent(before.database, after.database);
  const loadGenerator = (100 * (after.own - before.own)) / seconds;
  const machine = percent(before.machine, after.machine);
  okLatencies.sort((a, b) => a - b);
  shedLatencies.sort((a, b) => a - b);
  return {
    scenario: options.scenario,
    setting: options.setting,
    round: options.round,
    seconds,
    ok: okLatencies.length,
    shed: shedLatencies.length,
    otherStatus,
    errors: result.errors,
    timeouts: result.timeouts,
    okLatency: { p50: percentile(okLatencies, 0.5), p99: percentile(okLatencies, 0.99), max: okLatencies.at(-1) ?? Number.NaN },
    shedLatency: { p50: percentile(shedLatencies, 0.5), p99: percentile(shedLatencies, 0.99) },
    shedReasons: Object.fromEntries(Object.entries(shedAfter).map(([reason, value]) => [reason, value - (shedBefore[reason] ?? 0)])),
    ...probes,
    cpuPercent: { api, database, loadGenerator, others: machine === null ? null : Math.max(0, machine - (api ?? 0) - (database ?? 0) - loadGenerator) },
  };
}

const attempts = (w: Window) => w.ok + w.shed + Object.values(w.otherStatus).reduce((a, b) => a + b, 0) + w.errors;
const okPerSecond = (w: Window) => w.ok / w.seconds;
const others = (w: Window) => Object.values(w.otherStatus).reduce((a, b) => a + b, 0);

function fmt(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "–";
}
const pct = (part: number, whole: number) => (whole === 0 ? "–" : `${fmt((100 * part) / whole, 1)} %`);

/** Across rounds: "a" when the rounds agree to two decimals, else "a–b" (min–max of the per-round ratios). */
function ratioRange(values: number[]): string {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return "–";
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  return fmt(low, 2) === fmt(high, 2) ? `${fmt(low, 2)}×` : `${fmt(low, 2)}–${fmt(high, 2)}×`;
}

interface Report {
  settings: Setting[];
  openRates: number[];
  windows: Window[];
  config: z.infer<typeof BenchEnv>;
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
      shedShare: pct(sum((w) => w.shed), sum(attempts)),
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
      failedShare: pct(sum((w) => w.errors + others(w)), sum(attempts)),
      errors: sum((w) => w.errors),
      timeouts: sum((w) => w.timeouts),
      health: { p50: median(own.map((w) => w.health.p50)), p99: median(own.map((w) => w.health.p99)), failed: sum((w) => w.health.failed), count: sum((w) => w.health.count) },
      ready: { p50: median(own.map((w) => w.ready.p50)), p99: median(own.map((w) => w.ready.p99)), max: Math.max(...own.map((w) => w.ready.max)), failed: sum((w) => w.ready.failed), count: sum((w) => w.ready.count) },
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

function renderConsole(report: Report, scenario: Scenario): string {
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

function renderSection(report: Report, conclusions: string): string {
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
fixed rate (${config.OVERLOAD_OPEN_RATE ? "\`OVERLOAD_OPEN_RATE\`" : `${config.OVERLOAD_OPEN_FACTOR}× admission off's 2xx/s in the first scenario of the same round`}:
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

const cleanup = new Cleanup();

async function main(): Promise<number> {
  const startedAt = performance.now();
  const loadAtStart = os.loadavg();
  const isSmoke = isSmokeRun();
  const config = readSettings(BenchEnv, isSmoke ? { ...process.env, ...SMOKE_ENV } : process.env);
  if (!config) return 78;
  const reportPath = isSmoke ? smokeReportPath({ name: "overload-bench", docPath }) : docPath;
  const wanted = config.OVERLOAD_SETTINGS?.split(",").map((key) => key.trim()) ?? DEFAULT_RUN;
  const settings = settingsFor(config.DB_POOL_MAX).filter((setting) => setting.key === "off" || wanted.includes(setting.key));

  const workDir = await makeWorkDir("checkout-overload-", cleanup);
  const pgDataDir = path.join(workDir, "data", "postgres");

  const [apiPort, sandboxPort, pgPort] = await findFreePorts(3);
  if (!apiPort || !sandboxPort || !pgPort) throw new Error("Could not find free ports");
  const database = await benchDatabase({
    externalUrl: config.BENCH_DATABASE_URL,
    dataDir: pgDataDir,
    port: pgPort,
    cleanup,
    log,
    note: "one server for the whole run",
  });
  const postmaster = config.BENCH_DATABASE_URL ? null : postmasterPid(pgDataDir);

  const inherited: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ["DATABASE_URL", "DATABASE_READ_URL", "PORT", "HOST", "PAYMENT_PROVIDER_URL", "PAYMENT_PROVIDER_PUBLIC_URL", "MAX_IN_FLIGHT", "ADMISSION_QUEUE_MAX", "ADMISSION_QUEUE_TIMEOUT_MS"]) {
    delete inherited[name];
  }
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const windows: Window[] = [];
  const openRates: number[] = [];

  for (let round = 1; round <= config.OVERLOAD_ROUNDS; round += 1) {
    for (const setting of settings) {
      const logPath = path.join(workDir, `api-${setting.key}-${round}.log`);
      const api = spawnApi({
        name: `API (${setting.key})`,
        port: apiPort,
        sandboxPort,
        workDir,
        logPath,
        inherited,
        env: {
          // The load generator is one address doing the work of many shoppers: admission control is measured, not per-client limits.
          CLIENT_LIMITS_EXEMPT: "127.0.0.1",
          DATABASE_URL: database.url,
          DB_POOL_MAX: String(config.DB_POOL_MAX),
          ...(setting.key === "off" ? { MAX_IN_FLIGHT: "100000", ADMISSION_QUEUE_MAX: "100000", ADMISSION_QUEUE_TIMEOUT_MS: "60000" } : setting.env),
        },
      });
      const stop = () => api.stop(API_STOP_GRACE_MS);
      cleanup.add(stop);
      try {
        await waitForOk(`${apiUrl}/ready`, api, 120_000);
        log(`round ${round}, ${setting.key}: ${setting.label}; load average ${os.loadavg().map((v) => v.toFixed(2)).join(", ")}`);
        await warmUp(apiUrl, config);
        for (const scenario of SCENARIOS) {
          const offInstant = windows.find((w) => w.setting === "off" && w.scenario === "instant" && w.round === round);
          const openRate = config.OVERLOAD_OPEN_RATE ?? Math.round(config.OVERLOAD_OPEN_FACTOR * (offInstant ? okPerSecond(offInstant) : 2000));
          if (scenario === "open" && setting.key === "off") openRates.push(openRate);
          const w = await measureWindow({ scenario, setting: setting.key, round, openRate, apiUrl, port: apiPort, apiPid: api.pid, postmasterPid: postmaster, config });
          windows.push(w);
          log(
          `  ${scenario}: ${fmt(okPerSecond(w))} 2xx/s, p50 ${fmt(w.okLatency.p50)} ms, p99 ${fmt(w.okLatency.p99)} ms; shed ${pct(w.shed, attempts(w))}; ` +
            `other ${JSON.stringify(w.otherStatus)}, ${w.errors} errors (${w.timeouts} timeouts); /health p99 ${fmt(w.health.p99, 1)} ms; ` +
            `/ready p99 ${fmt(w.ready.p99)} ms, ${w.ready.failed}/${w.ready.count} failed; shed reasons ${JSON.stringify(w.shedReasons)}`,
          );
        }
      } catch (error) {
        console.error(`[overload] last lines of the API log:\n${logTail(logPath, 20)}`);
        throw error;
      } finally {
        cleanup.remove(stop);
        const outcome = await stop();
        if (!outcome.isGraceful || outcome.strays.length) log(`  API stop: graceful ${outcome.isGraceful}, strays ${outcome.strays.join(", ") || "none"}`);
      }
    }
  }

  const report: Report = {
    settings,
    openRates,
    windows,
    config,
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    database: database.description,
    commit: gitCommit(repoRoot),
    totalSeconds: (performance.now() - startedAt) / 1000,
  };
  for (const scenario of SCENARIOS) console.log(`\n${renderConsole(report, scenario)}`);
  console.log("");
  log(`load average ${loadAtStart.map((v) => v.toFixed(2)).join(", ")} at the start, ${report.loadAverage.end.map((v) => v.toFixed(2)).join(", ")} at the end`);
  if (isSmoke) {
    await writeFile(reportPath, spliceSection(null, renderSection(report, ""), SECTION));
    log(`smoke run: wrote ${reportPath}; ${path.relative(repoRoot, docPath)} left unchanged`);
  } else if (config.OVERLOAD_WRITE_DOC) {
    const existing = existsSync(docPath) ? await readFile(docPath, "utf8") : null;
    await writeFile(docPath, spliceSection(existing, renderSection(report, existingConclusions(existing)), SECTION));
    log(`wrote the "Admission control under overload" section of ${path.relative(repoRoot, docPath)}`);
  } else {
    console.log(renderSection(report, ""));
  }
  return 0;
}

await runBench("overload", cleanup, main);
