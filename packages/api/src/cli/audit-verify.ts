// `pnpm audit:verify`: re-checks every link of the audit log's hash chain; exit 0 intact, 1 broken, 78 misconfigured.
// Reads DATABASE_URL, or else the embedded PostgreSQL of `pnpm start`: used if running, otherwise started for the check and stopped.
import { existsSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { Audit, createDb } from "@checkout/core";
import type { Env } from "../env.ts";
import { loadCliEnv } from "./cli-context.ts";
import { exitWithHelpIfAsked } from "./help.ts";
import { startEmbeddedPostgres } from "../embedded-postgres.ts";

exitWithHelpIfAsked(`
pnpm audit:verify [--json] — re-check every link of the audit log's hash chain.

Reads DATABASE_URL, or else the embedded PostgreSQL of \`pnpm start\` (used if running, otherwise started
for the check and stopped). Exit 0 intact, 1 broken, 2 failed, 78 misconfigured. --json prints the verdict as JSON.
`);

const asJson = process.argv.includes("--json");

function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}

async function isReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The database to check, and how to stop anything started for it. */
async function openDatabase(env: Env): Promise<{ url: string; stop: () => Promise<void> }> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, stop: async () => {} };
  const url = `postgres://postgres:postgres@127.0.0.1:${env.EMBEDDED_PG_PORT}/checkout`;
  if (await isReachable(url)) return { url, stop: async () => {} };
  const dataDir = path.join(env.DATA_DIR, "postgres");
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    fail(`No database to verify: DATABASE_URL is not set and there is no embedded database in ${dataDir} (run pnpm start once, or set DATABASE_URL).`, 78);
  }
  console.error(`starting the embedded PostgreSQL in ${dataDir} on port ${env.EMBEDDED_PG_PORT} to verify it`);
  const server = await startEmbeddedPostgres({ dataDir, port: env.EMBEDDED_PG_PORT });
  return { url: server.url("checkout"), stop: () => server.stop() };
}

async function main(): Promise<number> {
  const env = loadCliEnv();
  const database = await openDatabase(env);
  const db = createDb({ connectionString: database.url, max: 1, applicationName: "checkout-audit-verify", statementTimeoutMs: 0 });
  try {
    const started = performance.now();
    const verdict = await Audit.verifyChain(db);
    const ms = Math.round(performance.now() - started);
    if (asJson) console.log(JSON.stringify({ ...verdict, ms }));
    else if (verdict.ok) {
      const head = verdict.head ? `head seq ${verdict.head.seq}, hash ${verdict.head.hash}` : "empty log";
      console.log(`audit chain intact: ${verdict.rows} rows verified in ${ms} ms (${head})`);
    } else {
      console.log(`audit chain BROKEN at audit_log id ${verdict.firstBrokenId}: ${verdict.reason}`);
    }
    return verdict.ok ? 0 : 1;
  } finally {
    await db.destroy();
    await database.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const code = (error as { code?: unknown }).code;
    // undefined_table / undefined_column: a database the migrations have not reached.
    if (code === "42P01" || code === "42703") fail(`This database has no hash-chained audit log yet: migrate it first (pnpm start does). ${String(error)}`, 78);
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(2);
  },
);
