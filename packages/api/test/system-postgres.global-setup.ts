// The "api-system-postgres" project's database: the external server at SYSTEM_DATABASE_URL (by default this machine
// kind's PostgreSQL 15), which each test file creates its own fresh database on, as on the embedded one.
import type { TestProject } from "vitest/node";
import { SYSTEM_POSTGRES_URL, systemPostgresLabel, systemPostgresVersion } from "./system-postgres.ts";

export default async function setup(project: TestProject): Promise<void> {
  const version = await systemPostgresVersion();
  if (!version) throw new Error(`[system-postgres] no PostgreSQL answers at ${systemPostgresLabel} any more`);
  console.log(`[system-postgres] the API integration tests against PostgreSQL ${version} at ${systemPostgresLabel}`);
  project.provide("pgAdminUrl", SYSTEM_POSTGRES_URL);
}
