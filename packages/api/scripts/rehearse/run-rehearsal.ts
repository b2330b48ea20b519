// The blue/green rehearsal: PostgreSQL, a payment sandbox, blue behind HAProxy, the checkout journey as load;
// then green switched in through HAProxy's runtime API and blue drained and stopped, then the rollback to a new blue.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { repoRoot } from "../../src/env.ts";
import { freePort } from "../free-port.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/embedded-postgres.ts";
import { startPaymentSandbox, type PaymentSandbox } from "@checkout/payment-sandbox";
import { summarize, summarizeWindow } from "../../../loadtest/src/engine/run-result.ts";
import { renderReport, type RunAnnotations, type SavedRun } from "../../../loadtest/src/report/render-report.ts";
import { startApiProcess, waitUntilReady, type ApiProcess } from "./api-process.ts";
import { startProbeShopper } from "./probe-shopper.ts";
import { ensureHaproxy, startHaproxy, type Haproxy, type Slot } from "./haproxy.ts";

export interface RehearsalOptions {
  /** Shopper arrivals per second of the checkout journey (about 3 requests each). */
  arrivalRate: number;
  /** Seconds of load before the first switch, and after each step before the next. */
  settleSeconds: number;
  /**
   * Seconds of load planned for the two cutovers on top of the settle periods (default 30). "measured": three times
   * blue's own start, at least 10 s, so that a slower machine gets a longer load.
   */
  cutoverAllowance?: number | "measured";
  /**
   * Start each new version as early as it can, so that starts overlap other steps (default false: each starts after
   * the settle period before its switch). green then starts as soon as blue is ready, before the load; the new blue
   * as soon as the old one has exited, while the load settles. The switch waits for the start and the settle period;
   * the cutover's window then begins with that settle period.
   */
  startEarly?: boolean;
  /** An existing server's database (dropped and recreated as a fresh one per run is not done: it is used as is). */
  databaseUrl?: string;
  /** Where the load tester's saved run goes (with the rehearsal's annotations added); a temporary file when omitted. */
  loadResultFile?: string;
  /** Where the load tester's HTML report, with the rehearsal's section and cutover marks, goes; none when omitted. */
  htmlReportFile?: string;
  log?: (line: string) => void;
  /** Aborts the rehearsal; everything started is stopped. */
  signal?: AbortSignal;
}

export interface Cutover {
  name: string;
  from: string;
  to: string;
  /** From starting the new process to its first /ready. */
  startMs: number;
  /** From `set server … state ready` to the new slot UP and the old one drained of sessions and in maintenance. */
  switchMs: number;
  /** From SIGTERM to the old process's exit. */
  stopMs: number;
  oldExitCode: number | null;
  /** Offsets into the load run (ms) where this cutover began and ended. */
  windowStartMs: number;
  windowEndMs: number;
  /** The load through the window, from the load tester's saved intervals. */
  window: { requests: number; failed: number; p50: number; p95: number; p99: number; max: number };
}

export interface RehearsalReport {
  load: {
    arrivalRate: number;
    durationSeconds: number;
    vusersCreated: number;
    vusersFailed: number;
    requests: number;
    responses: number;
    failed: number;
    errors: Record<string, number>;
    statusCodes: Record<string, number>;
    p50: number;
    p95: number;
    p99: number;
    max: number;
  };
  cutovers: Cutover[];
  /** Versions that answered /health through HAProxy, in order, repeats folded. */
  versionsServed: string[];
  /** How many /health probes through HAProxy failed (any non-200 or connection error). */
  healthProbeFailures: number;
  /**
   * The load tester's invariant verdicts (stock, charges, and every order number its virtual users saw acknowledged
   * exists exactly once), and admin.invariants asked the same about every order the probe shopper saw acknowledged.
   */
  invariants: { passed: boolean; verdicts: { passed: boolean; message: string }[]; acknowledgedOrders: { load: number; probeShopper: number }; adminReport: unknown };
  /** A shopper checking out one order after another through the balancer during both cutovers. */
  probeShopper: { checkouts: number; failures: string[] };
  /** Whether the load was still running when the rollback finished. */
  loadCoveredCutovers: boolean;
  loadExitCode: number | null;
  finalExitCode: number | null;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new Error("rehearsal aborted"));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new Error("rehearsal aborted"));
      },
      { once: true },
    );
  });

/** The checkout journey at a steady rate for `seconds`: its phases replaced, everything else as shipped. */
export function journeyVariant(arrivalRate: number, seconds: number): string {
  const journey = readFileSync(path.join(repoRoot, "tests/performance/checkout-journey.yml"), "utf8");
  const phases = /^ {2}phases:\n(?: {4}.*\n)+/m;
  if (!phases.test(journey)) throw new Error("checkout-journey.yml: no config.phases block to replace");
  return journey.replace(phases, `  phases:\n    - name: rehearsal\n      duration: ${seconds}\n      arrivalRate: ${arrivalRate}\n`);
}

export async function runRehearsal(options: RehearsalOptions): Promise<RehearsalReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = mkdtempSync(path.join(os.tmpdir(), "rehearsal-"));
  const cleanups: (() => Promise<unknown>)[] = [];
  const processes = new Set<ApiProcess>();
  const started = Date.now();
  const at = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const step = (line: string) => log(`[${at()}] ${line}`);

  try {
    const haproxyBinary = ensureHaproxy(step);
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      const port = await freePort();
      step(`starting embedded PostgreSQL on 127.0.0.1:${port}`);
      const embedded: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir: path.join(dir, "postgres"), port });
      cleanups.push(() => embedded.stop());
      await embedded.createDatabase("checkout");
      databaseUrl = embedded.url("checkout");
    }

    const paymentSecretKey = `sk_rehearsal_${randomBytes(12).toString("hex")}`;
    const webhookSecret = `whsec_${randomBytes(24).toString("hex")}`;
    const adminToken = randomBytes(24).toString("hex");
    // The provider outlives every API process, as a real one does: blue's tokens are charged by green.
    const sandbox: PaymentSandbox = await startPaymentSandbox({ port: 0, host: "127.0.0.1", secretKey: paymentSecretKey, allowedParentOrigins: [] });
    cleanups.push(() => sandbox.close());

    const ports: Record<Slot, number> = { blue: await freePort(), green: await freePort() };
    const start = async (slot: Slot, version: string) => {
      const begun = Date.now();
      const api = startApiProcess({ version, port: ports[slot], databaseUrl: databaseUrl!, paymentUrl: sandbox.url, paymentSecretKey, webhookSecret, adminToken });
      processes.add(api);
      void api.exited.then(() => processes.delete(api));
      await waitUntilReady(api, 90_000);
      return { api, startMs: Date.now() - begun };
    };

    step("starting blue (v1-blue)");
    const first = await start("blue", "v1-blue");
    let live = first.api;
    // With startEarly, green starts now (in maintenance in haproxy until its switch) while the rest is set up.
    const greenEarly = options.startEarly ? start("green", "v2-green") : undefined;
    greenEarly?.catch(() => {});
    // The seed catalogue holds ~45 units a SKU: a restock (available and received raised together, as the stock
    // invariant expects) so that a long run measures the cutovers, not "out of stock".
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query("update inventory set available = available + 100000, stock_received = stock_received + 100000, updated_at = now()");
    } finally {
      await client.end();
    }
    const haproxy: Haproxy = await startHaproxy(haproxyBinary, { dir, port: await freePort(), backends: ports, live: "blue" });
    cleanups.push(() => haproxy.stop());
    sandbox.setWebhookTarget(`${haproxy.url}/webhooks/payments`, webhookSecret);
    await waitFor(async () => (await haproxy.server("blue")).status === "UP", 15_000, "blue UP in haproxy");
    step(`haproxy at ${haproxy.url}, blue UP`);

    // /health through the balancer, ten times a second: which version answered.
    const versionsServed: string[] = [];
    let healthProbeFailures = 0;
    let isProbing = true;
    const probing = (async () => {
      while (isProbing) {
        try {
          const response = await fetch(`${haproxy.url}/health`, { signal: AbortSignal.timeout(5000) });
          const body = (await response.json()) as { version?: string };
          if (!response.ok) healthProbeFailures += 1;
          else if (body.version && versionsServed.at(-1) !== body.version) versionsServed.push(body.version);
        } catch {
          healthProbeFailures += 1;
        }
        await sleep(100).catch(() => {});
      }
    })();

    // Sized for both cutovers (each a process start and a drain, a few seconds) between settle periods; the
    // load then ends on its own, so every shopper finishes its journey. The report says if it ended too soon.
    const settle = options.settleSeconds;
    const allowance = options.cutoverAllowance ?? 30;
    const loadSeconds = settle * 3 + (allowance === "measured" ? Math.max(10, Math.ceil((3 * first.startMs) / 1000)) : allowance);
    const scriptFile = path.join(dir, "rehearsal-journey.yml");
    writeFileSync(scriptFile, journeyVariant(options.arrivalRate, loadSeconds));
    const resultFile = options.loadResultFile ?? path.join(dir, "load-result.json");
    step(`load: checkout journey at ${options.arrivalRate} arrivals/s through haproxy for ${loadSeconds} s`);
    const loadStartedAt = Date.now();
    const load = spawn(
      process.execPath,
      ["--import", "tsx", "packages/loadtest/src/cli.ts", "run", scriptFile, "--target", haproxy.url, "-v", JSON.stringify({ paymentUrl: sandbox.url }), "--output", resultFile],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CHECKOUT_ADMIN_TOKEN: adminToken } },
    );
    let loadOutput = "";
    load.stdout?.on("data", (chunk: Buffer) => (loadOutput += chunk.toString()));
    load.stderr?.on("data", (chunk: Buffer) => (loadOutput += chunk.toString()));
    const loadExited = new Promise<number | null>((resolve) => load.once("exit", (code) => resolve(code)));
    cleanups.push(async () => {
      if (load.exitCode === null && load.signalCode === null) load.kill("SIGKILL");
    });

    const probe = startProbeShopper(haproxy.url, sandbox.url);
    const cutovers: Omit<Cutover, "window">[] = [];
    // The settle period before a cutover, then the cutover: the new version started (during the settle period, or
    // already, with startEarly), traffic switched to it, the old one drained and stopped.
    const cutover = async (name: string, from: Slot, to: Slot, version: string, started?: Promise<{ api: ApiProcess; startMs: number }>) => {
      if (!options.startEarly) await sleep(settle * 1000, options.signal);
      const windowStartMs = Date.now() - loadStartedAt;
      step(`${name}: ${started ? "started" : "starting"} ${to} (${version})`);
      const [{ api, startMs }] = await Promise.all([started ?? start(to, version), options.startEarly ? sleep(settle * 1000, options.signal) : undefined]);
      const switchBegun = Date.now();
      // The new slot comes out of maintenance with weight 0: checked UP but given no traffic yet. Then one runtime
      // API line gives it the traffic and puts the old slot in drain (no new requests, in-flight ones finish).
      await haproxy.command(`set weight be/${to} 0; set server be/${to} state ready`);
      await waitFor(async () => (await haproxy.server(to)).status === "UP", 15_000, `${to} UP in haproxy`);
      await haproxy.command(`set weight be/${to} 100; set server be/${from} state drain`);
      await waitFor(async () => (await haproxy.server(from)).sessions === 0, 30_000, `${from} drained`);
      await haproxy.command(`set server be/${from} state maint`);
      const switchMs = Date.now() - switchBegun;
      step(`${name}: traffic on ${to} (${version}), ${from} drained and in maintenance after ${switchMs} ms; SIGTERM to ${from}`);
      const stopBegun = Date.now();
      const old = live;
      old.kill("SIGTERM");
      const oldExitCode = await old.exited;
      const stopMs = Date.now() - stopBegun;
      step(`${name}: ${old.version} exited ${oldExitCode} after ${stopMs} ms`);
      cutovers.push({ name, from: old.version, to: version, startMs, switchMs, stopMs, oldExitCode, windowStartMs, windowEndMs: Date.now() - loadStartedAt });
      live = api;
    };

    await cutover("switch blue → green", "blue", "green", "v2-green", greenEarly);
    await cutover("rollback green → blue", "green", "blue", "v1-blue");
    const cutoversEndMs = Date.now() - loadStartedAt;
    await sleep(settle * 1000, options.signal);
    const shopper = await probe.stop();
    step("waiting for the load to end (the load tester then checks the invariants)");
    const loadExitCode = await Promise.race([loadExited, sleep(loadSeconds * 1000 + 60_000, options.signal).then(() => null)]);
    isProbing = false;
    await probing;
    const result = JSON.parse(readFileSync(resultFile, "utf8")) as SavedRun & { verdicts: { passed: boolean; message: string }[] };
    // Every order the probe shopper saw acknowledged must exist exactly once (the load tester checked its own).
    const adminReports: { passed?: boolean }[] = [];
    for (let i = 0; i === 0 || i < shopper.acknowledged.length; i += 4000) {
      const answer = (await fetch(`${haproxy.url}/trpc/admin.invariants`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ orderNumbers: shopper.acknowledged.slice(i, i + 4000) }),
      }).then((r) => r.json())) as { result?: { data?: { passed?: boolean } } };
      adminReports.push(answer.result?.data ?? { passed: false, ...answer });
    }

    step(`stopping ${live.version}`);
    live.kill("SIGTERM");
    const finalExitCode = await live.exited;

    const summary = summarize(result);
    const c = summary.counters;
    // Failed: no answer, or a 5xx (from HAProxy or the service), or an answer a step's `expect` refused, or a probe checkout.
    const serverErrors = Object.entries(c.statusCodes)
      .filter(([code]) => Number(code) >= 500)
      .reduce((n, [, count]) => n + count, 0);
    const failed = Object.values(c.errors).reduce((a, b) => a + b, 0) + serverErrors + c.unexpectedStatus + shopper.failures.length;
    const report: RehearsalReport = {
      load: {
        arrivalRate: options.arrivalRate,
        durationSeconds: Math.round(summary.durationMs / 100) / 10,
        vusersCreated: c.vusersCreated,
        vusersFailed: c.vusersFailed,
        requests: c.requests,
        responses: c.responses,
        failed,
        errors: c.errors,
        statusCodes: c.statusCodes,
        ...pick(summary.latency),
      },
      cutovers: cutovers.map((cut) => {
        // Every saved interval that overlaps the window, merged: no answer, refused by expect, or a 5xx is failed.
        const window = summarizeWindow(result, cut.windowStartMs, cut.windowEndMs);
        return { ...cut, window: { requests: window.requests, failed: window.failed, ...pick(window.latency) } };
      }),
      versionsServed,
      healthProbeFailures,
      invariants: {
        passed: result.verdicts.filter((v) => /invariant/i.test(v.message)).every((v) => v.passed) && adminReports.every((r) => r.passed === true),
        verdicts: result.verdicts,
        acknowledgedOrders: { load: result.acknowledgedOrders?.length ?? 0, probeShopper: shopper.acknowledged.length },
        adminReport: adminReports.at(-1),
      },
      probeShopper: { checkouts: shopper.acknowledged.length, failures: shopper.failures },
      loadCoveredCutovers: summary.durationMs >= cutoversEndMs,
      loadExitCode,
      finalExitCode,
    };
    if (loadExitCode !== 0) log(loadOutput);
    // The load tester's own saved run and report, with the rehearsal written into them.
    const annotated: SavedRun = { ...result, annotations: annotationsOf(report) };
    if (options.loadResultFile) writeFileSync(options.loadResultFile, JSON.stringify(annotated));
    if (options.htmlReportFile) writeFileSync(options.htmlReportFile, renderReport(annotated));
    return report;
  } finally {
    for (const api of processes) api.kill("SIGKILL");
    for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether the rehearsal met its target: no request failed across both switches, every process exited 0, invariants hold. */
export function isRehearsalPassed(report: RehearsalReport): boolean {
  return (
    report.load.failed === 0 &&
    report.load.vusersFailed === 0 &&
    report.probeShopper.failures.length === 0 &&
    report.loadCoveredCutovers &&
    report.healthProbeFailures === 0 &&
    report.cutovers.length === 2 &&
    report.cutovers.every((c) => c.oldExitCode === 0) &&
    report.finalExitCode === 0 &&
    report.versionsServed.join(" → ") === "v1-blue → v2-green → v1-blue" &&
    report.invariants.passed
  );
}

/** The rehearsal as the load tester's report shows it: its facts, and each cutover as a marked window. */
export function annotationsOf(report: RehearsalReport): RunAnnotations {
  const l = report.load;
  const rollback = report.cutovers[1];
  return {
    title: "Blue/green rehearsal",
    passed: isRehearsalPassed(report),
    facts: [
      { label: "requests through HAProxy", value: `${l.requests} (${l.arrivalRate} shopper arrivals/s for ${l.durationSeconds} s)` },
      { label: "failed requests (no answer, refused by expect, or 5xx)", value: String(l.failed), passed: l.failed === 0 },
      {
        label: "probe shopper checkouts during the cutovers",
        value: `${report.probeShopper.checkouts} placed, ${report.probeShopper.failures.length} failed`,
        passed: report.probeShopper.failures.length === 0,
      },
      {
        label: "versions that answered /health",
        value: `${report.versionsServed.join(" → ")} (${report.healthProbeFailures} failed probes)`,
        passed: report.healthProbeFailures === 0,
      },
      ...(rollback
        ? [
            {
              label: "rollback, from starting the old version to its previous one drained and stopped",
              value: `${((rollback.startMs + rollback.switchMs + rollback.stopMs) / 1000).toFixed(1)} s`,
            },
          ]
        : []),
      {
        label: "acknowledged orders checked to exist exactly once",
        value: `${report.invariants.acknowledgedOrders.load} from the load, ${report.invariants.acknowledgedOrders.probeShopper} from the probe shopper`,
        passed: report.invariants.passed,
      },
      ...report.invariants.verdicts
        .filter((v) => /^invariant/.test(v.message))
        .map((v) => ({ label: v.message.split(":")[0]!, value: v.message.slice(v.message.indexOf(":") + 1).trim(), passed: v.passed })),
      { label: "load tester exit code", value: String(report.loadExitCode), passed: report.loadExitCode === 0 },
    ],
    windows: report.cutovers.map((c) => ({
      label: c.name,
      startMs: c.windowStartMs,
      endMs: c.windowEndMs,
      facts: [
        { label: "new version ready (ms)", value: String(c.startMs) },
        { label: "switch (ms)", value: String(c.switchMs) },
        { label: "old stopped (ms)", value: String(c.stopMs) },
        { label: "old exit code", value: String(c.oldExitCode), passed: c.oldExitCode === 0 },
      ],
    })),
  };
}

function pick(latency: { p50: number; p95: number; p99: number; max: number }) {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return { p50: round(latency.p50), p95: round(latency.p95), p99: round(latency.p99), max: round(latency.max) };
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
