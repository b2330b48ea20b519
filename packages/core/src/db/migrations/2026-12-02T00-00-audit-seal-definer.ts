// The service runs as a role with INSERT and SELECT on audit_log only (docs/OPERATIONS.md "Database roles"), but the
// commit-time seal fills seq, prev_hash and hash with an UPDATE: the seal now runs with its owner's rights (SECURITY
// DEFINER), so a role that may only append still gets its rows linked. Frozen in time: typed Kysely<any>.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // A definer function must not resolve names through a search_path its caller controls: pinned to this schema.
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = sql.id(rows[0]!.schema);
  await sql`alter function audit_log_seal() security definer set search_path = ${schema}, pg_temp`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter function audit_log_seal() security invoker reset search_path`.execute(db);
}
