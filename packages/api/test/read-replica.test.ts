// The reader/writer split: catalogue reads come from the replica, carts, checkout and orders from the writer; the
// deployed configuration (host, user, password, TLS) is composed and checked at start-up; and two tasks starting at
// once on a fresh database apply every migration exactly once.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { type Kysely, sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Database } from "@checkout/core";
import { startApp } from "../src/app.ts";
import { ConfigError, loadEnv } from "../src/env.ts";
import { createLogger } from "../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { CARDS, readyCart, type TestApp } from "./support/app.ts";
import { createEmptyDatabase, startTestAppOn } from "./support/app-on-database.ts";
import { waitUntil } from "./support/wait.ts";

const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The advisory lock Kysely's PostgresAdapter takes around a migration run (kysely/dist/esm/dialect/postgres/postgres-adapter.js). */
const KYSELY_MIGRATION_LOCK_ID = "3853314791062309107";

function configError(source: Record<string, string>): string {
  try {
    loadEnv(source);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected a configuration error");
}

// One migrated, seeded database for the file: the composed-configuration start serves its catalogue, and it is the
// writer beside the "replica" below (neither test changes what the other reads).
let writer: TestDatabase;
beforeAll(async () => {
  writer = await createTestDatabase();
});
afterAll(async () => {
  await writer?.drop();
});

describe("database configuration", () => {
  const deployed = {
    DATABASE_HOST: "test-checkout-postgres.abc123.us-east-1.rds.amazonaws.com",
    DATABASE_READ_HOST: "test-checkout-postgres-replica.abc123.us-east-1.rds.amazonaws.com",
    DATABASE_PORT: "5432",
    DATABASE_NAME: "checkout",
    DATABASE_USER: "checkout",
    DATABASE_PASSWORD: "p@ss:w/rd%?",
    DATABASE_SSL: "require",
  };

  it("composes the writer and reader URLs from the deployed variables, credentials encoded, TLS required", () => {
    const env = loadEnv(deployed);
    expect(env.DATABASE_URL).toBe("postgres://checkout:p%40ss%3Aw%2Frd%25%3F@test-checkout-postgres.abc123.us-east-1.rds.amazonaws.com:5432/checkout?sslmode=no-verify");
    expect(env.DATABASE_READ_URL).toBe(
      "postgres://checkout:p%40ss%3Aw%2Frd%25%3F@test-checkout-postgres-replica.abc123.us-east-1.rds.amazonaws.com:5432/checkout?sslmode=no-verify",
    );
    const parsed = new URL(env.DATABASE_URL!);
    expect(decodeURIComponent(parsed.password)).toBe("p@ss:w/rd%?");
  });

  it("sends reads to the writer when no reader host is given, and requires TLS unless told otherwise", () => {
    const { DATABASE_READ_HOST: _reader, DATABASE_SSL: _ssl, DATABASE_PORT: _port, ...writerOnly } = deployed;
    const env = loadEnv(writerOnly);
    expect(env.DATABASE_URL).toMatch(/:5432\/checkout\?sslmode=no-verify$/);
    expect(env.DATABASE_READ_URL).toBeUndefined();
    expect(loadEnv({ ...deployed, DATABASE_SSL: "verify-full" }).DATABASE_URL).toMatch(/sslmode=verify-full$/);
    expect(loadEnv({ ...deployed, DATABASE_SSL: "disable" }).DATABASE_URL).toMatch(/sslmode=disable$/);
  });

  it("refuses half a deployed configuration, naming what is missing", () => {
    expect(configError({ DATABASE_HOST: deployed.DATABASE_HOST, DATABASE_USER: "checkout" })).toMatch(
      /DATABASE_NAME, DATABASE_PASSWORD are required with DATABASE_HOST, DATABASE_USER/,
    );
    expect(configError({ DATABASE_USER: "checkout", DATABASE_PASSWORD: "secret" })).toMatch(/DATABASE_HOST, DATABASE_NAME are required with DATABASE_USER, DATABASE_PASSWORD/);
    expect(configError({ DATABASE_READ_HOST: deployed.DATABASE_READ_HOST })).toMatch(
      /DATABASE_HOST, DATABASE_NAME, DATABASE_USER, DATABASE_PASSWORD are required with DATABASE_READ_HOST/,
    );
  });

  it("refuses a mix of the URL form and the deployed form", () => {
    expect(configError({ ...deployed, DATABASE_URL: "postgres://u:p@localhost:5432/checkout" })).toMatch(
      /set either DATABASE_URL or DATABASE_HOST, DATABASE_READ_HOST, DATABASE_PORT, DATABASE_NAME, DATABASE_USER, DATABASE_PASSWORD, DATABASE_SSL, not both/,
    );
    expect(configError({ DATABASE_URL: "postgres://u:p@localhost:5432/checkout", DATABASE_SSL: "require" })).toMatch(/set either DATABASE_URL or DATABASE_SSL, not both/);
  });

  it("refuses a reader without a writer", () => {
    expect(configError({ DATABASE_READ_URL: "postgres://u:p@replica:5432/checkout" })).toMatch(/DATABASE_READ_URL needs DATABASE_URL/);
  });

  it("names malformed values", () => {
    const message = configError({ ...deployed, DATABASE_HOST: "postgres://db.example.com:5432", DATABASE_SSL: "yes", DATABASE_PORT: "sixty", DATABASE_PASSWORD: "" });
    expect(message).toMatch(/DATABASE_HOST: must be a hostname alone \(no scheme, port or path\)/);
    expect(message).toMatch(/DATABASE_SSL: use disable, require or verify-full/);
    expect(message).toMatch(/DATABASE_PORT:/);
    expect(message).toMatch(/DATABASE_PASSWORD: must not be empty/);
  });

  describe("against a real server", () => {
    function partsOf(url: string, ssl: string): Record<string, string> {
      const parsed = new URL(url);
      return {
        DATABASE_HOST: parsed.hostname,
        DATABASE_READ_HOST: parsed.hostname,
        DATABASE_PORT: parsed.port,
        DATABASE_NAME: parsed.pathname.slice(1),
        DATABASE_USER: decodeURIComponent(parsed.username),
        DATABASE_PASSWORD: decodeURIComponent(parsed.password) || "unused-with-trust-auth",
        DATABASE_SSL: ssl,
      };
    }

    const base = { NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", PAYMENT_SANDBOX_PORT: "0", WEB_DIST: "/nonexistent", JOBS: "off" };
    const log = createLogger({ level: "silent" });

    it("starts and serves the catalogue with the composed connections", async () => {
      const app = await startApp(loadEnv({ ...base, ...partsOf(writer.url, "disable") }), { log });
      try {
        const response = await fetch(`${app.url}/trpc/catalog.list?input=${encodeURIComponent(JSON.stringify({ currency: "USD" }))}`);
        expect(response.status).toBe(200);
        expect(app.services.readDb).not.toBe(app.services.db);
      } finally {
        await app.close();
      }
    });

    it("fails at start-up when TLS is required and the server does not offer it", async () => {
      // The test server has no TLS: the refusal proves DATABASE_SSL reaches the driver.
      await expect(startApp(loadEnv({ ...base, ...partsOf(writer.url, "require") }), { log })).rejects.toThrow(/does not support SSL/);
    });
  });
});

describe("reads from the replica, writes and read-your-writes from the writer", () => {
  let t: TestApp;
  let reader: TestDatabase;

  beforeAll(async () => {
    // The "replica": a second database with the same migrations and seed, then made recognisable: its product names
    // are marked and its prices are ten times the writer's.
    reader = await createTestDatabase();
    await sql`update product set name = name || ' [replica]'`.execute(reader.db);
    await sql`update price set amount = amount * 10`.execute(reader.db);
    t = await startTestAppOn(writer, { DATABASE_READ_URL: reader.url, CATALOG_CACHE_MS: "0" });
  });

  afterAll(async () => {
    await t?.close();
    await reader?.drop();
  });

  it("uses a separate, smaller pool for the reader", () => {
    expect(t.app.services.readDb).not.toBe(t.app.services.db);
    expect(t.logs.join("")).toMatch(/"reader":"[^"]+\/checkout_test_[0-9a-f]+".*"database connections"/);
  });

  it("serves catalog.list and catalog.get from the reader", async () => {
    const { products } = await t.client.catalog.list.query({ currency: "USD" });
    expect(products.length).toBeGreaterThan(0);
    for (const product of products) expect(product.name).toMatch(/ \[replica\]$/);
    const one = await t.client.catalog.get.query({ productId: products[0]!.id, currency: "USD" });
    expect(one.name).toMatch(/ \[replica\]$/);
  });

  it("prices a cart from the writer and reads the cart back from the writer", async () => {
    const writerPrice = await sql<{ amount: number }>`select amount from price where sku = 'TEE-BLA-M' and currency = 'USD'`.execute(t.database.db);
    const cart = await t.client.cart.create.mutate({ currency: "USD" });
    await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "TEE-BLA-M", quantity: 1 });
    const read = await t.client.cart.get.query({ cartId: cart.id });
    expect(read.lines).toHaveLength(1);
    expect(read.lines[0]!.unitPrice).toBe(writerPrice.rows[0]!.amount);
    // The cart exists only on the writer: a read routed to the reader would not have found it.
    const onReader = await sql<{ n: number }>`select count(*)::int as n from cart where id = ${cart.id}`.execute(reader.db);
    expect(onReader.rows[0]!.n).toBe(0);
  });

  it("places an order and reads it back from the writer", async () => {
    const cartId = await readyCart(t.client);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    const placed = await t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) });
    expect(await t.client.order.get.query({ orderId: placed.id })).toEqual({ ...placed, confirmationEmail: "sending" });
    expect(placed.total).toBe(quote.total);
    const onWriter = await sql<{ n: number }>`select count(*)::int as n from "order" where id = ${placed.id}`.execute(t.database.db);
    const onReader = await sql<{ n: number }>`select count(*)::int as n from "order" where id = ${placed.id}`.execute(reader.db);
    expect([onWriter.rows[0]!.n, onReader.rows[0]!.n]).toEqual([1, 0]);
  });
});

describe("migrations when two tasks start at once", () => {
  const children = new Set<ChildProcess>();
  let database: { url: string; db: Kysely<Database>; drop(): Promise<void> } | undefined;

  afterEach(async () => {
    for (const child of children) child.kill("SIGKILL");
    children.clear();
    await database?.db.destroy();
    await database?.drop();
  });

  function startTask(databaseUrl: string) {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: apiRoot,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "test",
        HOST: "127.0.0.1",
        PORT: "0",
        PAYMENT_SANDBOX_PORT: "0",
        DATABASE_URL: databaseUrl,
        WEB_DIST: "/nonexistent",
        JOBS: "off",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const running = new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (output.includes("checkout is running")) {
          clearInterval(check);
          resolve();
        } else if (child.exitCode !== null) {
          clearInterval(check);
          reject(new Error(`task exited with ${child.exitCode}:\n${output}`));
        }
      }, 50);
    });
    const logLines = () =>
      output
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { msg: string; applied?: string[] });
    return { child, running, logLines };
  }

  it("both start, and every migration is applied exactly once (Kysely's Migrator holds a PostgreSQL advisory lock)", async () => {
    // An empty database, as on a stage's first deploy.
    const empty = await createEmptyDatabase();
    database = { ...empty, db: createDb({ connectionString: empty.url, max: 2, applicationName: "checkout-test" }) };

    // Hold the Migrator's lock so both tasks are provably waiting on it at the same moment, then let them race.
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    await holder.query(`select pg_advisory_lock(${KYSELY_MIGRATION_LOCK_ID})`);
    const tasks = [startTask(database.url), startTask(database.url)];
    const waiting = async () =>
      (
        await holder.query<{ n: number }>(
          `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`,
        )
      ).rows[0]!.n;
    await waitUntil(
      "the two tasks both to wait for the migration lock",
      async () => {
        for (const task of tasks) if (task.child.exitCode !== null) await task.running;
        return (await waiting()) >= 2;
      },
      // Two node + tsx starts: on a busy machine they take a while.
      60_000,
      50,
    );
    await holder.query(`select pg_advisory_unlock(${KYSELY_MIGRATION_LOCK_ID})`);
    await holder.end();

    await Promise.all(tasks.map((task) => task.running));

    const migrations = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(database.db);
    const appliedBy = tasks.map((task) => task.logLines().find((line) => line.msg === "migrations applied" || line.msg === "database schema up to date")!.applied ?? []);
    // One task applied all of them; the other, which got the lock second, found the schema up to date.
    expect(appliedBy.map((list) => list.length).sort()).toEqual([0, migrations.rows.length]);
    expect(appliedBy.flat().sort()).toEqual(migrations.rows.map((row) => row.name));
    expect(new Set(migrations.rows.map((row) => row.name)).size).toBe(migrations.rows.length);
    // Both seeded concurrently (insert … on conflict do nothing): the catalogue is there once.
    const products = await sql<{ n: number; distinct_ids: number }>`select count(*)::int as n, count(distinct id)::int as distinct_ids from product`.execute(database.db);
    expect(products.rows[0]!.n).toBeGreaterThan(0);
    expect(products.rows[0]!.n).toBe(products.rows[0]!.distinct_ids);

    for (const task of tasks) {
      const exited = new Promise((resolve) => task.child.once("exit", resolve));
      task.child.kill("SIGTERM");
      await exited;
      children.delete(task.child);
    }
  }, 90_000);
});
