// Starts one real PostgreSQL for the test run: embedded by default (own port, own temp data dir),
// or the server named by TEST_DATABASE_URL. Each test file then creates its own fresh database.
// The projects that use this setup (api, loadtest-service, browser) share one embedded server: vitest runs each
// project's global setup in its one main process, so the first starts it and the last teardown stops it.
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

interface SharedServer {
  url: Promise<string>;
  users: number;
  stop: () => Promise<void>;
}

// On globalThis, not in a module variable: vitest may load this file once per project.
const KEY = Symbol.for("checkout.test.embeddedPostgres");
const shared = globalThis as typeof globalThis & { [KEY]?: SharedServer };

function startShared(): SharedServer {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "checkout-test-pg-"));
  const server = (async () => startEmbeddedPostgres({ dataDir, port: await freePort() }))();
  return {
    url: server.then((started) => started.url("postgres")),
    users: 0,
    stop: async () => {
      await (await server).stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide("pgAdminUrl", external);
    return async () => {};
  }
  const server = shared[KEY] ?? startShared();
  shared[KEY] = server;
  server.users += 1;
  project.provide("pgAdminUrl", await server.url);
  return async () => {
    server.users -= 1;
    if (server.users > 0) return;
    delete shared[KEY];
    await server.stop();
  };
}
