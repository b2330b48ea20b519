// A fresh, migrated (and optionally seeded) database per test file, dropped afterwards.
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import pg from "pg";
import { inject } from "vitest";
import { createDb, migrateToLatest, seedCatalog, seedPromotions, type Database } from "../../src/index.ts";

export interface TestDatabase {
  url: string;
  name: string;
  db: Kysely<Database>;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function asAdmin(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Creates `checkout_test_<random>` on the run's server and migrates it. `seed` (default true) loads the demo
 * catalogue; `promotions` (default false) the demo promo codes too.
 */
export async function createTestDatabase(options: { seed?: boolean; promotions?: boolean; poolSize?: number } = {}): Promise<TestDatabase> {
  const adminUrl = inject("pgAdminUrl");
  const name = `checkout_test_${randomBytes(6).toString("hex")}`;
  await asAdmin(adminUrl, `create database ${name}`);
  const url = withDatabase(adminUrl, name);
  const db = createDb({ connectionString: url, max: options.poolSize ?? 20, applicationName: "checkout-core-test" });
  await migrateToLatest(db);
  if (options.seed ?? true) await seedCatalog(db);
  if (options.promotions) await seedPromotions(db);
  return {
    url,
    name,
    db,
    async drop() {
      await db.destroy();
      await asAdmin(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}
