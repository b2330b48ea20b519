// Starts one real PostgreSQL for core's database tests: embedded by default (its own port and temp data dir), or the
// server named by TEST_DATABASE_URL (as the API's tests do), e.g. postgres://postgres@127.0.0.1:5432/test.
// Each test file then creates its own database on it (createTestDatabase).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { freePort, startEmbeddedPostgres } from "./embedded-postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide("pgAdminUrl", external);
    return async () => {};
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "checkout-core-test-pg-"));
  const server = await startEmbeddedPostgres({ dataDir, port: await freePort() });
  project.provide("pgAdminUrl", server.url("postgres"));
  return async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
