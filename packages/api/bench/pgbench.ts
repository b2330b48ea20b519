// The database's own speed for the API's reads, measured in the same run: pgbench sends the very SQL the API sends
// for cart.get (captured from core's Cart.get as Kysely compiles it), as prepared statements, with as many clients as
// the API's pool has connections, against the same PostgreSQL. cart.get's req/s over pgbench's tps is how close the
// API comes to the database it stands on.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { sampleProcessTreeCpu } from "@checkout/bench-support";
import { Cart, type Database } from "@checkout/core";

export interface PgbenchResult {
  label: string;
  /** What ran, as shown in the report. */
  command: string;
  clients: number;
  transactions: number;
  failed: number;
  /** pgbench's "tps … (without initial connection time)". */
  tps: number;
  /** PostgreSQL's CPU over the window (100 = one core; its backends sampled every 200 ms), when known. */
  databaseCpuPercent: number | null;
}

/** pgbench on PATH (or PGBENCH), or null when this machine has none (Debian: apt-get install postgresql-client). */
export function findPgbench(): string | null {
  const candidates = process.env.PGBENCH ? [process.env.PGBENCH] : (process.env.PATH ?? "").split(path.delimiter).map((dir) => path.join(dir, "pgbench"));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

/** The one statement core's Cart.get sends for a cart, as Kysely compiles it, with its parameter as a pgbench variable. */
export async function cartReadScript(databaseUrl: string, cartId: string): Promise<string> {
  const statements: { sql: string; parameters: readonly unknown[] }[] = [];
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === "query") statements.push({ sql: event.query.sql, parameters: event.query.parameters });
    },
  });
  try {
    await Cart.get({ db, cartId });
  } finally {
    await db.destroy();
  }
  const [read] = statements;
  if (statements.length !== 1 || !read) throw new Error(`Cart.get sent ${statements.length} statements; the pgbench comparison expects one`);
  if (read.parameters.length !== 1 || read.parameters[0] !== cartId) throw new Error(`Cart.get's statement takes ${read.parameters.length} parameters; expected the cart id alone`);
  return `${read.sql.replace(/\$1\b/g, ":cart_id")};\n`;
}

export async function runPgbench(input: {
  pgbench: string;
  label: string;
  databaseUrl: string;
  workDir: string;
  script: string;
  variables: Record<string, string>;
  clients: number;
  /** Seconds of load, or a fixed number of transactions per client (a smoke run). */
  window: { seconds: number } | { transactionsPerClient: number };
  /** PostgreSQL's postmaster, whose backends (pgbench's connections) are sampled for CPU; null when not on this machine. */
  databasePid: number | null;
}): Promise<PgbenchResult> {
  const scriptPath = path.join(input.workDir, `${input.label.replace(/[^a-z0-9]+/gi, "-")}.sql`);
  await writeFile(scriptPath, input.script);
  const window = "seconds" in input.window ? ["-T", String(input.window.seconds)] : ["-t", String(input.window.transactionsPerClient)];
  const variables = Object.entries(input.variables).flatMap(([name, value]) => ["-D", `${name}=${value}`]);
  const args = ["-n", "-M", "prepared", "-c", String(input.clients), "-j", String(Math.min(2, input.clients)), ...window, ...variables, "-f", scriptPath, input.databaseUrl];
  const cpu = input.databasePid === null ? null : sampleProcessTreeCpu(input.databasePid);
  const startedAt = performance.now();
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(input.pgbench, args, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(text) : reject(new Error(`pgbench exited with ${code}:\n${text.slice(-2000)}`))));
  });
  const seconds = (performance.now() - startedAt) / 1000;
  const databaseCpuSeconds = cpu?.stop() ?? null;
  const number = (pattern: RegExp) => {
    const found = pattern.exec(output)?.[1];
    if (found === undefined) throw new Error(`pgbench's output has no ${pattern}:\n${output.slice(-2000)}`);
    return Number(found);
  };
  return {
    label: input.label,
    command: `pgbench -M prepared -c ${input.clients} ${window.join(" ")}`,
    clients: input.clients,
    transactions: number(/number of transactions actually processed: (\d+)/),
    failed: /number of failed transactions: (\d+)/.test(output) ? number(/number of failed transactions: (\d+)/) : 0,
    tps: number(/tps = ([\d.]+) \(without initial connection time\)/),
    databaseCpuPercent: databaseCpuSeconds === null ? null : (100 * databaseCpuSeconds) / seconds,
  };
}
