// The service in-process on a database the test already has (startTestApp makes a fresh one each time), and an empty
// database (no migrations, no seed) for tests whose subject is what a first start does to one.
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import pg from "pg";
import { inject } from "vitest";
import { startApp } from "../../src/app.ts";
import { loadEnv } from "../../src/env.ts";
import { createLogger } from "../../src/logger.ts";
import { createClient, type TestApp, tokenizeCard } from "./app.ts";
import type { TestDatabase } from "./database.ts";

/**
 * As startTestApp (same defaults; `overrides` may name another DATABASE_URL, e.g. a role's), but on `database`;
 * `close()` stops the app and leaves the database to its owner.
 */
export async function startTestAppOn(database: TestDatabase, overrides: Record<string, string> = {}): Promise<TestApp> {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const env = loadEnv({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: database.url,
    PAYMENT_SANDBOX_PORT: "0",
    WEB_DIST: "/nonexistent",
    LOG_LEVEL: "info",
    SHUTDOWN_TIMEOUT_MS: "5000",
    JOBS: "off",
    ...overrides,
  });
  const app = await startApp(env, { log: createLogger({ level: "debug", destination }) });
  return {
    app,
    database,
    client: createClient(app.url),
    logs,
    tokenize: (number, extra) => tokenizeCard(app.paymentUrl, number, extra),
    async close() {
      await app.close();
    },
  };
}

/** A new database with nothing in it (not even the migration table), as on a stage's first deploy; its URL and `drop`. */
export async function createEmptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = inject("pgAdminUrl");
  const name = `checkout_test_${randomBytes(6).toString("hex")}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}
