// Child processes for the benchmark: spawn a server, wait until it answers, stop it gracefully and leave nothing behind;
// and the frame a bench script runs in (settings from the environment, cleanup steps, signals, exit code).
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as delay } from "node:timers/promises";
import type { z } from "zod";
import { startEmbeddedPostgres } from "../src/embedded-postgres.ts";

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StopOutcome extends ExitStatus {
  /** The process exited on its own after SIGTERM, within the grace period. */
  isGraceful: boolean;
  /** Processes of its group (e.g. an embedded PostgreSQL) still running a while after it exited, which were then killed. */
  strays: string[];
  ms: number;
}

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  hasExited(): boolean;
  /** SIGTERM and wait; after `graceMs`, SIGKILL its whole process group. */
  stop(graceMs: number): Promise<StopOutcome>;
}

/** The live (not zombie) processes in the group led by `pgid`, as "name (pid)", from Linux /proc. */
function groupMembers(pgid: number): string[] {
  const members: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
      const [state, , pgrp] = text.slice(text.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") members.push(`${name} (${entry})`);
    } catch {
      // It exited while we looked.
    }
  }
  return members;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

async function waitForGroupExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (groupMembers(pid).length > 0) {
    if (performance.now() > deadline) return false;
    await delay(50);
  }
  return true;
}

/** Runs `script` with this Node and the tsx loader, in its own process group (so a terminal's Ctrl-C reaches only the bench, which stops the servers in order). */
export function spawnServer(options: {
  name: string;
  script: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** A file descriptor for stdout and stderr, or "inherit". */
  output: number | "inherit";
  nodeArgs?: string[];
}): ServerProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", options.script], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", options.output, options.output],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Could not start ${options.name} (${options.script})`);

  let status: ExitStatus | null = null;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("exit", (code, signal) => {
      status = { code, signal };
      resolve(status);
    });
  });

  return {
    name: options.name,
    pid,
    exited,
    hasExited: () => status !== null,
    async stop(graceMs) {
      const started = performance.now();
      if (status === null) signalGroupLeader(pid, "SIGTERM");
      const grace = new AbortController();
      const graceful = await Promise.race([exited, delay(graceMs, null, { signal: grace.signal }).catch(() => null)]);
      grace.abort();
      if (graceful === null) signalGroup(pid, "SIGKILL");
      const exit = graceful ?? (await exited);
      const ms = Math.round(performance.now() - started);
      // Helpers of the child (tsx's esbuild service) exit on their own a moment after it; anything still there after that is a stray.
      await waitForGroupExit(pid, 3000);
      const strays = groupMembers(pid);
      if (strays.length) {
        signalGroup(pid, "SIGTERM");
        if (!(await waitForGroupExit(pid, 5000))) signalGroup(pid, "SIGKILL");
        await waitForGroupExit(pid, 5000);
      }
      return { ...exit, isGraceful: graceful !== null, strays, ms };
    },
  };
}

function signalGroupLeader(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * The API (src/main.ts) as the benches run it: production mode, on 127.0.0.1:`port`, the payment sandbox on `sandboxPort`,
 * no jobs, no web app, its data under `workDir`, stdout and stderr to `logPath`; `env` adds to or overrides that.
 */
export function spawnApi(options: {
  name: string;
  port: number;
  sandboxPort: number;
  workDir: string;
  logPath: string;
  /** The bench's own environment, minus anything that would point the API elsewhere. */
  inherited: NodeJS.ProcessEnv;
  env: Record<string, string>;
  nodeArgs?: string[];
}): ServerProcess {
  const logFd = openSync(options.logPath, "a");
  try {
    return spawnServer({
      name: options.name,
      script: "src/main.ts",
      cwd: apiDir,
      nodeArgs: options.nodeArgs,
      env: {
        ...options.inherited,
        NODE_ENV: "production",
        HOST: "127.0.0.1",
        PORT: String(options.port),
        PUBLIC_URL: `http://127.0.0.1:${options.port}`,
        LOG_LEVEL: "info",
        JOBS: "off",
        PAYMENT_SANDBOX: "true",
        PAYMENT_SANDBOX_PORT: String(options.sandboxPort),
        WEB_DIST: path.join(options.workDir, "no-web-dist"),
        DATA_DIR: path.join(options.workDir, "data"),
        MAIL_DIR: path.join(options.workDir, "mail"),
        ...options.env,
      },
      output: logFd,
    });
  } finally {
    closeSync(logFd);
  }
}

/** The last `lines` lines of a log file, to show when a bench fails. */
export function logTail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Polls `url` until it answers 200; fails early if the server process exits first. */
export async function waitForOk(url: string, server: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastProblem = "no answer yet";
  while (performance.now() < deadline) {
    if (server.hasExited()) {
      const { code, signal } = await server.exited;
      throw new Error(`${server.name} exited (code ${code}, signal ${signal}) before ${url} answered 200`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      lastProblem = `status ${response.status}`;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await delay(200);
  }
  throw new Error(`${server.name} did not answer 200 at ${url} within ${timeoutMs / 1000} s (${lastProblem})`);
}

/** `count` distinct free TCP ports on 127.0.0.1 (held open together, so they differ, then released). */
export async function findFreePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("Expected a TCP address");
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The postmaster's pid from its pid file, or null when it is not running. */
export function postmasterPid(pgDataDir: string): number | null {
  const pidFile = path.join(pgDataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null;
}

/** Steps to undo what a bench started: each runs once, last added first, whatever happens. */
export class Cleanup {
  private readonly steps: (() => Promise<unknown>)[] = [];
  private running: Promise<void> = Promise.resolve();

  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  /** Forgets a step that the bench has run itself. */
  remove(step: () => Promise<unknown>): void {
    const at = this.steps.indexOf(step);
    if (at !== -1) this.steps.splice(at, 1);
  }

  /** Runs the steps not run yet, after any run already under way. */
  run(): Promise<void> {
    this.running = this.running.then(async () => {
      for (const step of this.steps.splice(0).reverse()) {
        await step().catch((error: unknown) => console.error("cleanup step failed:", error));
      }
    });
    return this.running;
  }
}

/** A fresh work directory, removed at cleanup. */
export async function makeWorkDir(prefix: string, cleanup: Cleanup): Promise<string> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), prefix));
  // The embedded PostgreSQL runs as an unprivileged user, which must be able to reach its data directory in here.
  await chmod(workDir, 0o755);
  cleanup.add(() => rm(workDir, { recursive: true, force: true }));
  return workDir;
}

/**
 * The database the bench's API uses: `externalUrl` (BENCH_DATABASE_URL) when given, else database "checkout" on a fresh
 * embedded PostgreSQL in `dataDir` on `port`, stopped at cleanup; with how the report describes it (`note` adds to that).
 */
export async function benchDatabase(options: {
  externalUrl: string | undefined;
  dataDir: string;
  port: number;
  cleanup: Cleanup;
  log: (message: string) => void;
  note?: string;
}): Promise<{ url: string; description: string }> {
  if (options.externalUrl) return { url: options.externalUrl, description: "external PostgreSQL (`BENCH_DATABASE_URL`)" };
  options.log(`starting embedded PostgreSQL on port ${options.port} in ${options.dataDir}`);
  const embedded = await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.port });
  options.cleanup.add(() => embedded.stop());
  await embedded.createDatabase("checkout");
  const version = readFileSync(path.join(options.dataDir, "PG_VERSION"), "utf8").trim();
  return { url: embedded.url("checkout"), description: `embedded PostgreSQL ${version} (fresh data directory, fsync on${options.note ? `, ${options.note}` : ""})` };
}

/** The bench's settings from the environment (a smoke run passes its own on top), or null after printing which ones are invalid (the bench then exits 78). */
export function readSettings<Schema extends z.ZodType>(schema: Schema, env: NodeJS.ProcessEnv = process.env): z.output<Schema> | null {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  console.error(`Invalid benchmark settings:\n${parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
  return null;
}

/** Runs a bench's `main` and exits with its code (1 if it throws), after the cleanup steps; SIGINT or SIGTERM runs them and exits 130. */
export async function runBench(name: string, cleanup: Cleanup, main: () => Promise<number>): Promise<never> {
  let isInterrupted = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (isInterrupted) return;
      isInterrupted = true;
      console.error(`[${name}] ${signal}: stopping`);
      void cleanup.run().finally(() => process.exit(130));
    });
  }
  const code = await main().catch((error: unknown) => {
    console.error(`[${name}] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  });
  await cleanup.run();
  process.exit(code);
}
