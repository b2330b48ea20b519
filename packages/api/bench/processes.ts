// Child processes for the benchmark: spawn a server, wait until it answers, stop it gracefully and leave nothing behind;
// and the frame a bench script runs in (settings from the environment, cleanup steps, signals, exit code).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { z } from "zod";

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

/** The commit being measured, marked when the tree has uncommitted changes; null outside a git checkout. */
export function gitCommit(cwd: string): string | null {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const isDirty = execFileSync("git", ["status", "--porcelain"], { cwd, encoding: "utf8" }).trim() !== "";
    return isDirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return null;
  }
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

/** The bench's settings from the environment, or null after printing which ones are invalid (the bench then exits 78). */
export function readSettings<Schema extends z.ZodType>(schema: Schema): z.output<Schema> | null {
  const parsed = schema.safeParse(process.env);
  if (parsed.success) return parsed.data;
  console.error(`Invalid settings:\n${parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
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
