// The API integration tests a second time, against an external PostgreSQL server: by default this machine kind's
// PostgreSQL 15 at 127.0.0.1:5432 (standing in for RDS: another major version than the embedded 17, a server the
// tests did not start, its own roles and settings). vitest.config.ts adds the project "api-system-postgres" when one
// answers, so it shares the run's workers with everything else instead of running after it.
import pg from "pg";

export const SYSTEM_POSTGRES_URL = process.env.SYSTEM_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** The URL with any password hidden, for logs. */
export const systemPostgresLabel = SYSTEM_POSTGRES_URL.replace(/:[^:@/]*@/, ":***@");

/**
 * The test files (under packages/api) that do not depend on the server, so run once, in the "api" project: the edge's
 * attack and fuzz suites, whose subject is the HTTP pipeline in front of the database; the process-level drills
 * (rehearsal, crashes, shutdown, overload, failover), whose subject is processes and sockets; the tests that start
 * their own embedded server or pick the server themselves (bundle, production parity, TLS, local start); the
 * benchmarks' smoke runs; and the tests of the plain HTTP endpoints and of the payment provider's faults. Every other
 * test file reads and writes the database through the app's own SQL, roles, triggers and connection handling, and runs
 * against both servers.
 */
export const SERVER_INDEPENDENT_TESTS = [
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
  // Their subject is the HTTP endpoints beside tRPC and the payment provider's faults (timeouts, refusals, stalls).
  "test/http.test.ts",
  "test/payments-slow-card.test.ts",
  "test/fault-payment-provider.test.ts",
  // A process killed mid-order and restarted (its subject is the process and the reconciler; the audit and order rules
  // it relies on run on both servers in their own files), and the audit chain's anchors in S3 (the chain itself:
  // audit-chain.test.ts, on both).
  "test/crash-recovery.test.ts",
  "test/audit-anchor.test.ts",
  // The load tester's invariant check through the admin API (the invariants themselves: invariants.test.ts, on both).
  "test/invariants-loadtest.test.ts",
  // The operator commands' command lines: refused or answered before any database is opened.
  "test/cli-arguments.test.ts",
  // The benches' and scripts' command lines (no database at all), and the bench's model of the checkout journey.
  "test/bench-cli-arguments.test.ts",
  "test/bench-journey-model.test.ts",
];

/** The server's version, or null when none answers at SYSTEM_POSTGRES_URL. */
export async function systemPostgresVersion(): Promise<string | null> {
  const client = new pg.Client({ connectionString: SYSTEM_POSTGRES_URL, connectionTimeoutMillis: 2000 });
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
