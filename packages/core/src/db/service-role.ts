// Least privilege: the role the service connects as, created or brought in line by the migrate command (run as the
// owner, after the migrations). Data rights only: it owns nothing, so it can alter, drop or disable nothing, and
// audit_log is append-only for it (INSERT, SELECT). Re-granted from scratch on every run, so new tables are covered.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { sql, type Kysely } from "kysely";
import pg from "pg";

/** Evidence: the service may add rows and read them, never change or remove one. */
export const APPEND_ONLY_TABLES = ["audit_log"] as const;
/** The migrator's bookkeeping: read by MIGRATIONS=verify, written only by the owner. */
export const READ_ONLY_TABLES = ["kysely_migration", "kysely_migration_lock"] as const;
const DATA_PRIVILEGES = "select, insert, update, delete";

export class ServiceRoleError extends Error {
  override readonly name = "ServiceRoleError";
}

export interface ServiceRoleGrant {
  role: string;
  created: boolean;
  /** Each table of the schema and what the role may do to it. */
  tables: Record<string, string>;
  /** Role memberships taken away (the role must not inherit anyone's rights). */
  revokedMemberships: string[];
}

/**
 * The password as a SCRAM-SHA-256 verifier (RFC 5803, as PostgreSQL stores it), so the plain password never reaches
 * the server's statement log. SASLprep leaves printable ASCII unchanged; anything else is sent as is for the server to hash.
 */
export function scramVerifier(password: string): string {
  if (!/^[\x20-\x7e]+$/.test(password)) return password;
  const salt = randomBytes(16);
  const iterations = 4096;
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/**
 * Creates `role` (LOGIN, `password`) or updates its password, then in one transaction: takes away any role membership,
 * revokes everything on the schema's tables and sequences and grants CONNECT on the database, USAGE on the schema,
 * select/insert/update/delete on the app's tables, INSERT and SELECT on audit_log, SELECT on the migrator's tables and
 * USAGE/SELECT on sequences. Refuses a role that is the connecting user, owns tables, or holds attributes (SUPERUSER,
 * CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS) an owner cannot take away.
 */
export async function grantServiceRole(options: { db: Kysely<any>; role: string; password: string }): Promise<ServiceRoleGrant> {
  const { role, password } = options;
  const id = sql.raw(pg.escapeIdentifier(role));
  return options.db.transaction().execute(async (trx) => {
    // Tasks starting together each run `migrate`: one grant at a time (concurrent GRANTs on a table can fail outright).
    await sql`select pg_advisory_xact_lock(hashtextextended('checkout.service_role', 0))`.execute(trx);
    const { rows: context } = await sql<{ user: string; database: string; schema: string }>`
      select current_user as user, current_database() as database, current_schema() as schema`.execute(trx);
    const { user, database, schema } = context[0]!;
    if (role === user) throw new ServiceRoleError(`the service role must not be the owner that runs the migrations (${user})`);
    const schemaId = sql.raw(pg.escapeIdentifier(schema));

    const { rows: existing } = await sql<{ unsafe: string[] }>`
      select array_remove(array[
        case when rolsuper then 'SUPERUSER' end, case when rolcreaterole then 'CREATEROLE' end,
        case when rolcreatedb then 'CREATEDB' end, case when rolreplication then 'REPLICATION' end,
        case when rolbypassrls then 'BYPASSRLS' end], null) as unsafe
      from pg_roles where rolname = ${role}`.execute(trx);
    const verifier = sql.raw(pg.escapeLiteral(scramVerifier(password)));
    if (existing.length === 0) await sql`create role ${id} login password ${verifier}`.execute(trx);
    else await sql`alter role ${id} with login password ${verifier}`.execute(trx);
    const unsafe = existing[0]?.unsafe ?? [];
    if (unsafe.length > 0) throw new ServiceRoleError(`role ${role} has ${unsafe.join(", ")}: drop it or take them away as a superuser first`);

    const { rows: owned } = await sql<{ name: string }>`
      select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relowner = (select oid from pg_roles where rolname = ${role})`.execute(trx);
    if (owned.length > 0) throw new ServiceRoleError(`role ${role} owns ${owned.map((row) => row.name).join(", ")}: the service must own nothing`);

    const { rows: memberships } = await sql<{ name: string }>`
      select g.rolname as name from pg_auth_members m
      join pg_roles g on g.oid = m.roleid join pg_roles r on r.oid = m.member where r.rolname = ${role}`.execute(trx);
    for (const { name } of memberships) await sql`revoke ${sql.raw(pg.escapeIdentifier(name))} from ${id}`.execute(trx);

    await sql`grant connect on database ${sql.raw(pg.escapeIdentifier(database))} to ${id}`.execute(trx);
    await sql`revoke all on schema ${schemaId} from ${id}`.execute(trx);
    // Before PostgreSQL 15 every role could create in `public`; only the owner should (a warning, not an error, if not ours).
    await sql`revoke create on schema ${schemaId} from public`.execute(trx);
    await sql`grant usage on schema ${schemaId} to ${id}`.execute(trx);
    await sql`revoke all on all tables in schema ${schemaId} from ${id}`.execute(trx);
    await sql`revoke all on all sequences in schema ${schemaId} from ${id}`.execute(trx);
    await sql`revoke all on all functions in schema ${schemaId} from ${id}`.execute(trx);
    await sql`grant usage, select on all sequences in schema ${schemaId} to ${id}`.execute(trx);

    const { rows: tables } = await sql<{ name: string }>`
      select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relkind in ('r', 'p') order by c.relname`.execute(trx);
    const granted: Record<string, string> = {};
    for (const { name } of tables) {
      const privileges = (APPEND_ONLY_TABLES as readonly string[]).includes(name)
        ? "select, insert"
        : (READ_ONLY_TABLES as readonly string[]).includes(name)
          ? "select"
          : DATA_PRIVILEGES;
      await sql`grant ${sql.raw(privileges)} on table ${schemaId}.${sql.raw(pg.escapeIdentifier(name))} to ${id}`.execute(trx);
      granted[name] = privileges;
    }
    return { role, created: existing.length === 0, tables: granted, revokedMemberships: memberships.map((row) => row.name) };
  });
}
