// `pnpm bench`: raw node:http vs the real API (production mode, its own PostgreSQL) in one run, same load tool, ratios to docs/BENCHMARKS.md.
// The body of the command: run.ts reads the command line and refuses a bad smoke report directory before it loads this.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { z } from "zod";
import { gitCommit, isSmokeRun, processCpuSeconds, processTreeCpuSeconds, smokeReportPath } from "@checkout/bench-support";
import { prepareBenchData, queryUrl } from "./bench-data.ts";
import { failureRate, measure, type LoadSettings, type Measurement, type Target } from "./load.ts";
import { benchDatabase, Cleanup, findFreePorts, logTail, makeWorkDir, postmasterPid, readSettings, spawnApi, spawnServer, waitForOk, type StopOutcome } from "./processes.ts";
import { cartReadScript, findPgbench, runPgbench } from "./pgbench.ts";
import { runJourneyBench } from "./journey-run.ts";
import { measureTracingOverhead } from "./tracing-overhead.ts";
import { disturbanceWarning, renderConsoleTable, renderMarkdown, withPreservedNotes, type DatabaseCeiling, type RunInfo } from "./report.ts";

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(apiDir, "../..");
const docPath = path.join(repoRoot, "docs", "BENCHMARKS.md");

/** Above this share of non-2xx answers and errors, a target's numbers are not worth reporting. */
const MAX_FAILURE_RATE = 0.001;
const API_STOP_GRACE_MS = 40_000;
const API_LOG_LEVEL = "info";

const BenchEnv = z.object({
  BENCH_DURATION: z.coerce.number().positive().default(10),
  BENCH_WARMUP: z.coerce.number().positive().default(3),
  BENCH_CONNECTIONS: z.coerce.number().int().min(1).max(1000).default(50),
  BENCH_DATABASE_URL: z.url({ message: "must be a postgres:// URL" }).optional(),
  BENCH_CPU_PROF: z
    .enum(["1", "0", "true", "false"])
    .optional()
    .transform((value) => value === "1" || value === "true"),
});

/** A smoke run's windows: no warm-up, a few requests from two connections, each target once (the report renders from them). */
const SMOKE_SETTINGS: LoadSettings = { connections: 2, warmupSeconds: 0, durationSeconds: 0, amount: 100 };

const cleanup = new Cleanup();

function log(message: string): void {
  console.log(`[bench] ${message}`);
}

async function describeExternalDatabase(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>("show server_version");
    const { hostname, port } = new URL(url);
    return `external PostgreSQL ${result.rows[0]?.server_version ?? "?"} at ${hostname}:${port || 5432} (\`BENCH_DATABASE_URL\`)`;
  } finally {
    await client.end();
  }
}

function describeShutdown(outcome: StopOutcome | null): string {
  if (!outcome) return "not stopped (the run failed earlier)";
  const how = outcome.isGraceful
    ? `graceful: SIGTERM → exit code ${outcome.code} after ${(outcome.ms / 1000).toFixed(1)} s`
    : `NOT graceful: no exit ${API_STOP_GRACE_MS / 1000} s after SIGTERM, killed`;
  const strays = outcome.strays.length ? `; still running 3 s after it and killed by the bench: ${outcome.strays.join(", ")}` : "";
  return how + strays;
}

async function main(): Promise<number> {
  const startedAt = performance.now();
  const loadAverage = os.loadavg();
  const config = readSettings(BenchEnv);
  if (!config) return 78;
  const isSmoke = isSmokeRun();
  const settings: LoadSettings = isSmoke ? SMOKE_SETTINGS : { connections: config.BENCH_CONNECTIONS, warmupSeconds: config.BENCH_WARMUP, durationSeconds: config.BENCH_DURATION };
  const reportPath = isSmoke ? smokeReportPath({ name: "api-bench", docPath }) : docPath;

  const workDir = await makeWorkDir("checkout-bench-", cleanup);
  const pgDataDir = path.join(workDir, "data", "postgres");
  const apiLogPath = path.join(workDir, "api.log");
  const profileDir = config.BENCH_CPU_PROF ? await mkdtemp(path.join(os.tmpdir(), "checkout-bench-profile-")) : null;

  try {
    const [helloPort, apiPort, sandboxPort, pgPort] = await findFreePorts(4);
    if (!helloPort || !apiPort || !sandboxPort || !pgPort) throw new Error("Could not find free ports");
    const isEmbedded = config.BENCH_DATABASE_URL === undefined;
    // The bench starts the database, as a deployed API finds its database already there: production mode refuses to
    // start one of its own, and the API's work is then measured apart from starting and stopping PostgreSQL.
    const db = await benchDatabase({ externalUrl: config.BENCH_DATABASE_URL, dataDir: pgDataDir, port: pgPort, cleanup, log, note: "started by the bench before the API" });

    // The children get this environment, minus anything that would point them elsewhere.
    const inherited: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ["DATABASE_URL", "DATABASE_READ_URL", "PORT", "HOST", "PAYMENT_PROVIDER_URL", "PAYMENT_PROVIDER_PUBLIC_URL"]) {
      delete inherited[name];
    }

    const hello = spawnServer({
      name: "hello-world server",
      script: "bench/hello-server.ts",
      cwd: apiDir,
      env: { ...inherited, HOST: "127.0.0.1", PORT: String(helloPort) },
      output: "inherit",
    });
    cleanup.add(() => hello.stop(5000));

    const api = spawnApi({
      name: "checkout API",
      port: apiPort,
      sandboxPort,
      workDir,
      logPath: apiLogPath,
      inherited,
      nodeArgs: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
      env: {
        // The load generator is one address doing the work of many shoppers.
        CLIENT_LIMITS_EXEMPT: "127.0.0.1",
        LOG_LEVEL: API_LOG_LEVEL,
        DATABASE_URL: db.url,
      },
    });
    let apiStopped: Promise<StopOutcome> | null = null;
    const stopApi = () => (apiStopped ??= api.stop(API_STOP_GRACE_MS));
    cleanup.add(stopApi);

    const helloUrl = `http://127.0.0.1:${helloPort}`;
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    log(`starting the hello-world server (${helloUrl}) and the API (${apiUrl}, ${isEmbedded ? "the bench's embedded PostgreSQL" : "BENCH_DATABASE_URL"}, log in ${apiLogPath})`);
    await Promise.all([waitForOk(`${helloUrl}/`, hello, 30_000), waitForOk(`${apiUrl}/ready`, api, 180_000)]);
    const database = isEmbedded ? db.description : await describeExternalDatabase(config.BENCH_DATABASE_URL ?? "");
    const data = await prepareBenchData(apiUrl);
    const helloBytes = Buffer.byteLength(await (await fetch(`${helloUrl}/`)).text());
    log(`ready: catalogue of ${data.catalog.products} products, cart ${data.cartId} with ${data.cart.lines} lines`);

    const postmaster = isEmbedded ? postmasterPid(pgDataDir) : null;
    const databaseCpuSeconds = () => (postmaster === null ? null : processTreeCpuSeconds(postmaster));
    const noCpu = () => null;
    const raw: Omit<Target, "label"> = {
      request: "GET /",
      url: `${helloUrl}/`,
      isBaseline: true,
      serverCpuSeconds: () => processCpuSeconds(hello.pid),
      databaseCpuSeconds: noCpu,
    };
    const onApi = { isBaseline: false, serverCpuSeconds: () => processCpuSeconds(api.pid), databaseCpuSeconds };
    // Raw windows between the API targets: each API ratio is taken against the raw windows right next to it.
    const rawTarget: Target = { ...raw, label: "raw node:http" };
    const cartGetLabel = "cart.get (tRPC + one DB query, input in a POST body)";
    const targets: Target[] = [
      rawTarget,
      { ...onApi, label: "API /health (own handler; no tRPC, no DB)", request: "GET /health", url: `${apiUrl}/health` },
      ...(isSmoke ? [] : [rawTarget]),
      { ...onApi, label: "catalog.list (tRPC + catalogue cache)", request: "GET /trpc/catalog.list", url: queryUrl(apiUrl, "catalog.list") },
      // A smoke run measures each target once: its ratios are taken against the one raw window.
      ...(isSmoke ? [] : [rawTarget]),
      {
        ...onApi,
        label: cartGetLabel,
        request: "POST /trpc/cart.get",
        url: `${apiUrl}/trpc/cart.get`,
        body: { cartId: data.cartId },
      },
      ...(isSmoke ? [] : [rawTarget]),
    ];

    const measurements: Measurement[] = [];
    for (const target of targets) {
      log(
        `${target.label}: ${settings.amount === undefined ? `${settings.warmupSeconds} s warm-up, ${settings.durationSeconds} s measured` : `${settings.amount} requests`}, ${settings.connections} connections`,
      );
      const m = await measure(target, settings);
      measurements.push(m);
      log(
        `  ${Math.round(m.requestsPerSecond)} req/s, p50 ${m.latencyMs.p50.toFixed(2)} ms, p99 ${m.latencyMs.p99.toFixed(2)} ms, ` +
          `${m.non2xx} non-2xx, ${m.errors} errors of ${m.responses} responses`,
      );
    }

    // The database's own speed for cart.get's statement, with the API idle: the ceiling cart.get is judged against.
    const ceilings: DatabaseCeiling[] = [];
    const pgbench = findPgbench();
    if (pgbench) {
      const clients = Number(process.env.DB_POOL_MAX ?? 10);
      log(`pgbench: cart.get's statement, prepared, ${clients} clients`);
      const result = await runPgbench({
        pgbench,
        label: "cart read",
        databaseUrl: db.url,
        workDir,
        script: await cartReadScript(db.url, data.cartId),
        variables: { cart_id: data.cartId },
        clients,
        window: isSmoke ? { transactionsPerClient: 10 } : { seconds: settings.durationSeconds },
        databasePid: postmaster,
      });
      log(`  ${Math.round(result.tps)} tps, ${result.transactions} transactions, ${result.failed} failed`);
      if (result.failed > 0 || result.transactions === 0) throw new Error(`pgbench ran ${result.transactions} transactions, ${result.failed} failed`);
      ceilings.push({ target: cartGetLabel, pgbench: result });
    } else {
      log("pgbench: not found (PATH or PGBENCH); the database ceiling is not measured");
      ceilings.push({ target: cartGetLabel, pgbench: { missing: "pgbench not found (Debian: apt-get install postgresql-client)" } });
    }

    log("stopping the servers (SIGTERM)");
    await Promise.all([stopApi(), hello.stop(5000)]);
    const apiStop = await stopApi();
    const apiLogText = await readFile(apiLogPath, "utf8");

    log("the checkout journey, procedure by procedure, on a second API pinned to its own core");
    const journey = await runJourneyBench({
      databaseUrl: db.url,
      postmaster,
      databaseCpuSeconds,
      workDir,
      inherited,
      cleanup,
      isSmoke,
      pgbench,
      apiNodeArgs: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
      log,
    });

    log("tracing's cost: an API with tracing off against one with 5 % of requests traced (production's ratio)");
    const tracing = await measureTracingOverhead({
      databaseUrl: db.url,
      isDatabasePrepared: true,
      workDir,
      inherited,
      cleanup,
      load: isSmoke ? SMOKE_SETTINGS : { connections: settings.connections, warmupSeconds: 1, durationSeconds: 3 },
      rounds: isSmoke ? 1 : 4,
      sampleRatio: 0.05,
      // A smoke run's spans are not worth a 5 s wait per request kind.
      ...(isSmoke ? { exportDelayMs: 200 } : {}),
      log,
    });

    console.log(`\n${renderConsoleTable(measurements)}\n`);
    const warning = disturbanceWarning(measurements);
    if (warning) console.warn(`[bench] WARNING: ${warning}`);

    const failed = measurements.filter((m) => failureRate(m) > MAX_FAILURE_RATE);
    for (const m of failed) {
      console.error(
        `[bench] FAILED ${m.label}: ${(100 * failureRate(m)).toFixed(2)} % of requests were not 2xx ` +
          `(status codes ${JSON.stringify(m.statusCodes)}, ${m.errors} errors, ${m.timeouts} timeouts)`,
      );
    }
    if (failed.length) {
      console.error(`[bench] last lines of the API log:\n${logTail(apiLogPath, 20)}`);
      console.error(`[bench] ${path.relative(repoRoot, reportPath)} left unchanged`);
      return 1;
    }

    if (profileDir) {
      log(`profiling run: CPU profile of the API in ${profileDir}; ${path.relative(repoRoot, docPath)} left unchanged`);
      return 0;
    }

    const info: RunInfo = {
      date: new Date(),
      cpuModel: os.cpus()[0]?.model.trim() ?? "unknown CPU",
      cpuCount: os.cpus().length,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      nodeVersion: process.version,
      autocannonVersion: (createRequire(import.meta.url)("autocannon/package.json") as { version: string }).version,
      commit: gitCommit(repoRoot),
      settings,
      loadAverage,
      database,
      logLevel: API_LOG_LEVEL,
      logLines: apiLogText.split("\n").filter(Boolean).length,
      logBytes: Buffer.byteLength(apiLogText),
      poolSize: process.env.DB_POOL_MAX ?? "10 (default)",
      helloBytes,
      catalog: data.catalog,
      cart: data.cart,
      shutdown: describeShutdown(apiStop),
      totalSeconds: (performance.now() - startedAt) / 1000,
    };
    if (isSmoke) {
      // The report renders from this run like a full one; its numbers are not worth keeping.
      await writeFile(reportPath, renderMarkdown({ info, measurements, ceilings, journey, tracing }));
      log(`smoke run: wrote ${reportPath}; ${path.relative(repoRoot, docPath)} left unchanged; API shutdown ${info.shutdown}`);
      return 0;
    }
    const existing = existsSync(docPath) ? await readFile(docPath, "utf8") : null;
    await writeFile(docPath, withPreservedNotes(renderMarkdown({ info, measurements, ceilings, journey, tracing }), existing));
    log(`wrote ${path.relative(repoRoot, docPath)}; API shutdown ${info.shutdown}`);
    return 0;
  } catch (error) {
    console.error(`[bench] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    console.error(`[bench] last lines of the API log:\n${logTail(apiLogPath, 40)}`);
    return 1;
  }
}

let isInterrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (isInterrupted) return;
    isInterrupted = true;
    console.error(`[bench] ${signal}: stopping the servers`);
    void cleanup.run().finally(() => process.exit(130));
  });
}

const code = await main().catch((error: unknown) => {
  console.error(error);
  return 1;
});
await cleanup.run();
process.exit(code);
