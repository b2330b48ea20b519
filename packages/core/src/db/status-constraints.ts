// The database's CHECK constraints on status columns, generated from the same lists the code types its statuses with
// (schemas.ts), so the two cannot drift: `migrate` brings each constraint in line after the migrations run,
// replacing it only when the list it allows differs, and `MIGRATIONS=verify` refuses a database whose lists differ.
import { sql, type Kysely } from "kysely";
import { orderStatuses, paymentStatuses, refundStatuses } from "../schemas.ts";

export interface StatusConstraint {
  table: string;
  column: string;
  name: string;
  values: readonly string[];
}

export const statusConstraints: readonly StatusConstraint[] = [
  { table: "order", column: "status", name: "order_status_known", values: orderStatuses },
  { table: "payment", column: "status", name: "payment_status_known", values: paymentStatuses },
  { table: "refund", column: "status", name: "refund_status_known", values: refundStatuses },
];

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The values each constraint allows today, read back from the catalogue (null when the constraint is missing). */
async function allowedNow(db: Kysely<any>, constraint: StatusConstraint): Promise<string[] | null> {
  const { rows } = await sql<{ definition: string }>`
    select pg_get_constraintdef(c.oid) as definition
    from pg_constraint c join pg_class t on t.oid = c.conrelid
    where t.relname = ${constraint.table} and t.relnamespace = current_schema()::regnamespace and c.conname = ${constraint.name}`.execute(db);
  if (rows.length === 0) return null;
  return [...rows[0]!.definition.matchAll(/'((?:[^']|'')*)'/g)].map((match) => match[1]!.replaceAll("''", "'"));
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");
}

/** The constraints whose allowed values differ from the code's lists. */
export async function driftedStatusConstraints(db: Kysely<any>): Promise<StatusConstraint[]> {
  const drifted: StatusConstraint[] = [];
  for (const constraint of statusConstraints) {
    const allowed = await allowedNow(db, constraint);
    if (allowed === null || !sameValues(allowed, constraint.values)) drifted.push(constraint);
  }
  return drifted;
}

/**
 * Replaces every drifted constraint with one generated from the code's list, each in one statement (which checks the
 * rows already there). Tasks starting together all run `migrate`: an advisory lock makes them take turns.
 */
export async function syncStatusConstraints(db: Kysely<any>): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('checkout.status_constraints'))`.execute(trx);
    const drifted = await driftedStatusConstraints(trx);
    for (const constraint of drifted) {
      const table = sql.id(constraint.table);
      const name = sql.id(constraint.name);
      const list = sql.raw(constraint.values.map(quoteLiteral).join(", "));
      await sql`alter table ${table} drop constraint if exists ${name}, add constraint ${name} check (${sql.id(constraint.column)} in (${list}))`.execute(trx);
    }
    return drifted.map((constraint) => constraint.name);
  });
}
