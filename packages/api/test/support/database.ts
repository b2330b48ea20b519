// A fresh, migrated and seeded database per test file, dropped afterwards.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { createDb, migrateToLatest, seedCatalog, type Database } from "@checkout/core";
import type { Kysely } from "kysely";
// The admin URL of the server the run shares, as the global setup provides it (its ProvidedContext declaration).
import type {} from "../postgres.global-setup.ts";

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

export async function createTestDatabase(options: { seed?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject("pgAdminUrl");
  const name = `checkout_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const db = createDb({ connectionString: url, max: 20, applicationName: "checkout-test" });
  await migrateToLatest(db);
  if (options.seed ?? true) await seedCatalog(db);
  return {
    url,
    name,
    db,
    async drop() {
      await db.destroy();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
