// The operator commands' command lines, each run as an operator runs it (its own process): `--help` and `-h` print the
// help and exit 0; an unknown option, a typo or a stray argument is one line on stderr and exit 2, before the command
// reads its settings or touches a database. Most runs point DATABASE_URL at a port nothing listens on, so a command
// that ran anyway would say so (exit 1 and a connection error, as the control case shows); two run against a real
// database that a run would change, and the root package.json's wrappers pass the arguments through.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Cart } from "@checkout/core";
import { freePort } from "../scripts/free-port.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";

const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(apiRoot, "../..");

interface Command {
  name: string;
  /** The script and any subcommand, as `node --import tsx` is given them. */
  argv: string[];
  /** A phrase from the command's own help. */
  helpSays: string;
}

const COMMANDS: Command[] = [
  { name: "reconcile", argv: ["src/cli/reconcile.ts"], helpSays: "pnpm reconcile — settle orders stuck between states" },
  { name: "outbox:dispatch", argv: ["src/cli/outbox-dispatch.ts"], helpSays: "pnpm outbox:dispatch — deliver pending outbox events" },
  { name: "retention:purge", argv: ["src/cli/retention-purge.ts"], helpSays: "pnpm retention:purge — one retention purge" },
  { name: "audit:verify", argv: ["src/cli/audit-verify.ts"], helpSays: "pnpm audit:verify [--json]" },
  { name: "migrate", argv: ["src/main.ts", "migrate"], helpSays: "bring the database schema up to date" },
  { name: "server", argv: ["src/main.ts"], helpSays: "The checkout server" },
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// The describes below run side by side (at most vitest's maxConcurrency, five, at once), each command its own process.
function run(file: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr });
    });
  });
}

/** `node --import tsx <command> <args>` in packages/api with `env` over a test environment. */
function runCommand(command: Command, args: string[], env: Record<string, string>): Promise<Run> {
  return run(process.execPath, ["--import", "tsx", ...command.argv, ...args], { cwd: apiRoot, env: { NODE_ENV: "test", LOG_LEVEL: "info", ...env } });
}

let unreachable: Record<string, string>;
beforeAll(async () => {
  // Nothing listens there: a command that got as far as its database would fail to connect, loudly.
  const port = await freePort();
  unreachable = { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/checkout`, PORT: String(await freePort()), PAYMENT_SANDBOX_PORT: String(await freePort()) };
});

describe.concurrent("the control: a command line that is accepted runs", () => {
  it("reconcile with no arguments goes to its database (and fails to reach this one)", async () => {
    const result = await runCommand(COMMANDS[0]!, [], unreachable);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ECONNREFUSED/);
  });
});

// migrate is refused against a database it would change, below.
describe.concurrent.each(COMMANDS.filter((command) => command.name !== "migrate"))("$name", (command) => {
  it("refuses an unknown option with one line naming it and exit 2, doing nothing else", async () => {
    const result = await runCommand(command, ["--bogus"], unreachable);
    expect(result).toEqual({ code: 2, stdout: "", stderr: `${command.name}: unknown option --bogus (see --help)\n` });
  });
});

describe.concurrent.each(COMMANDS)("$name", (command) => {
  it("prints its help for --help and exits 0, doing nothing else", async () => {
    const result = await runCommand(command, ["--help"], unreachable);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(command.helpSays);
    expect(result.stderr).toBe("");
  });
});

// The other ways a command line goes wrong are parseOptions's cases (src/cli/help.test.ts); these two run the process.
describe.concurrent("a typo", () => {
  it("the server refuses `mgirate` instead of starting", async () => {
    const result = await runCommand(COMMANDS[5]!, ["mgirate"], unreachable);
    expect(result).toEqual({ code: 2, stdout: "", stderr: "server: unexpected argument mgirate (see --help)\n" });
  });

  it("-h is --help", async () => {
    const result = await runCommand(COMMANDS[3]!, ["-h"], unreachable);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(COMMANDS[3]!.helpSays);
  });
});

// Each test has a database of its own, so the two run side by side.
describe.concurrent("against a database a run would change", () => {
  let database: TestDatabase;
  let emptyUrl: string;
  let emptyName: string;
  const admin = () => new pg.Client({ connectionString: inject("pgAdminUrl") });

  beforeAll(async () => {
    database = await createTestDatabase();
    emptyName = `checkout_cli_args_${randomBytes(4).toString("hex")}`;
    const client = admin();
    await client.connect();
    await client.query(`create database ${emptyName}`);
    await client.end();
    const url = new URL(database.url);
    url.pathname = `/${emptyName}`;
    emptyUrl = url.toString();
  });

  afterAll(async () => {
    await database?.drop();
    const client = admin();
    await client.connect();
    await client.query(`drop database if exists ${emptyName} with (force)`);
    await client.end();
  });

  async function hasCart(id: string): Promise<boolean> {
    return (await database.db.selectFrom("cart").select("id").where("id", "=", id).executeTakeFirst()) !== undefined;
  }

  async function hasMigrations(): Promise<boolean> {
    const client = new pg.Client({ connectionString: emptyUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ found: string | null }>("select to_regclass('public.kysely_migration')::text as found");
      return rows[0]!.found !== null;
    } finally {
      await client.end();
    }
  }

  it("retention:purge --bogus leaves an abandoned cart a purge deletes", async () => {
    const { id } = await Cart.create({ db: database.db, currency: "USD" });
    const longAgo = sql<Date>`now() - interval '30 days'`;
    await database.db.updateTable("cart").set({ created_at: longAgo, updated_at: longAgo }).where("id", "=", id).execute();
    const env = { DATABASE_URL: database.url, CART_RETENTION_DAYS: "10" };

    const refused = await runCommand(COMMANDS[2]!, ["--bogus"], env);
    expect(refused).toEqual({ code: 2, stdout: "", stderr: "retention:purge: unknown option --bogus (see --help)\n" });
    expect(await hasCart(id)).toBe(true);

    const purged = await runCommand(COMMANDS[2]!, [], env);
    expect(purged.code, purged.stderr).toBe(0);
    expect(await hasCart(id)).toBe(false);
  });

  it("migrate --hlep leaves an empty database empty; migrate migrates it", async () => {
    const refused = await runCommand(COMMANDS[4]!, ["--hlep"], { DATABASE_URL: emptyUrl });
    expect(refused).toEqual({ code: 2, stdout: "", stderr: "migrate: unknown option --hlep (see --help)\n" });
    expect(await hasMigrations()).toBe(false);

    const migrated = await runCommand(COMMANDS[4]!, [], { DATABASE_URL: emptyUrl, LOG_LEVEL: "warn" });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(await hasMigrations()).toBe(true);
  });
});

describe.concurrent("the root package.json's wrappers (pnpm --filter) pass the arguments through", () => {
  it("pnpm reconcile --bogus exits 2 with the command's line; pnpm reconcile --help prints its help", async () => {
    const [refused, help] = await Promise.all([
      run("pnpm", ["--silent", "reconcile", "--bogus"], { cwd: repoRoot, env: { NODE_ENV: "test", ...unreachable } }),
      run("pnpm", ["--silent", "reconcile", "--help"], { cwd: repoRoot, env: { NODE_ENV: "test", ...unreachable } }),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("reconcile: unknown option --bogus (see --help)\n");
    expect(refused.stderr).not.toMatch(/ECONNREFUSED/);

    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain(COMMANDS[0]!.helpSays);
  });
});
