// Least privilege in the database: `migrate` (as the owner) grants the service role only data rights; that role cannot
// change or remove audit rows, disable the audit triggers, alter or drop tables or grant itself more, and the whole
// checkout (purchase, admin fulfil and refund, the audit chain sealed) runs as it with MIGRATIONS=verify.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sql, type Kysely } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Audit, Retention } from "@checkout/core";
import { runMigrations } from "../src/cli/migrate.ts";
import { loadDatabaseEnv, loadEnv } from "../src/env.ts";
import { retentionPolicyOf } from "../src/jobs/policies.ts";
import { createLogger } from "../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { CARDS, createAdminClient, readyCart } from "./support/app.ts";
import { startTestAppOn } from "./support/app-on-database.ts";

const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);
const ROLE = `checkout_app_${randomBytes(4).toString("hex")}`;
const PASSWORD = `svc-${randomBytes(18).toString("base64url")}`;
const ADMIN_TOKEN = `ops_${randomBytes(24).toString("hex")}`;
/** For the tests that start `main.ts` processes (node + tsx): on a busy machine each takes a while. */
const PROCESS_TEST = { timeout: 120_000 };
/** The test server's user, which creates and so owns the test database's tables. */
const OWNER = decodeURIComponent(new URL(inject("pgAdminUrl")).username);

let database: TestDatabase;
let serviceUrl: string;

function withUser(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(user);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** Runs `statement` as the service role; resolves to the error's SQLSTATE and message, or null if it succeeded. */
async function asService(statement: string): Promise<{ code: string; message: string } | null> {
  const client = new pg.Client({ connectionString: serviceUrl });
  await client.connect();
  try {
    await client.query(statement);
    return null;
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  } finally {
    await client.end();
  }
}

/** `node src/main.ts [args]` with only `env` (plus PATH): its exit code and output. */
async function main(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
      cwd: apiRoot,
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", LOG_LEVEL: "info", ...env },
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  const env = loadDatabaseEnv({ DATABASE_URL: database.url, SERVICE_DATABASE_USER: ROLE, SERVICE_DATABASE_PASSWORD: PASSWORD, LOG_LEVEL: "silent" });
  await runMigrations({ env, log: createLogger({ level: "silent" }) });
  serviceUrl = withUser(database.url, ROLE, PASSWORD);
});

afterAll(async () => {
  await database?.drop();
  const admin = new pg.Client({ connectionString: inject("pgAdminUrl") });
  await admin.connect();
  await admin.query(`drop role if exists ${pg.escapeIdentifier(ROLE)}`);
  await admin.end();
});

describe("the service role", () => {
  it("holds data rights only: no attributes, no memberships, owns nothing, audit_log INSERT and SELECT", async () => {
    const { rows } = await sql<Record<string, unknown>>`
            select r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls, r.rolcanlogin,
              (select count(*)::int from pg_auth_members m where m.member = r.oid) as memberships,
              (select count(*)::int from pg_class c where c.relowner = r.oid) as owned,
              array(select p from unnest(array['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p
                    where has_table_privilege(r.rolname, 'audit_log', p)) as audit_log,
              array(select p from unnest(array['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p
                    where has_table_privilege(r.rolname, 'public.order', p)) as orders,
              array(select p from unnest(array['SELECT','INSERT','UPDATE','DELETE']) p
                    where has_table_privilege(r.rolname, 'kysely_migration', p)) as migrations,
              has_schema_privilege(r.rolname, 'public', 'CREATE') as create_in_schema
            from pg_roles r where r.rolname = ${ROLE}`.execute(database.db);
    expect(rows[0]).toEqual({
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolreplication: false,
      rolbypassrls: false,
      rolcanlogin: true,
      memberships: 0,
      owned: 0,
      audit_log: ["SELECT", "INSERT"],
      orders: ["SELECT", "INSERT", "UPDATE", "DELETE"],
      migrations: ["SELECT"],
      create_in_schema: false,
    });
  });

  it("cannot change, remove or truncate audit rows", async () => {
    for (const statement of ["update audit_log set actor = 'someone else'", "delete from audit_log", "truncate audit_log"]) {
      expect(await asService(statement), statement).toMatchObject({ code: "42501", message: "permission denied for table audit_log" });
    }
  });

  it("cannot disable the audit triggers, alter or drop tables, or create its own", async () => {
    const refusals = {
      "alter table audit_log disable trigger audit_log_append_only": /must be owner of table audit_log/,
      "alter table audit_log disable trigger all": /must be owner of table audit_log/,
      "drop trigger audit_log_no_truncate on audit_log": /must be owner of (table|relation) audit_log/,
      "drop table audit_log": /must be owner of table audit_log/,
      'alter table "order" add column note text': /must be owner of table order/,
      "create trigger sneaky before update on audit_log for each row execute function audit_log_reject_change()": /permission denied for table audit_log/,
      "create table shadow (id int)": /permission denied for schema public/,
      "create or replace function audit_log_reject_change() returns trigger language plpgsql as $$ begin return new; end $$": /must be owner of function|permission denied/,
    };
    for (const [statement, message] of Object.entries(refusals)) {
      const error = await asService(statement);
      expect(error, statement).not.toBeNull();
      expect(error!.message, statement).toMatch(message);
    }
  });

  it("cannot grant itself more, become the owner, or change its own attributes", async () => {
    await asService(`grant update, delete, truncate on audit_log to ${ROLE}`);
    const { rows } = await sql<{ granted: boolean }>`
      select has_table_privilege(${ROLE}, 'audit_log', 'UPDATE') or has_table_privilege(${ROLE}, 'audit_log', 'DELETE')
        or has_table_privilege(${ROLE}, 'audit_log', 'TRUNCATE') as granted`.execute(database.db);
    expect(rows[0]!.granted).toBe(false);
    expect(await asService(`set role ${OWNER}`)).toMatchObject({ code: "42501" });
    expect(await asService(`alter role ${ROLE} superuser`)).toMatchObject({ code: "42501" });
    expect(await asService(`alter role ${ROLE} bypassrls`)).toMatchObject({ code: "42501" });
    expect(await asService(`grant ${OWNER} to ${ROLE}`)).toMatchObject({ code: "42501" });
  });
});

describe("the checkout as the service role", () => {
  it("sells, fulfils and refunds with MIGRATIONS=verify, and every audit row it writes is sealed into an intact chain", async () => {
    // The background jobs run too, often, as the same role: the outbox, the hold sweep, the reconciler (retention below).
    const jobs = { JOBS: "on", OUTBOX_POLL_MS: "100", HOLD_SWEEP_INTERVAL_MS: "100", RECONCILE_INTERVAL_MS: "200", RECONCILE_GRACE_MS: "0" };
    // On the file's database (migrated by its owner above), connected as the service role.
    const t = await startTestAppOn(database, { DATABASE_URL: serviceUrl, MIGRATIONS: "verify", CAPTURE_MODE: "on_fulfilment", ADMIN_API_TOKENS: `ops:${ADMIN_TOKEN}`, ...jobs });
    try {
      expect(t.logs.join("")).toMatch(/database schema up to date \(MIGRATIONS=verify\)/);
      const cartId = await readyCart(t.client, [{ sku: "MUG-SLA", quantity: 1 }]);
      const quote = await t.client.checkout.quote.mutate({ cartId });
      const order = await t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) });
      expect(order.status).toBe("authorised");

      const admin = createAdminClient(t.app.url, ADMIN_TOKEN);
      await admin.admin.orders.fulfil.mutate({ orderId: order.id });
      const refunded = await admin.admin.orders.refund.mutate({ orderId: order.id, amount: order.total, reason: "returned" });
      expect(refunded.status).toBe("refunded");

      // Read back as the owner: the service's rows are linked (the seal runs with its owner's rights) and the chain holds.
      const trail = await Audit.listForOrder(database.db, order.id);
      expect(trail.map((row) => row.action)).toEqual(expect.arrayContaining(["order.created", "payment.captured", "order.fulfilled", "payment.refunded"]));
      const unsealed = await database.db.selectFrom("audit_log").select("id").where("seq", "is", null).execute();
      expect(unsealed).toEqual([]);
      expect(await Audit.verifyChain(database.db)).toMatchObject({ ok: true });

      const purge = await Retention.purge({ db: t.app.services.db, policy: retentionPolicyOf(loadEnv({ NODE_ENV: "test" })), timeBudgetMs: 10_000 });
      expect(purge).toMatchObject({ carts: expect.any(Number), ordersErased: expect.any(Number) });
      await expect.poll(() => t.logs.join(""), { timeout: 15_000 }).toMatch(/"outbox dispatched"/);
      expect(t.logs.join("")).not.toMatch(/permission denied|background job failed/);
    } finally {
      await t.close();
    }
  });
});

describe("MIGRATIONS=verify", () => {
  it("refuses to start (exit 78, naming the migration) while one is pending, and applies nothing", PROCESS_TEST, async () => {
    // The migrator's bookkeeping is not in the app's Database type.
    const owner = database.db as unknown as Kysely<{ kysely_migration: { name: string; timestamp: string } }>;
    const latest = await owner.selectFrom("kysely_migration").select(["name", "timestamp"]).orderBy("name", "desc").executeTakeFirstOrThrow();
    await owner.deleteFrom("kysely_migration").where("name", "=", latest.name).execute();
    try {
      const refused = await main([], { DATABASE_URL: serviceUrl, MIGRATIONS: "verify", PORT: "0", HOST: "127.0.0.1", PAYMENT_SANDBOX_PORT: "0", JOBS: "off" });
      expect(refused.code).toBe(78);
      expect(refused.output).toContain(`1 migration(s) pending: ${latest.name}`);
      expect(refused.output).toMatch(/refusing to start \(MIGRATIONS=verify\)/);
      const after = await owner.selectFrom("kysely_migration").select("name").where("name", "=", latest.name).execute();
      expect(after).toEqual([]);
    } finally {
      await owner.insertInto("kysely_migration").values(latest).execute();
    }
  });
});

describe("the migrate command", () => {
  it("runs as `main.ts migrate`, takes back rights granted by hand, and keeps the role's new password", PROCESS_TEST, async () => {
    await sql`grant truncate, update on audit_log to ${sql.id(ROLE)}`.execute(database.db);
    const newPassword = `svc-${randomBytes(18).toString("base64url")}`;
    const result = await main(["migrate"], { DATABASE_URL: database.url, SERVICE_DATABASE_USER: ROLE, SERVICE_DATABASE_PASSWORD: newPassword });
    expect(result.output).toMatch(/service role granted/);
    expect(result.code).toBe(0);
    serviceUrl = withUser(database.url, ROLE, newPassword);
    expect(await asService("truncate audit_log")).toMatchObject({ code: "42501" });
    expect(await asService("select count(*) from audit_log")).toBeNull();
    expect(await asService("select 1 from order_line limit 1")).toBeNull();
  });

  // These two run side by side: neither changes anything the other reads.
  it.concurrent("refuses a service role that is the owner, and a half-given role (exit 78)", PROCESS_TEST, async () => {
    // Two processes at once: the half-given role is refused at configuration, before it touches the database.
    const [owner, half] = await Promise.all([
      main(["migrate"], { DATABASE_URL: database.url, SERVICE_DATABASE_USER: OWNER, SERVICE_DATABASE_PASSWORD: "x".repeat(20) }),
      main(["migrate"], { DATABASE_URL: database.url, SERVICE_DATABASE_USER: ROLE }),
    ]);
    expect(owner.code).toBe(1);
    expect(owner.output).toMatch(/must not be the owner/);
    expect(half.code).toBe(78);
    expect(half.output).toMatch(/SERVICE_DATABASE_USER and SERVICE_DATABASE_PASSWORD go together/);
  });

  it.concurrent("prints its own help", PROCESS_TEST, async () => {
    const help = await main(["migrate", "--help"], {});
    expect(help.code).toBe(0);
    expect(help.output).toMatch(/bring the database schema up to date, then grant the service role/);
  });
});
