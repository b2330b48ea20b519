// `pnpm --filter @checkout/api bench:abuse [--smoke]`: the shopper probe's p50, p99 and success rate with no attack
// (the baseline, at the start and the end) and beside each attack of the abuse suite, in one run against one API
// process at its default limits; written to docs/BENCHMARKS.md. The attacks and the probe are the suite's own
// (test/support/attack-tools.ts); the probe runs in a worker thread so the attackers' busy loop does not time it.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as delay } from "node:timers/promises";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { z } from "zod";
import {
  callProcedure,
  dataOf,
  deepJson,
  flood,
  loopback,
  openSockets,
  randomIp,
  send,
  slowBodies,
  slowHeaders,
  startShopperProbe,
  type Answer,
  type FloodReport,
  type ProbeReport,
  type SendOptions,
  type SlowSocketOutcome,
  type Target,
} from "../test/support/attack-tools.ts";
import { gitCommit, isSmokeRun, mean, percentile, sectionMarkers, smokeReportPath, spliceSection } from "@checkout/bench-support";
import { benchDatabase, Cleanup, findFreePorts, logTail, makeWorkDir, readSettings, runBench, spawnApi, waitForOk } from "./processes.ts";
import { exitWithHelpIfAsked } from "../src/cli/help.ts";

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(apiDir, "../..");
const docPath = path.join(repoRoot, "docs", "BENCHMARKS.md");
const SECTION = sectionMarkers("abuse-bench");
const API_STOP_GRACE_MS = 40_000;
/** A full run's window: longer than the default body and header timeouts (10 s), so slow clients meet them within it. */
const DEFAULT_SECONDS = 11;

/** The shoppers: one loop per address, each pausing between requests so it stays within the default rate classes. */
const PROBE = { addresses: [1, 2, 3, 4].map((n) => loopback(256 + n)), pauseMs: 100, timeoutMs: 10_000 };

exitWithHelpIfAsked(`
pnpm --filter @checkout/api bench:abuse [--smoke] — the shopper probe's success rate, p50 and p99 with no attack and
beside each attack of the abuse suite (slow bodies and headers, socket cap, key bypasses, hostile JSON, card testing,
/ready flood, spoofed addresses), one API process at its default limits; written to docs/BENCHMARKS.md (about 3 min).

  --smoke   (or BENCH_SMOKE=1) 1 s windows; the report goes to BENCH_SMOKE_REPORT_DIR (default
            $TMPDIR/checkout-bench-smoke), never docs/BENCHMARKS.md. Checks the benchmark still runs, not its numbers.

Settings (environment): ABUSE_DURATION (seconds a window), ABUSE_ATTACKS (comma-separated keys), ABUSE_WRITE_DOC,
BENCH_DATABASE_URL. Exit 78 names a bad setting.
`);

const BenchEnv = z.object({
  /** Seconds each window (baseline or attack) lasts; --smoke makes it 1. */
  ABUSE_DURATION: z.coerce.number().positive().max(120).optional(),
  /** Comma-separated attack keys to run (the baselines always run). */
  ABUSE_ATTACKS: z.string().optional(),
  /** Write the section of docs/BENCHMARKS.md (default: yes for a full run; --smoke writes its own report instead). */
  ABUSE_WRITE_DOC: z.enum(["1", "0", "true", "false"]).optional(),
  BENCH_DATABASE_URL: z.url({ message: "must be a postgres:// URL" }).optional(),
});

interface AttackContext {
  target: Target;
  paymentUrl: string;
  /** performance.now() at which the attack must stop. */
  until: number;
}

/** What the attacker got back, by "status appCode" (or how the connection ended). */
type Outcomes = Record<string, number>;

interface Attack {
  key: string;
  label: string;
  /** Set-up before the window opens (not measured); its result is handed to run. */
  prepare?(target: Target): Promise<unknown>;
  run(context: AttackContext, prepared?: unknown): Promise<Outcomes>;
}

function tally(outcomes: Outcomes, label: string, count = 1): void {
  outcomes[label] = (outcomes[label] ?? 0) + count;
}

function slowOutcome(outcome: SlowSocketOutcome): string {
  if (outcome.status !== null) return `${outcome.status} ${outcome.appCode ?? ""}`.trim();
  return outcome.isClosedByServer ? "closed without an answer" : "open when the window closed";
}

function floodOutcomes(report: FloodReport): Outcomes {
  return { ...report.answers };
}

/** `slots` sockets that each reopen as soon as the server ends one, until the window closes. */
async function sustainSlow(context: AttackContext, slots: string[], open: (localAddress: string, giveUpAfterMs: number) => Promise<SlowSocketOutcome[]>): Promise<Outcomes> {
  const outcomes: Outcomes = {};
  await Promise.all(
    slots.map(async (localAddress) => {
      while (context.until - performance.now() > 50) {
        for (const outcome of await open(localAddress, context.until - performance.now())) tally(outcomes, slowOutcome(outcome));
      }
    }),
  );
  return outcomes;
}

const slotsOver = (addresses: number[], perAddress: number) => addresses.flatMap((n) => Array.from({ length: perAddress }, () => loopback(n)));
const unknownOrder = () => ({ cartId: randomUUID(), quoteId: randomUUID(), paymentToken: `tok_${randomUUID().replaceAll("-", "")}` });
const jsonPost = (requestPath: string, body: string | string[], headers: Record<string, string> = {}): SendOptions => ({
  method: "POST",
  path: requestPath,
  headers: { "content-type": "application/json", ...(typeof body === "string" ? { "content-length": String(Buffer.byteLength(body)) } : {}), ...headers },
  body,
});

const bypassRequests: (() => SendOptions)[] = [
  () => jsonPost("/trpc/checkout.placeOrder", JSON.stringify(unknownOrder())),
  () => jsonPost("/trpc/checkout.placeOrder", JSON.stringify(unknownOrder()), { "trpc-accept": "application/json" }),
  () => jsonPost("/trpc/checkout.placeOrder?%62atch=1", JSON.stringify({ 0: unknownOrder() }), { "idempotency-key": randomUUID() }),
  () => jsonPost("/trpc/checkout.placeOrder,checkout.placeOrder?batch=1", JSON.stringify({ 0: unknownOrder(), 1: unknownOrder() }), { "idempotency-key": randomUUID() }),
  () => ({ path: `/trpc/checkout.placeOrder?input=${encodeURIComponent(JSON.stringify(unknownOrder()))}`, headers: { "idempotency-key": randomUUID() } }),
  () => jsonPost("/trpc/checkout.placeOrder", JSON.stringify(unknownOrder()), { "content-type": "text/plain" }),
  () =>
    jsonPost(
      `/trpc/${Array.from({ length: 1000 }, () => "cart.create").join(",")}?batch=1`,
      JSON.stringify(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [i, { currency: "USD" }]))),
    ),
];

const sixtyKb = "x".repeat(60 * 1024);
const hostileRequests: (() => SendOptions)[] = [
  () => jsonPost("/trpc/checkout.placeOrder", deepJson(30_000), { "idempotency-key": randomUUID() }),
  () => jsonPost("/trpc/checkout.setContact", JSON.stringify({ cartId: randomUUID(), email: sixtyKb })),
  () => jsonPost("/trpc/cart.create", Array.from({ length: 64 }, () => sixtyKb.slice(0, 16 * 1024))),
  () => ({ path: `/trpc/catalog.list?input=${encodeURIComponent(deepJson(2000))}` }),
];

async function tokenize(paymentUrl: string, number: string): Promise<string> {
  const response = await fetch(`${paymentUrl}/v1/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ number, expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" }),
  });
  return ((await response.json()) as { id: string }).id;
}

/** A cart ready to be ordered, set up from `localAddress` as its shopper would. */
async function quotedCart(target: Target, localAddress: string): Promise<{ cartId: string; quoteId: string }> {
  const call = async <T>(procedure: string, input: unknown) => dataOf<T>(await callProcedure(target, procedure, input, { localAddress }), procedure);
  const { id: cartId } = await call<{ id: string }>("cart.create", { currency: "USD" });
  await call("cart.addLine", { cartId, sku: "MUG-SAN", quantity: 1 });
  await call("checkout.setContact", { cartId, email: `tester-${cartId.slice(0, 8)}@example.com` });
  await call("checkout.setShippingAddress", { cartId, address: { name: "Card Tester", line1: "500 Howard St", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" } });
  await call("checkout.setShippingOption", { cartId, optionId: "standard" });
  const { id: quoteId } = await call<{ id: string }>("checkout.quote", { cartId });
  return { cartId, quoteId };
}

const ATTACKS: Attack[] = [
  {
    key: "slow-bodies",
    label: "200 sockets (4 addresses × 50) send headers and `Content-Length: 1000`, then a body byte every 2 s, reconnecting when cut off",
    run: (context) =>
      sustainSlow(context, slotsOver([10, 11, 12, 13], 50), (localAddress, giveUpAfterMs) =>
        slowBodies({ target: context.target, path: "/trpc/cart.addLine", contentLength: 1000, everyMs: 2000, giveUpAfterMs, sockets: [{ localAddress, count: 1 }] }),
      ),
  },
  {
    key: "slow-headers",
    label: "200 sockets (4 addresses × 50) send a request line, then a header line every 2 s, never the end of the headers, reconnecting when cut off",
    run: (context) =>
      sustainSlow(context, slotsOver([14, 15, 16, 17], 50), (localAddress, giveUpAfterMs) =>
        slowHeaders({ target: context.target, path: "/trpc/cart.create", everyMs: 2000, giveUpAfterMs, sockets: [{ localAddress, count: 1 }] }),
      ),
  },
  {
    key: "connections",
    label: "one address opens 500 idle sockets at a time (the cap is 64), drops them and opens them again",
    run: async (context) => {
      const outcomes: Outcomes = {};
      while (context.until - performance.now() > 200) {
        const held = await openSockets(context.target, loopback(18), 500);
        await delay(Math.min(500, Math.max(0, context.until - performance.now())));
        tally(outcomes, "closed at once", held.closedCount());
        tally(outcomes, "held open", held.sockets.length - held.closedCount());
        held.destroy();
      }
      return outcomes;
    },
  },
  {
    key: "bypass",
    label: "16 clients (8 addresses) in closed loops: placeOrder without a key, with `trpc-accept`, batched (`%62atch`, comma paths), by GET, as text/plain, and a 1,000-way `cart.create` batch",
    run: async (context) =>
      floodOutcomes(
        await flood(context.target, {
          request: (i) => bypassRequests[i % bypassRequests.length]!(),
          localAddresses: [20, 21, 22, 23, 24, 25, 26, 27].map(loopback),
          concurrency: 16,
          until: context.until,
        }),
      ),
  },
  {
    key: "hostile-json",
    label: "8 clients (8 addresses) in closed loops: 60 KB bodies nested 30,000 deep, 60 KB strings, 1 MB chunked bodies, a 2,000-deep `?input=`",
    run: async (context) =>
      floodOutcomes(
        await flood(context.target, {
          request: (i) => hostileRequests[i % hostileRequests.length]!(),
          localAddresses: [30, 31, 32, 33, 34, 35, 36, 37].map(loopback),
          concurrency: 8,
          until: context.until,
        }),
      ),
  },
  {
    key: "card-testing",
    label: "one address, 4 quoted carts, placeOrder again and again with fresh tokens for declining cards",
    prepare: (target) => Promise.all(Array.from({ length: 4 }, () => quotedCart(target, loopback(40)))),
    run: async (context, prepared) => {
      const attacker = loopback(40);
      const carts = prepared as { cartId: string; quoteId: string }[];
      const outcomes: Outcomes = {};
      let attempt = 0;
      await Promise.all(
        carts.map(async (cart) => {
          while (performance.now() < context.until) {
            const card = (attempt += 1) % 2 === 0 ? "4000000000000002" : "4000000000009995";
            const paymentToken = await tokenize(context.paymentUrl, card);
            const answer = await callProcedure(context.target, "checkout.placeOrder", { ...cart, paymentToken }, { headers: { "idempotency-key": randomUUID() }, localAddress: attacker });
            tally(outcomes, `${answer.status} ${answer.appCode ?? ""}`.trim());
          }
        }),
      );
      return outcomes;
    },
  },
  {
    key: "ready-flood",
    label: "400 clients (8 addresses × 50) in closed loops on `/ready`",
    run: async (context) => {
      const before = await readyChecks(context.target);
      const report = await flood(context.target, { request: () => ({ path: "/ready" }), localAddresses: [50, 51, 52, 53, 54, 55, 56, 57].map(loopback), concurrency: 400, until: context.until });
      const outcomes = floodOutcomes(report);
      const after = await readyChecks(context.target);
      if (before !== null && after !== null) tally(outcomes, "database checks run", after - before);
      return outcomes;
    },
  },
  {
    key: "spoofed-xff",
    label: "one address, 16 closed loops of `cart.create`, each with a random `X-Forwarded-For` and viewer address",
    run: async (context) =>
      floodOutcomes(
        await flood(context.target, {
          request: () => ({
            ...jsonPost("/trpc/cart.create", JSON.stringify({ currency: "USD" })),
            headers: {
              "content-type": "application/json",
              "x-forwarded-for": `${randomIp()}, ${randomIp()}`,
              "cloudfront-viewer-address": `${randomIp()}:443`,
            },
          }),
          localAddresses: [loopback(60)],
          concurrency: 16,
          until: context.until,
        }),
      ),
  },
];

let metricsToken = "";
async function readyChecks(target: Target): Promise<number | null> {
  const answer: Answer = await send(target, { path: "/metrics", headers: { authorization: `Bearer ${metricsToken}` } });
  const match = /^ready_database_checks_total (\d+)$/m.exec(answer.text);
  return match ? Number(match[1]) : null;
}

// --- The probe's worker thread ---------------------------------------------------------------------------------------

interface ProbeSummary {
  attempts: number;
  succeeded: number;
  p50: number;
  p99: number;
  failures: string[];
}

function summarise(report: ProbeReport): ProbeSummary {
  const ok = report.samples.filter((sample) => sample.isOk).map((sample) => sample.ms).sort((a, b) => a - b);
  return { attempts: report.attempts, succeeded: report.succeeded, p50: percentile(ok, 0.5), p99: percentile(ok, 0.99), failures: report.failures.slice(0, 3) };
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === "abuse-probe") {
  const { target } = workerData as { target: Target };
  let probe: ReturnType<typeof startShopperProbe> | null = null;
  parentPort!.on("message", (message: "start" | "stop") => {
    if (message === "start") {
      probe = startShopperProbe(target, { localAddresses: PROBE.addresses, shoppersPerAddress: 1, pauseMs: PROBE.pauseMs, timeoutMs: PROBE.timeoutMs });
      parentPort!.postMessage({ started: true });
    } else {
      void probe!.stop().then((report) => parentPort!.postMessage(summarise(report)));
    }
  });
}

function startProbeWorker(target: Target) {
  // Worker threads do not inherit tsx's loader on Node 20: register it inside the worker before loading this file.
  const boot = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { role: "abuse-probe", target } });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      worker.once("error", onError);
      worker.once("message", (message: T) => {
        worker.off("error", onError);
        resolve(message);
      });
    });
  return {
    async start() {
      const started = next<{ started: true }>();
      worker.postMessage("start");
      await started;
    },
    async stop(): Promise<ProbeSummary> {
      const summary = next<ProbeSummary>();
      worker.postMessage("stop");
      return summary;
    },
    terminate: () => worker.terminate(),
  };
}

// --- The run ---------------------------------------------------------------------------------------------------------

interface Window {
  key: string;
  label: string;
  probe: ProbeSummary;
  outcomes: Outcomes;
}

function log(message: string): void {
  console.log(`[abuse] ${message}`);
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "–");
const ratio = (value: number, base: number) => (Number.isFinite(value) && base > 0 ? `${(value / base).toFixed(2)}×` : "–");
const successRate = (probe: ProbeSummary) => (probe.attempts === 0 ? "–" : `${((100 * probe.succeeded) / probe.attempts).toFixed(probe.succeeded === probe.attempts ? 0 : 1)} %`);
const describeOutcomes = (outcomes: Outcomes) =>
  Object.entries(outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([label, count]) => `${label} ×${fmt(count)}`)
    .join(", ") || "–";

function baselineOf(windows: Window[]): { p50: number; p99: number } {
  const baselines = windows.filter((w) => w.key === "baseline");
  return { p50: mean(baselines.map((w) => w.probe.p50)), p99: mean(baselines.map((w) => w.probe.p99)) };
}

function renderSection(windows: Window[], info: { seconds: number; isSmoke: boolean; database: string; commit: string | null; loadAverage: number[][]; totalSeconds: number }): string {
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

const cleanup = new Cleanup();

async function main(): Promise<number> {
  const startedAt = performance.now();
  const loadAtStart = os.loadavg();
  const config = readSettings(BenchEnv);
  if (!config) return 78;
  const isSmoke = isSmokeRun();
  const seconds = isSmoke ? 1 : (config.ABUSE_DURATION ?? DEFAULT_SECONDS);
  const writeDoc = !isSmoke && (config.ABUSE_WRITE_DOC === undefined || config.ABUSE_WRITE_DOC === "1" || config.ABUSE_WRITE_DOC === "true");
  const wanted = config.ABUSE_ATTACKS?.split(",").map((key) => key.trim());
  const attacks = ATTACKS.filter((attack) => !wanted || wanted.includes(attack.key));

  const workDir = await makeWorkDir("checkout-abuse-", cleanup);
  const [apiPort, sandboxPort, pgPort] = await findFreePorts(3);
  if (!apiPort || !sandboxPort || !pgPort) throw new Error("Could not find free ports");
  const database = await benchDatabase({
    externalUrl: config.BENCH_DATABASE_URL,
    dataDir: path.join(workDir, "data", "postgres"),
    port: pgPort,
    cleanup,
    log,
  });

  const inherited: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(inherited)) {
    // The limits under test are the defaults: nothing from the caller's shell changes them.
    if (/^(DATABASE_|PORT$|HOST$|PAYMENT_PROVIDER|MAX_|RATE_LIMIT_|BODY_TIMEOUT|HEADERS_TIMEOUT|TRUST_PROXY|VIEWER_ADDRESS|CLIENT_LIMITS|READY_CACHE|METRICS_TOKEN)/.test(name)) delete inherited[name];
  }
  metricsToken = randomUUID() + randomUUID();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const logPath = path.join(workDir, "api.log");
  const api = spawnApi({
    name: "API",
    port: apiPort,
    sandboxPort,
    workDir,
    logPath,
    inherited,
    env: { DATABASE_URL: database.url, METRICS_TOKEN: metricsToken },
  });
  cleanup.add(() => api.stop(API_STOP_GRACE_MS));
  const target: Target = { host: "127.0.0.1", port: apiPort };
  const paymentUrl = `http://127.0.0.1:${sandboxPort}`;
  const windows: Window[] = [];
  try {
    await waitForOk(`${apiUrl}/ready`, api, 120_000);
    const probe = startProbeWorker(target);
    cleanup.add(() => probe.terminate());
    const plan: (Attack | null)[] = [null, ...attacks, null];
    for (const attack of plan) {
      const key = attack?.key ?? "baseline";
      const prepared = await attack?.prepare?.(target);
      await probe.start();
      const until = performance.now() + seconds * 1000;
      const outcomes = attack ? await attack.run({ target, paymentUrl, until }, prepared) : {};
      const left = until - performance.now();
      if (left > 0) await delay(left);
      const summary = await probe.stop();
      windows.push({ key, label: attack?.label ?? "no attack", probe: summary, outcomes });
      log(
        `${key}: shoppers ${summary.succeeded}/${summary.attempts} ok, p50 ${fmt(summary.p50, 1)} ms, p99 ${fmt(summary.p99, 1)} ms` +
          `${summary.failures.length ? ` (failures: ${summary.failures.join(" | ")})` : ""}; attacker got ${describeOutcomes(outcomes)}`,
      );
      // Let the server finish closing what the attack left before the next window.
      await delay(isSmoke ? 500 : 1500);
    }
  } catch (error) {
    console.error(`[abuse] last lines of the API log:\n${logTail(logPath, 20)}`);
    throw error;
  }

  const section = renderSection(windows, {
    seconds,
    isSmoke,
    database: database.description,
    commit: gitCommit(repoRoot),
    loadAverage: [loadAtStart, os.loadavg()],
    totalSeconds: (performance.now() - startedAt) / 1000,
  });
  if (isSmoke) {
    const reportPath = smokeReportPath({ name: "abuse-bench", docPath });
    await writeFile(reportPath, spliceSection(null, section, SECTION));
    log(`smoke run: wrote ${reportPath}; ${path.relative(repoRoot, docPath)} left unchanged`);
  } else if (writeDoc) {
    const existing = existsSync(docPath) ? await readFile(docPath, "utf8") : "# Benchmarks\n";
    await writeFile(docPath, spliceSection(existing, section, SECTION));
    log(`wrote the abuse section of ${path.relative(repoRoot, docPath)}`);
  } else {
    console.log(`\n${section}`);
  }
  return 0;
}

if (isMainThread) await runBench("abuse", cleanup, main);
