// Starts one real PostgreSQL for the test run: embedded by default (own port, own temp data dir),
// or the server named by TEST_DATABASE_URL. Each test file then creates its own fresh database.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { freePort } from "../scripts/free-port.ts";
import { startEmbeddedPostgres } from "../src/embedded-postgres.ts";

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
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "checkout-test-pg-"));
  const port = await freePort();
  const server = await startEmbeddedPostgres({ dataDir, port });
  project.provide("pgAdminUrl", server.url("postgres"));
  return async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
