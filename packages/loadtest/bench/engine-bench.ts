// `pnpm --filter @checkout/loadtest bench`: the engine's highest sustained open-model rate, autocannon's throughput and
// Artillery's highest sustained rate against one raw node:http target, and a run over two local generator processes
// against the same run in one process, in one run; the section in docs/BENCHMARKS.md.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { gitCommit, isSmokeRun, percentile, processCpuSeconds, smokeReportPath, spliceSection } from "@checkout/bench-support";
import { DEFAULT_START_DELAY_MS } from "../src/distributed/coordinator.ts";
import { LATE_ARRIVAL_TOLERANCE } from "../src/engine/ensure.ts";
import { summarize, type RunResult } from "../src/engine/run-result.ts";
import { defaultWorkerCount, runScriptParallel } from "../src/engine/run-parallel.ts";
import { quickScript } from "../src/script/quick-script.ts";
import { startCpuWindow } from "./cpu.ts";
import { GENERATOR_COUNT, measureDistributed, type DistributedComparison } from "./distributed-bench.ts";
import { existingDistributedNotes } from "./distributed-report.ts";
import {
  highestSustained,
  renderConsole,
  renderSection,
  SECTION,
  type Agreement,
  type ArtilleryStep,
  type AutocannonRun,
  type EngineBenchReport,
  type EngineStep,
  type SustainRule,
} from "./engine-report.ts";

// The command line before anything runs: --help (-h) prints the help; --smoke is the one option, and anything else is
// one line on stderr and exit 2 (pnpm's bare `--` is passed over).
const commandLine = process.argv.slice(2).filter((arg) => arg !== "--");
if (commandLine.includes("--help") || commandLine.includes("-h")) {
  console.log(`pnpm --filter @checkout/loadtest bench [--smoke] — the load tester's highest sustained open-model rate,
autocannon's throughput and Artillery's highest sustained rate against one raw node:http target, and the same run
spread over ${GENERATOR_COUNT} local generator processes (run --on local --count ${GENERATOR_COUNT}) against it in one process, in one run;
the section in docs/BENCHMARKS.md ("Load tester engine against autocannon and Artillery").

  --smoke   (or BENCH_SMOKE=1) each measurement once at a low rate or a fixed small count, no warm-ups and no retries;
            the report goes to BENCH_SMOKE_REPORT_DIR (default $TMPDIR/checkout-bench-smoke), never docs/BENCHMARKS.md;
            fails if a tool got no answers or errors. Checks the benchmark still runs, not its numbers.`);
  process.exit(0);
}
const refused = commandLine.find((arg) => arg !== "--smoke");
if (refused !== undefined) {
  console.error(`engine-bench: ${refused.startsWith("-") ? "unknown option" : "unexpected argument"} ${refused} (see --help)`);
  process.exit(2);
}

const loadtestDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(loadtestDir, "../..");
const docPath = path.join(repoRoot, "docs", "BENCHMARKS.md");
const require = createRequire(import.meta.url);

const LATE_THRESHOLD_MS = 10;
const RULE: SustainRule = { maxLateShare: LATE_ARRIVAL_TOLERANCE, lateThresholdMs: LATE_THRESHOLD_MS, maxP99Ms: 50, minAchievedShare: 0.95 };
/** Engine rates tried in order until one fails twice; then the gap to the last sustained rate is halved twice. */
const ENGINE_LADDER = [5000, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000, 45_000, 50_000, 60_000, 70_000, 80_000, 100_000, 120_000];
const ARTILLERY_LADDER = [500, 750, 1000, 1500, 2000, 3000, 4000, 6000, 8000];
/** An Artillery step that has not finished this long after its phase should have ended has fallen behind. */
const ARTILLERY_GRACE_SECONDS = 40;

function log(message: string): void {
  console.log(`[engine-bench] ${message}`);
}

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

const isSmoke = isSmokeRun();
/**
 * A smoke run: one low step per tool, 1 s windows at a low rate, a fixed small count for autocannon's closed loop, no
 * warm-ups and no retries, so every measurement and the report run once in a few seconds.
 */
const SMOKE = {
  engineLadder: [100],
  artilleryLadder: [10],
  autocannonConnections: [2],
  autocannonAmount: 200,
  agreementRate: 100,
  windowSeconds: 1,
  distributed: { rate: 100, seconds: 1, rounds: 1, startDelayMs: 2000 },
};

const settings = isSmoke
  ? {
      engineSeconds: 1,
      workers: 1,
      artillerySeconds: 1,
      agreementRate: SMOKE.agreementRate,
      skipArtillery: false,
      windowSeconds: SMOKE.windowSeconds,
      distributed: { ...SMOKE.distributed, skip: false },
    }
  : {
      engineSeconds: positiveNumber("BENCH_ENGINE_SECONDS", 4),
      workers: Math.round(positiveNumber("BENCH_ENGINE_WORKERS", os.availableParallelism() >= 4 ? 2 : 1)),
      artillerySeconds: positiveNumber("BENCH_ARTILLERY_SECONDS", 5),
      agreementRate: positiveNumber("BENCH_AGREEMENT_RATE", 2000),
      skipArtillery: process.env.BENCH_SKIP_ARTILLERY === "1" || process.env.BENCH_SKIP_ARTILLERY === "true",
      /** autocannon's measured windows and the latency-agreement windows. */
      windowSeconds: 5,
      distributed: {
        /** Without it, a quarter of the engine's highest sustained rate. */
        rate: process.env.BENCH_DISTRIBUTED_RATE ? Math.round(positiveNumber("BENCH_DISTRIBUTED_RATE", 1)) : null,
        seconds: positiveNumber("BENCH_DISTRIBUTED_SECONDS", 10),
        rounds: Math.round(positiveNumber("BENCH_DISTRIBUTED_ROUNDS", 2)),
        startDelayMs: positiveNumber("BENCH_DISTRIBUTED_START_DELAY_MS", DEFAULT_START_DELAY_MS.local),
        skip: process.env.BENCH_SKIP_DISTRIBUTED === "1" || process.env.BENCH_SKIP_DISTRIBUTED === "true",
      },
    };

/** The distributed part's rate when not given: this share of the engine's highest sustained rate, in steps of 500. */
const DISTRIBUTED_SHARE_OF_SUSTAINED = 0.25;

/** Ctrl-C: the distributed part's coordinator stops its generators. */
const interrupted = new AbortController();

/** Children to stop whatever happens, by their own pid. */
const children = new Set<ChildProcess>();

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

async function startHelloServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/hello-server.ts"], {
    cwd: loadtestDir,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the hello-world server did not start within 30 s")), 30_000);
    child.once("exit", (code) => reject(new Error(`the hello-world server exited (code ${code}) before listening`)));
    child.stdout?.once("data", (data: Buffer) => {
      clearTimeout(timer);
      resolve(data.toString().trim());
    });
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

function runEngine(url: string, rate: number, seconds: number): Promise<RunResult> {
  return runScriptParallel(quickScript({ url: `${url}/`, rate, duration: seconds }), { workers: settings.workers, lateThresholdMs: LATE_THRESHOLD_MS });
}

async function engineStep(url: string, serverPid: number, rate: number, isRetry: boolean): Promise<EngineStep> {
  if (!isSmoke) await runEngine(url, rate, 1); // warm-up at the same rate: sockets, JIT, the server's own warm-up
  const cpuWindow = startCpuWindow(serverPid);
  const result = await runEngine(url, rate, settings.engineSeconds);
  const cpu = cpuWindow();
  const { counters, latency, serviceTime, durationMs } = summarize(result);
  const errors = Object.values(counters.errors).reduce((sum, n) => sum + n, 0) + counters.unexpectedStatus;
  const failures: string[] = [];
  if (counters.vusersDropped > 0) failures.push(`${counters.vusersDropped} dropped`);
  if (errors > 0) failures.push(`${errors} errors`);
  if (counters.responses < counters.arrivalsPlanned) failures.push(`${counters.arrivalsPlanned - counters.responses} unanswered`);
  if (counters.arrivalsLate > counters.arrivalsPlanned * RULE.maxLateShare) {
    failures.push(`${((100 * counters.arrivalsLate) / counters.arrivalsPlanned).toFixed(1)} % late`);
  }
  if (latency.p99 > RULE.maxP99Ms) failures.push(`p99 ${latency.p99.toFixed(0)} ms`);
  return {
    offered: rate,
    achieved: counters.responses / (durationMs / 1000),
    planned: counters.arrivalsPlanned,
    responses: counters.responses,
    errors,
    dropped: counters.vusersDropped,
    late: counters.arrivalsLate,
    maxLatenessMs: result.maxLatenessMs,
    p50: latency.p50,
    p99: latency.p99,
    serviceP99: serviceTime.p99,
    cpu,
    failures,
    isRetry,
  };
}

function describeStep(step: { offered: number; achieved: number; p50: number; p99: number; failures: string[]; isRetry: boolean }): string {
  return (
    `${step.offered}/s${step.isRetry ? " (retry)" : ""}: achieved ${Math.round(step.achieved)}/s, p50 ${step.p50.toFixed(2)} ms, p99 ${step.p99.toFixed(2)} ms — ` +
    (step.failures.length ? `not sustained (${step.failures.join("; ")})` : "sustained")
  );
}

/**
 * Steps up the ladder until a rate fails twice, then halves the gap to the last sustained rate twice. A smoke run
 * measures each rate once: no retry, no bisection (its numbers are never judged).
 */
async function climb<T extends { offered: number; failures: string[] }>(
  ladder: readonly number[],
  measure: (rate: number, isRetry: boolean) => Promise<T>,
  bisections: number,
  granularity: number,
): Promise<T[]> {
  const steps: T[] = [];
  const attempt = async (rate: number): Promise<boolean> => {
    let step = await measure(rate, false);
    steps.push(step);
    if (isSmoke) return step.failures.length === 0;
    if (step.failures.length > 0) {
      step = await measure(rate, true);
      steps.push(step);
    }
    return step.failures.length === 0;
  };
  let sustained = 0;
  let failed: number | null = null;
  for (const rate of ladder) {
    if (await attempt(rate)) sustained = rate;
    else {
      failed = rate;
      break;
    }
  }
  for (let i = 0; i < (isSmoke ? 0 : bisections) && failed !== null; i++) {
    const middle = Math.round((sustained + failed) / 2 / granularity) * granularity;
    if (middle <= sustained || middle >= failed) break;
    if (await attempt(middle)) sustained = middle;
    else failed = middle;
  }
  return steps;
}

async function measureAutocannon(url: string, serverPid: number, connections: number, label: string): Promise<AutocannonRun> {
  if (!isSmoke) await autocannon({ url: `${url}/`, connections, duration: 1 });
  const cpuWindow = startCpuWindow(serverPid);
  // A fixed count ends at autocannon's next sample tick (1 s by default): short ticks end it with its last answer.
  const result = await autocannon({ url: `${url}/`, connections, ...(isSmoke ? { amount: SMOKE.autocannonAmount, sampleInt: 50 } : { duration: settings.windowSeconds }) });
  const cpu = cpuWindow();
  // autocannon averages whole one-second samples, which a smoke run's fixed count may finish before the first of.
  const requestsPerSecond = isSmoke ? result.requests.total / Math.max(result.duration, 0.001) : result.requests.average;
  return { label, connections, requestsPerSecond, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, cpu };
}

async function measureAgreement(url: string): Promise<Agreement> {
  const rate = settings.agreementRate;
  const connections = 10;
  if (!isSmoke) await runEngine(url, rate, 1);
  const engine = summarize(await runEngine(url, rate, settings.windowSeconds));
  if (!isSmoke) await autocannon({ url: `${url}/`, connections, overallRate: rate, duration: 1 });
  const times: number[] = [];
  const run = autocannon({ url: `${url}/`, connections, overallRate: rate, duration: settings.windowSeconds });
  run.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode >= 200 && statusCode < 300) times.push(responseTimeMs);
  });
  const result = await run;
  const sorted = Float64Array.from(times).sort();
  return {
    rate,
    engine: {
      p50: engine.latency.p50,
      p99: engine.latency.p99,
      serviceP50: engine.serviceTime.p50,
      serviceP99: engine.serviceTime.p99,
      responses: engine.counters.responses,
    },
    autocannon: {
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      ownP50: result.latency.p50,
      ownP99: result.latency.p99,
      responses: sorted.length,
      connections,
    },
  };
}

interface ArtilleryJson {
  aggregate: {
    counters: Record<string, number>;
    firstCounterAt?: number;
    lastCounterAt?: number;
    summaries: Record<string, { p50?: number; median?: number; p99?: number } | undefined>;
  };
}

async function artilleryStep(url: string, workDir: string, rate: number, isRetry: boolean): Promise<ArtilleryStep> {
  const seconds = settings.artillerySeconds;
  const scriptPath = path.join(workDir, `artillery-${rate}.yml`);
  const outputPath = path.join(workDir, `artillery-${rate}${isRetry ? "-retry" : ""}.json`);
  await writeFile(
    scriptPath,
    `config:\n  target: "${url}"\n  phases:\n    - duration: ${seconds}\n      arrivalRate: ${rate}\nscenarios:\n  - flow:\n      - get:\n          url: "/"\n`,
  );
  const started = performance.now();
  const child = spawn(path.join(loadtestDir, "node_modules", ".bin", "artillery"), ["run", "--output", outputPath, scriptPath], {
    cwd: workDir,
    // The parity test's preload stubs only Artillery's telemetry client, which otherwise retries for 10 s or more offline.
    env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: "true", NODE_OPTIONS: `--require ${path.join(loadtestDir, "test", "artillery-offline.cjs")}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  child.stdout?.on("data", (data: Buffer) => (output += data.toString()));
  child.stderr?.on("data", (data: Buffer) => (output += data.toString()));
  // Its CPU is sampled while it runs: /proc forgets a process once it has exited.
  let cpuStart: number | null = null;
  let cpuLast: number | null = null;
  let phaseStartedAt: number | null = null;
  const sampler = setInterval(() => {
    const seconds = child.pid === undefined ? null : processCpuSeconds(child.pid);
    if (seconds !== null) cpuLast = seconds;
    if (phaseStartedAt === null && output.includes("Phase started")) {
      phaseStartedAt = performance.now();
      cpuStart = cpuLast;
    }
  }, 200);
  let isTimedOut = false;
  const limit = setInterval(() => {
    const since = phaseStartedAt ?? started;
    const allowanceSeconds = phaseStartedAt === null ? 60 : seconds + ARTILLERY_GRACE_SECONDS;
    if ((performance.now() - since) / 1000 > allowanceSeconds) {
      isTimedOut = true;
      child.kill("SIGKILL");
    }
  }, 500);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
  clearInterval(sampler);
  clearInterval(limit);
  children.delete(child);
  const wallSeconds = (performance.now() - started) / 1000;
  const phaseSeconds = phaseStartedAt === null ? null : (performance.now() - phaseStartedAt) / 1000;
  const cpuPercent = cpuStart !== null && cpuLast !== null && phaseSeconds ? (100 * (cpuLast - cpuStart)) / phaseSeconds : null;
  const expected = Math.round(rate * seconds);
  const failed = (why: string): ArtilleryStep => ({
    offered: rate,
    achieved: 0,
    created: 0,
    expected,
    responses: 0,
    errors: 0,
    p50: Number.NaN,
    p99: Number.NaN,
    wallSeconds,
    cpuPercent,
    failures: [why],
    isRetry,
  });
  if (isTimedOut) return failed(`still running ${ARTILLERY_GRACE_SECONDS} s after its phase should have ended (stopped)`);
  if (code !== 0 || !existsSync(outputPath)) {
    return failed(`exited with code ${code}: ${output.trim().split("\n").slice(-3).join(" / ")}`);
  }
  const { aggregate } = JSON.parse(await readFile(outputPath, "utf8")) as ArtilleryJson;
  const counter = (name: string) => aggregate.counters[name] ?? 0;
  const created = counter("vusers.created");
  const responses = counter("http.responses");
  const errors =
    Object.entries(aggregate.counters)
      .filter(([name]) => name.startsWith("errors."))
      .reduce((sum, [, n]) => sum + n, 0) + counter("vusers.failed");
  const spanSeconds = Math.max(seconds, ((aggregate.lastCounterAt ?? 0) - (aggregate.firstCounterAt ?? 0)) / 1000);
  const achieved = created / spanSeconds;
  const latency = aggregate.summaries["http.response_time"] ?? {};
  const p50 = latency.p50 ?? latency.median ?? Number.NaN;
  const p99 = latency.p99 ?? Number.NaN;
  const failures: string[] = [];
  if (created < expected) failures.push(`${expected - created} users not created`);
  if (responses < created) failures.push(`${created - responses} unanswered`);
  if (errors > 0) failures.push(`${errors} errors`);
  if (achieved < rate * RULE.minAchievedShare) failures.push(`achieved ${Math.round((100 * achieved) / rate)} % of the offered rate`);
  if (!(p99 <= RULE.maxP99Ms)) failures.push(`p99 ${Number.isFinite(p99) ? p99.toFixed(0) : "?"} ms`);
  return { offered: rate, achieved, created, expected, responses, errors, p50, p99, wallSeconds, cpuPercent, failures, isRetry };
}

/** The run over local generators against the same run in one process, at a rate one process sustains. */
async function compareDistributed(url: string, serverPid: number, workDir: string, sustainedRate: number | null): Promise<DistributedComparison> {
  const chosen = isSmoke ? null : settings.distributed.rate;
  const fromSustained = sustainedRate === null ? null : Math.max(1000, Math.floor((sustainedRate * DISTRIBUTED_SHARE_OF_SUSTAINED) / 500) * 500);
  const rate = isSmoke ? SMOKE.distributed.rate : (chosen ?? fromSustained ?? 1000);
  const rateSource = isSmoke
    ? "the smoke run's fixed low rate"
    : chosen !== null
      ? "BENCH_DISTRIBUTED_RATE"
      : fromSustained !== null
        ? `a quarter of the engine's highest sustained rate above (${Math.round(sustainedRate ?? 0).toLocaleString("en-US")} req/s), rounded down to 500`
        : "1,000 req/s (no engine step was sustained)";
  const { seconds, rounds, startDelayMs } = settings.distributed;
  log(`distributed: ${rate} req/s for ${seconds} s, one process then ${GENERATOR_COUNT} local generators, ${rounds} round${rounds === 1 ? "" : "s"}`);
  const measured = await measureDistributed({
    url,
    serverPid,
    rate,
    seconds,
    startDelayMs,
    rounds,
    storeFolder: path.join(workDir, "runs"),
    rule: RULE,
    signal: interrupted.signal,
    log,
  });
  const oneProcessThreads = defaultWorkerCount(quickScript({ url: `${url}/`, rate, duration: seconds }));
  return { rate, rateSource, seconds, startDelayMs, count: GENERATOR_COUNT, oneProcessThreads, rounds: measured };
}

/** What a smoke run holds against each tool: it ran and got answers without errors (speed is never judged). */
function smokeProblems(report: EngineBenchReport): string[] {
  const problems: string[] = [];
  for (const step of report.engineSteps) {
    if (step.responses === 0 || step.errors > 0 || step.dropped > 0)
      problems.push(`engine at ${step.offered}/s: ${step.responses} answers, ${step.errors} errors, ${step.dropped} dropped`);
  }
  for (const run of report.autocannonRuns) if (run.errors > 0) problems.push(`autocannon (${run.connections} connections): ${run.errors} errors`);
  if (report.agreement.engine.responses === 0 || report.agreement.autocannon.responses === 0) problems.push("the latency agreement got no answers");
  for (const round of report.distributed?.rounds ?? []) {
    for (const side of [round.oneProcess, round.distributed]) {
      const failed = side.generators.filter((g) => g.failure).map((g) => `generator ${g.index}: ${g.failure}`);
      if (side.responses === 0 || side.errors > 0 || side.dropped > 0 || !side.isExact || failed.length > 0) {
        problems.push(
          `${side.kind} run: ${side.responses} answers, ${side.errors} errors, ${side.dropped} dropped, counts ${side.isExact ? "exact" : "disagree"}` +
            (failed.length ? `; ${failed.join("; ")}` : ""),
        );
      }
    }
  }
  if (report.artillerySteps.length === 0) problems.push("Artillery did not run");
  for (const step of report.artillerySteps) {
    if (step.responses === 0 || step.errors > 0) problems.push(`Artillery at ${step.offered}/s: ${step.responses} answers, ${step.errors} errors (${step.failures.join("; ")})`);
  }
  return problems;
}

async function main(): Promise<number> {
  const startedAt = performance.now();
  const loadAverage = os.loadavg();
  log(`load average ${loadAverage.map((v) => v.toFixed(2)).join(", ")}; ${os.availableParallelism()} CPUs; engine threads: ${settings.workers}`);
  const workDir = await mkdtemp(path.join(os.tmpdir(), "checkout-engine-bench-"));
  try {
    const { child: server, url } = await startHelloServer();
    const serverPid = server.pid ?? 0;
    const helloBytes = Buffer.byteLength(await (await fetch(`${url}/`)).text());
    log(`hello-world server at ${url}${isSmoke ? "" : "; warming up"}`);
    if (!isSmoke) await runEngine(url, 2000, 2);

    const autocannonRuns: AutocannonRun[] = [];
    for (const connections of isSmoke ? SMOKE.autocannonConnections : [10, 50]) {
      const run = await measureAutocannon(url, serverPid, connections, "before");
      autocannonRuns.push(run);
      log(`autocannon ${connections} connections: ${Math.round(run.requestsPerSecond)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms`);
    }

    const engineSteps = await climb(
      isSmoke ? SMOKE.engineLadder : ENGINE_LADDER,
      async (rate, isRetry) => {
        const step = await engineStep(url, serverPid, rate, isRetry);
        log(`engine ${describeStep(step)}`);
        return step;
      },
      2,
      500,
    );

    const best = autocannonRuns.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
    const after = await measureAutocannon(url, serverPid, best.connections, "after");
    autocannonRuns.push(after);
    log(`autocannon ${best.connections} connections again: ${Math.round(after.requestsPerSecond)} req/s`);

    const agreement = await measureAgreement(url);
    log(
      `latency at ${agreement.rate}/s: engine p50 ${agreement.engine.serviceP50} p99 ${agreement.engine.serviceP99} ms (from send), ` +
        `autocannon p50 ${agreement.autocannon.p50} p99 ${agreement.autocannon.p99} ms`,
    );

    const distributed = settings.distributed.skip ? null : await compareDistributed(url, serverPid, workDir, highestSustained(engineSteps)?.offered ?? null);

    const artillerySteps = settings.skipArtillery
      ? []
      : await climb(
          isSmoke ? SMOKE.artilleryLadder : ARTILLERY_LADDER,
          async (rate, isRetry) => {
            const step = await artilleryStep(url, workDir, rate, isRetry);
            log(`Artillery ${describeStep(step)}; ${step.wallSeconds.toFixed(0)} s wall`);
            return step;
          },
          1,
          50,
        );

    await stopChild(server, 5000);
    const report: EngineBenchReport = {
      date: new Date(),
      machine: `${os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ${os.availableParallelism()} logical CPUs; ${os.type()} ${os.release()} ${os.arch()}`,
      nodeVersion: process.version,
      commit: gitCommit(repoRoot),
      loadAverage,
      versions: {
        autocannon: (require("autocannon/package.json") as { version: string }).version,
        artillery: (require("artillery/package.json") as { version: string }).version,
      },
      helloBytes,
      workers: settings.workers,
      engineSeconds: settings.engineSeconds,
      artillerySeconds: settings.artillerySeconds,
      rule: RULE,
      engineSteps,
      autocannonRuns,
      artillerySteps,
      agreement,
      distributed,
      cores: os.availableParallelism(),
      totalSeconds: (performance.now() - startedAt) / 1000,
    };
    console.log(`\n${renderConsole(report)}\n`);
    if (isSmoke) {
      const reportPath = smokeReportPath({ name: "engine-bench", docPath });
      await writeFile(reportPath, spliceSection(null, renderSection(report), SECTION, "before-notes"));
      const broken = smokeProblems(report);
      if (broken.length) {
        console.error(`[engine-bench] smoke run FAILED: ${broken.join("; ")}`);
        return 1;
      }
      log(`smoke run: wrote ${reportPath}; ${path.relative(repoRoot, docPath)} left unchanged`);
      return 0;
    }
    const existing = existsSync(docPath) ? await readFile(docPath, "utf8") : null;
    await writeFile(docPath, spliceSection(existing, renderSection(report, existingDistributedNotes(existing)), SECTION, "before-notes"));
    log(`wrote the engine section of ${path.relative(repoRoot, docPath)} (${report.totalSeconds.toFixed(0)} s)`);
    return 0;
  } finally {
    await Promise.all([...children].map((child) => stopChild(child, 5000)));
    await rm(workDir, { recursive: true, force: true });
  }
}

let isInterrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (isInterrupted) return;
    isInterrupted = true;
    interrupted.abort();
    console.error(`[engine-bench] ${signal}: stopping the children`);
    void Promise.all([...children].map((child) => stopChild(child, 2000))).finally(() => process.exit(130));
  });
}

const code = await main().catch((error: unknown) => {
  console.error(`[engine-bench] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return 1;
});
process.exit(code);
