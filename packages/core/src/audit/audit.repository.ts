// The audit trail: every order and payment state change writes one row, in the same transaction.
// The database links each row into a hash chain when its transaction commits (migration
// 2026-11-24T02-40-audit) and refuses UPDATE, DELETE and TRUNCATE; verifyChain re-checks every link here.
import { sql, type RawBuilder } from "kysely";
import type { Db, NewAuditLog } from "../db/database.ts";
import { findBreak, type ChainLink, type ChainVerdict } from "./audit-chain.ts";

export { GENESIS_HASH, linkHash, type ChainVerdict } from "./audit-chain.ts";

export interface AuditEntry {
  entity: "order" | "payment" | "cart" | "inventory" | "promotion" | "admin";
  entityId: string;
  action: string;
  /** Who acted: "system", "shopper", "admin:<name>", "provider", "reconciler". */
  actor?: string;
  outcome?: "success" | "failure";
  /** Where the action came from: IP address and user agent of the request, when there was one. */
  origin?: { ip?: string; userAgent?: string };
  data?: Record<string, unknown>;
}

export interface AuditRecord {
  id: number;
  /** Place in the hash chain; null only inside the writing transaction, before it commits. */
  seq: number | null;
  entity: string;
  entityId: string;
  action: string;
  actor: string;
  outcome: string;
  origin: Record<string, unknown>;
  data: Record<string, unknown>;
  createdAt: string;
  hash: string | null;
}

/** The row an entry is written as, with the defaults: actor "system", outcome "success", no origin, no data. */
function entryToRow(entry: AuditEntry): NewAuditLog {
  return {
    entity: entry.entity,
    entity_id: entry.entityId,
    action: entry.action,
    actor: entry.actor ?? "system",
    outcome: entry.outcome ?? "success",
    origin: JSON.stringify(entry.origin ?? {}),
    data: JSON.stringify(entry.data ?? {}),
  };
}

/**
 * Appends one row. No lock is taken here: the row is linked into the chain at COMMIT by a deferred
 * trigger holding pg_advisory_xact_lock, so it works the same inside a caller's transaction or with
 * the plain db (a one-statement transaction). created_at is the database's transaction time, hashed
 * at its full microsecond precision as PostgreSQL renders it, so no clock of ours enters the hash.
 */
export function record(db: Db, entry: AuditEntry) {
  return db.insertInto("audit_log").values(entryToRow(entry)).execute();
}

/** Appends several rows in one statement, in the order given (a batch job's trail, one round trip); linked at COMMIT like `record`. */
export async function recordMany(db: Db, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.insertInto("audit_log").values(entries.map(entryToRow)).execute();
}

export function listForEntity(db: Db, entity: string, entityId: string) {
  return db.selectFrom("audit_log").selectAll().where("entity", "=", entity).where("entity_id", "=", entityId).orderBy("id").execute();
}

/** An order's whole trail in chain order: its own rows and every row about it (payments, stock, admin actions) naming it in data.orderId. */
export async function listForOrder(db: Db, orderId: string): Promise<AuditRecord[]> {
  const rows = await db
    .selectFrom("audit_log")
    .selectAll()
    .where((eb) => eb.or([eb.and([eb("entity", "=", "order"), eb("entity_id", "=", orderId)]), eb(sql`data->>'orderId'`, "=", orderId)]))
    .orderBy(sql`seq nulls last`)
    .orderBy("id")
    .execute();
  return rows.map((row) => ({
    id: Number(row.id),
    seq: row.seq,
    entity: row.entity,
    entityId: row.entity_id,
    action: row.action,
    actor: row.actor,
    outcome: row.outcome,
    origin: row.origin,
    data: row.data,
    createdAt: row.created_at.toISOString(),
    hash: row.hash,
  }));
}

/**
 * The canonical serialisation of a row, as the chain hashes it: the jsonb text of [seq, id, entity,
 * entity_id, action, actor, outcome, origin, data, created_at in UTC to the microsecond]. jsonb text
 * is a pure function of the stored value, so any change to any of those fields changes it.
 * Must stay byte-identical to the expression in migration 2026-11-24T02-40-audit.
 */
const canonical: RawBuilder<string> = sql<string>`jsonb_build_array(seq, id, entity, entity_id, action, actor, outcome, origin, data,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text`;

const BATCH = 5000;

async function walkChain(db: Db): Promise<ChainVerdict> {
  let previous: { seq: number; hash: string } | null = null;
  let after: { seq: number; id: number } | null = null;
  let rows = 0;
  for (;;) {
    const cursor = after;
    const batch = await db
      .selectFrom("audit_log")
      .select(["id", "seq", "prev_hash", "hash", canonical.as("canonical")])
      .where("seq", "is not", null)
      .$if(cursor !== null, (qb) => qb.where(sql<boolean>`(seq, id) > (${cursor?.seq}, ${cursor?.id})`))
      .orderBy("seq")
      .orderBy("id")
      .limit(BATCH)
      .execute();
    for (const row of batch) {
      const link: ChainLink = { id: Number(row.id), seq: row.seq, prevHash: row.prev_hash, hash: row.hash, canonical: row.canonical };
      const reason = findBreak(previous, link);
      if (reason) return { ok: false, firstBrokenId: link.id, reason };
      previous = { seq: link.seq!, hash: link.hash! };
      after = { seq: link.seq!, id: link.id };
      rows += 1;
    }
    if (batch.length < BATCH) break;
  }
  // Committed rows are always linked; one without a link was written with the trigger switched off.
  const unlinked = await db
    .selectFrom("audit_log")
    .select(["id", "seq", "prev_hash", "hash"])
    .where((eb) => eb.or([eb("seq", "is", null), eb("hash", "is", null), eb("prev_hash", "is", null)]))
    .orderBy("id")
    .limit(1)
    .executeTakeFirst();
  if (unlinked) {
    const link: ChainLink = { id: Number(unlinked.id), seq: unlinked.seq, prevHash: unlinked.prev_hash, hash: unlinked.hash, canonical: "" };
    return { ok: false, firstBrokenId: link.id, reason: findBreak(previous, link) ?? `row ${link.id} is not linked into the chain` };
  }
  return { ok: true, rows, head: previous };
}

/**
 * Re-checks every link from the genesis value to the head, in one consistent snapshot: each row's
 * position, its pointer to the previous link, and its content against its hash. Reports the first
 * broken link. Rows removed from the very end leave no gap; compare `head` with one recorded earlier.
 */
export function verifyChain(db: Db): Promise<ChainVerdict> {
  if (db.isTransaction) return walkChain(db);
  return db.transaction().setIsolationLevel("repeatable read").setAccessMode("read only").execute(walkChain);
}
