// A fresh, migrated (and optionally seeded) database per test file, dropped afterwards.
//
// Migrating and seeding costs a second or more of CPU per database, and a run makes over a hundred, so each is a copy
// (CREATE DATABASE … TEMPLATE) of a template built once per server: `checkout_tpl_<hash>_<seeded|empty>`, where the
// hash covers every source file of core (migrations, status constraints, seed data). The template is built under an
// advisory lock, so parallel workers build it once; a changed core gets a new template, and the old ones are dropped.
// Promotions are never in a template: their validity windows are relative to the moment they are seeded.
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Kysely } from "kysely";
import pg from "pg";
import { inject } from "vitest";
import { createDb, migrateToLatest, seedCatalog, seedPromotions, type Database } from "../../src/index.ts";
// The admin URL of the server the run shares, as the global setup provides it (its ProvidedContext declaration).
import type {} from "./postgres.global-setup.ts";

export interface TestDatabase {
  url: string;
  name: string;
  db: Kysely<Database>;
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Load the demo catalogue (default true). */
  seed?: boolean;
  /** Load the demo promo codes too (default false). */
  promotions?: boolean;
  /** The pool's size (default 20). */
  poolSize?: number;
  /** The pool's application_name (default "checkout-core-test"). */
  applicationName?: string;
}

const TEMPLATE_PREFIX = "checkout_tpl_";
const coreSource = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src");

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A digest of core's source (tests excluded): what a migrated and seeded database is made from. */
function coreDigest(): string {
  const hash = createHash("sha256");
  const files = (readdirSync(coreSource, { recursive: true }) as string[]).filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts")).sort();
  for (const file of files)
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(path.join(coreSource, file)))
      .update("\0");
  return hash.digest("hex").slice(0, 16);
}

let digest: string | undefined;
const templates = new Map<string, Promise<string>>();

/** The name of a template on this server, migrated and (if `seeded`) seeded, built now if it is not there yet. */
function template(adminUrl: string, seeded: boolean): Promise<string> {
  digest ??= coreDigest();
  const name = `${TEMPLATE_PREFIX}${digest}_${seeded ? "seeded" : "empty"}`;
  const key = `${adminUrl} ${name}`;
  let pending = templates.get(key);
  if (!pending) {
    pending = buildTemplate(adminUrl, digest, name, seeded);
    templates.set(key, pending);
    pending.catch(() => templates.delete(key));
  }
  return pending;
}

async function buildTemplate(adminUrl: string, digest: string, name: string, seeded: boolean): Promise<string> {
  await withAdmin(adminUrl, async (admin) => {
    // One builder per server at a time; whoever waits finds the template made.
    await admin.query("select pg_advisory_lock(hashtext('checkout test database templates'))");
    try {
      const exists = await admin.query("select 1 from pg_database where datname = $1", [name]);
      if (exists.rowCount) return;
      // Templates of an older core (an external server keeps them between runs) are dropped; one in use is left.
      const stale = await admin.query<{ datname: string }>("select datname from pg_database where datname like $1 and datname not like $2", [
        `${TEMPLATE_PREFIX}%`,
        `${TEMPLATE_PREFIX}${digest}_%`,
      ]);
      for (const { datname } of stale.rows) await admin.query(`drop database if exists ${datname}`).catch(() => undefined);
      // Built under another name and renamed when complete, so a template that exists is always whole.
      const building = `${name}_build`;
      await admin.query(`drop database if exists ${building} with (force)`);
      await admin.query(`create database ${building}`);
      const db = createDb({ connectionString: withDatabase(adminUrl, building), max: 2, applicationName: "checkout-test-template" });
      try {
        await migrateToLatest(db);
        if (seeded) await seedCatalog(db);
      } finally {
        await db.destroy();
      }
      await admin.query(`alter database ${building} rename to ${name}`);
    } finally {
      await admin.query("select pg_advisory_unlock(hashtext('checkout test database templates'))");
    }
  });
  return name;
}

/** Copies a template into a new database, retrying while a backend that just left the template is still exiting. */
async function copyTemplate(admin: pg.Client, name: string, from: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.query(`create database ${name} template ${from}`);
      return;
    } catch (error) {
      const busy = error instanceof Error && /is being accessed by other users/.test(error.message);
      if (!busy || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Creates `checkout_test_<random>` on the run's server, migrated and (by default) seeded with the demo catalogue, as a
 * copy of the server's template; `promotions` loads the demo promo codes on top.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = inject("pgAdminUrl");
  const seeded = options.seed ?? true;
  const name = `checkout_test_${randomBytes(6).toString("hex")}`;
  const from = await template(adminUrl, seeded);
  try {
    await withAdmin(adminUrl, (admin) => copyTemplate(admin, name, from));
  } catch (error) {
    // Another run on the same server (an older core) dropped it as stale: build it again, once.
    if (!(error instanceof Error && /template database .* does not exist/.test(error.message))) throw error;
    templates.delete(`${adminUrl} ${from}`);
    const rebuilt = await template(adminUrl, seeded);
    await withAdmin(adminUrl, (admin) => copyTemplate(admin, name, rebuilt));
  }
  const url = withDatabase(adminUrl, name);
  const db = createDb({ connectionString: url, max: options.poolSize ?? 20, applicationName: options.applicationName ?? "checkout-core-test" });
  if (options.promotions) await seedPromotions(db);
  return {
    url,
    name,
    db,
    async drop() {
      await db.destroy();
      await withAdmin(adminUrl, (admin) => admin.query(`drop database if exists ${name} with (force)`));
    },
  };
}
