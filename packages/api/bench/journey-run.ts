// Runs the journey's cost measurement (journey.ts) in its own setting: a second API, pinned to core 1, paying through a
// payment sandbox in a process of its own; PostgreSQL, the sandbox and this process (the shoppers) on core 0. Then the
// write path's ceiling on the same server: pgbench's TPC-B-like transaction at the same concurrency as placeOrder's.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { LOCAL_SANDBOX_SECRET_KEY } from "@checkout/payment-protocol";
import { type JourneyCost, measureJourney } from "./journey.ts";
import { type JourneyAtRate, runJourneyAtRate } from "./journey-at-rate.ts";
import { processCpuSeconds } from "@checkout/bench-support";
import { type PgbenchResult, runPgbench } from "./pgbench.ts";
import { type Cleanup, findFreePorts, spawnApi, spawnServer, waitForOk } from "./processes.ts";

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sandboxDir = path.resolve(apiDir, "../payment-sandbox");

export interface JourneyBench {
  journey: JourneyCost;
  /** The journey interleaved, by the load tester, at JOURNEY_LOAD_SHARE of the API's per-core rate. */
  atRate: JourneyAtRate;
  /** How the processes were placed on cores ("not pinned" when taskset or a second core is missing). */
  pinning: string;
  /** pgbench's TPC-B-like transaction on the same server, or why it was not run. */
  tpcb: PgbenchResult | { missing: string };
}

/** pgbench's built-in "TPC-B (sort of)" transaction, as a script (pgbench -i creates its tables). */
/** The share of the API's per-core rate the interleaved journey runs at (the goal is judged at 70 %). */
export const JOURNEY_LOAD_SHARE = 0.7;

const TPCB_SCRIPT = `\\set aid random(1, 100000 * :scale)
\\set bid random(1, 1 * :scale)
\\set tid random(1, 10 * :scale)
\\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
END;
`;

/** The process and its descendants (PostgreSQL's backends), from Linux /proc. */
function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // It exited while we looked.
    }
  }
  const tree: number[] = [];
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.shift() as number;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function findTaskset(): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "taskset");
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** Pins every thread of each process to `cores` (a core or a list such as 0-1); processes they start later inherit it. */
function pin(taskset: string, pids: readonly number[], cores: number | string): void {
  for (const pid of pids) {
    try {
      execFileSync(taskset, ["-a", "-p", "-c", String(cores), String(pid)], { stdio: "ignore" });
    } catch {
      // It exited meanwhile.
    }
  }
}

export async function runJourneyBench(input: {
  databaseUrl: string;
  /** The embedded PostgreSQL's postmaster (null: an external server, whose CPU is not measured). */
  postmaster: number | null;
  databaseCpuSeconds: () => number | null;
  workDir: string;
  inherited: NodeJS.ProcessEnv;
  cleanup: Cleanup;
  isSmoke: boolean;
  pgbench: string | null;
  /** Node options for the API (e.g. --cpu-prof under BENCH_CPU_PROF). */
  apiNodeArgs?: string[];
  log: (message: string) => void;
}): Promise<JourneyBench> {
  const { log } = input;
  const [apiPort, sandboxPort, unusedSandboxPort] = await findFreePorts(3);
  if (!apiPort || !sandboxPort || !unusedSandboxPort) throw new Error("Could not find free ports");
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  const webhookSecret = "journey-bench-webhook-secret";
  const adminToken = randomBytes(24).toString("hex");

  const sandbox = spawnServer({
    name: "payment sandbox",
    script: "bin/payment-sandbox.js",
    cwd: sandboxDir,
    env: { ...input.inherited, PAYMENT_SANDBOX_PORT: String(sandboxPort) },
    output: "inherit",
  });
  input.cleanup.add(() => sandbox.stop(5000));
  const api = spawnApi({
    name: "checkout API (journey)",
    port: apiPort,
    sandboxPort: unusedSandboxPort,
    workDir: input.workDir,
    logPath: path.join(input.workDir, "api-journey.log"),
    inherited: input.inherited,
    nodeArgs: input.apiNodeArgs ?? [],
    env: {
      CLIENT_LIMITS_EXEMPT: "127.0.0.1",
      LOG_LEVEL: "info",
      DATABASE_URL: input.databaseUrl,
      PAYMENT_SANDBOX: "false",
      PAYMENT_PROVIDER_URL: sandboxUrl,
      PAYMENT_SECRET_KEY: LOCAL_SANDBOX_SECRET_KEY,
      PAYMENT_WEBHOOK_SECRET: webhookSecret,
      // The load tester's invariant check reads admin.invariants after the interleaved run.
      ADMIN_API_TOKENS: `bench:${adminToken}`,
    },
  });
  let stopped: Promise<unknown> | null = null;
  const stopApi = () => (stopped ??= api.stop(40_000));
  input.cleanup.add(stopApi);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await Promise.all([waitForOk(`${apiUrl}/ready`, api, 180_000), waitForOk(`${sandboxUrl}/health`, sandbox, 60_000)]);

  const taskset = findTaskset();
  let pinning = "not pinned: taskset not found";
  let pinPrefix: string[] = [];
  if (taskset && os.cpus().length >= 2) {
    pinPrefix = [taskset, "-c", "0"];
    pin(taskset, [api.pid], 1);
    pin(taskset, [process.pid, sandbox.pid, ...(input.postmaster === null ? [] : processTree(input.postmaster))], 0);
    pinning = "API on core 1 alone; PostgreSQL, the payment sandbox and the shoppers (the bench process) on core 0 (taskset)";
  } else if (taskset) {
    pinning = "not pinned: one core";
  }
  log(`journey: ${pinning}`);

  // Enough stock that no shopper meets a sold-out SKU, raised the way a restock is (both columns).
  const admin = new pg.Client({ connectionString: input.databaseUrl });
  await admin.connect();
  try {
    await admin.query("update inventory set available = available + 1000000, stock_received = stock_received + 1000000");
  } finally {
    await admin.end();
  }

  const concurrency = 10;
  const journey = await measureJourney({
    apiUrl,
    sandboxUrl,
    apiPid: api.pid,
    databaseCpuSeconds: input.databaseCpuSeconds,
    shoppers: input.isSmoke ? 10 : 600,
    warmupShoppers: input.isSmoke ? 2 : 200,
    readRepeats: input.isSmoke ? 1 : 3,
    concurrency,
    log,
  });
  log(
    `journey: API ${journey.apiCpuMsPerRequest.toFixed(3)} ms CPU per request, PostgreSQL ${journey.databaseCpuMsPerRequest?.toFixed(3) ?? "?"} ms; placeOrder ${Math.round(journey.placeOrderPerSecond)}/s`,
  );
  const atRate = await runJourneyAtRate({
    apiUrl,
    sandboxUrl,
    adminToken,
    requestsPerSecondPerCore: input.isSmoke ? 10 / JOURNEY_LOAD_SHARE : journey.requestsPerSecondPerCore,
    share: JOURNEY_LOAD_SHARE,
    seconds: input.isSmoke ? 2 : 20,
    workDir: input.workDir,
    pinPrefix,
    apiCpuSeconds: () => processCpuSeconds(api.pid),
    isTimingJudged: !input.isSmoke,
    log,
  });
  log(
    `  ${atRate.requests} requests: p50 ${atRate.latencyMs.p50.toFixed(1)} ms, p95 ${atRate.latencyMs.p95.toFixed(1)} ms, p99 ${atRate.latencyMs.p99.toFixed(1)} ms; load tester exit ${atRate.exitCode}`,
  );
  await stopApi();

  let tpcb: JourneyBench["tpcb"];
  if (!input.pgbench) {
    tpcb = { missing: "pgbench not found (Debian: apt-get install postgresql-client)" };
  } else {
    execFileSync(input.pgbench, ["-i", "-s", "1", "-q", input.databaseUrl], { stdio: "ignore" });
    log(`pgbench: TPC-B-like transaction, ${concurrency} clients`);
    tpcb = await runPgbench({
      pgbench: input.pgbench,
      label: "tpcb",
      databaseUrl: input.databaseUrl,
      workDir: input.workDir,
      script: TPCB_SCRIPT,
      variables: { scale: "1" },
      clients: concurrency,
      window: input.isSmoke ? { transactionsPerClient: 10 } : { seconds: 10 },
      databasePid: input.postmaster,
    });
    log(`  ${Math.round(tpcb.tps)} tps, ${tpcb.transactions} transactions, ${tpcb.failed} failed`);
  }
  await sandbox.stop(5000);
  // Everything back on every core, for whatever the bench runs next.
  if (pinPrefix.length && taskset) pin(taskset, [process.pid, ...(input.postmaster === null ? [] : processTree(input.postmaster))], `0-${os.cpus().length - 1}`);
  return { journey, atRate, pinning, tpcb };
}
