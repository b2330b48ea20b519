// The real checkout service for load-tester tests: started the way `pnpm start` starts it
// (node --import tsx packages/api/src/main.ts), on a fresh database of the test PostgreSQL.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { inject } from "vitest";
import { freePort } from "./net.ts";
import { collectOutput, repoRoot } from "./processes.ts";
import { exited, waitUntil } from "./wait.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export interface RunningService {
  url: string;
  /** The payment sandbox the service started on its own port (where checkout-journey.yml gets card tokens). */
  paymentUrl: string;
  /** A bearer token the service accepts on its admin API (ADMIN_API_TOKENS). */
  adminToken: string;
  databaseUrl: string;
  /** One query against the service's database. */
  query<Row extends pg.QueryResultRow>(sql: string): Promise<Row[]>;
  /** What the service printed (warnings and errors only), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject("pgAdminUrl") });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Polls /ready until the service answers 200; fails if it exits first or takes longer than the timeout. */
async function waitUntilReady(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  let hasExited = false;
  void exited(child).then(() => {
    hasExited = true;
  });
  await waitUntil(
    "the service was not ready",
    async () => {
      if (hasExited) throw new Error(`the service exited with ${child.exitCode ?? child.signalCode} before it was ready:\n${output()}`);
      try {
        return (await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) })).ok;
      } catch {
        return false; // Not listening yet.
      }
    },
    { timeoutMs, details: output },
  );
}

async function launch(databaseUrl: string, dataDir: string, adminToken: string): Promise<Omit<RunningService, "query" | "stop"> & { child: ChildProcess }> {
  const [port, paymentPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["--import", "tsx", "packages/api/src/main.ts"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? os.tmpdir(),
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: String(port),
      PAYMENT_SANDBOX_PORT: String(paymentPort),
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      WEB_DIST: path.join(dataDir, "no-web-build"),
      ADMIN_API_TOKENS: `loadtest:${adminToken}`,
      JOBS: "on",
      LOG_LEVEL: "warn",
    },
  });
  const output = collectOutput(child).all;
  try {
    await waitUntilReady(url, child, output, 90_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return { url, paymentUrl: `http://127.0.0.1:${paymentPort}`, adminToken, databaseUrl, output, child };
}

export async function startService(): Promise<RunningService> {
  const name = `checkout_loadtest_${randomBytes(6).toString("hex")}`;
  await adminQuery(`create database ${name}`);
  const databaseUrl = withDatabase(inject("pgAdminUrl"), name);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "checkout-loadtest-service-"));
  const adminToken = randomBytes(24).toString("hex");
  let launched: Awaited<ReturnType<typeof launch>> | undefined;
  // The free ports are picked before the service binds them; another process can take one in between.
  for (let attempt = 1; !launched; attempt++) {
    try {
      launched = await launch(databaseUrl, dataDir, adminToken);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("EADDRINUSE")) {
        await adminQuery(`drop database if exists ${name} with (force)`);
        rmSync(dataDir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const { child, ...service } = launched;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  return {
    ...service,
    async query<Row extends pg.QueryResultRow>(sql: string) {
      return (await pool.query<Row>(sql)).rows;
    },
    async stop() {
      await pool.end();
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited(child);
      clearTimeout(timer);
      await adminQuery(`drop database if exists ${name} with (force)`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
