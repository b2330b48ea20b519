// The audit trail: every order and payment state change writes one row, in the same transaction.
// The database links each row into a hash chain when its transaction commits (migration
// 2026-11-24T02-40-audit) and refuses UPDATE, DELETE and TRUNCATE; verifyChain re-checks every link here.
import { sql, type RawBuilder } from "kysely";
import type { Db, NewAuditLog } from "../db/database.ts";
import { checkAnchors, type AnchoredLink, type AuditAnchor, type StoredAnchor } from "./audit-anchor.ts";
import { findBreak, findTimeBreak, type ChainLink, type ChainVerdict, type TimedLink } from "./audit-chain.ts";

export { GENESIS_HASH, linkHash, type ChainVerdict } from "./audit-chain.ts";
export { ANCHOR_PREFIX, anchorKey, parseAnchor, type AuditAnchor, type StoredAnchor } from "./audit-anchor.ts";

export interface AuditEntry {
  /** "audit": the log's own upkeep (an anchor of its head written outside the database). */
  entity: "order" | "payment" | "cart" | "inventory" | "promotion" | "admin" | "audit";
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
 * the plain db (a one-statement transaction). created_at is the database clock when the row is sealed
 * (migration 2026-12-02T08-30-audit-sealed-at), hashed at its full microsecond precision as PostgreSQL
 * renders it, so no clock of ours enters the hash and time never runs backwards along the chain.
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

/** created_at exactly as the canonical form renders it: text order is time order. */
const chainTime: RawBuilder<string> = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const BATCH = 5000;

async function walkChain(db: Db, anchors: readonly StoredAnchor[] | undefined): Promise<ChainVerdict> {
  let previous: { seq: number; hash: string } | null = null;
  let previousTime: TimedLink | null = null;
  let after: { seq: number; id: number } | null = null;
  let rows = 0;
  for (;;) {
    const cursor = after;
    const batch = await db
      .selectFrom("audit_log")
      .select(["id", "seq", "prev_hash", "hash", canonical.as("canonical"), chainTime.as("created_at")])
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
      const timed: TimedLink = { id: link.id, seq: link.seq!, createdAt: row.created_at };
      const timeReason = findTimeBreak(previousTime, timed);
      if (timeReason) return { ok: false, firstBrokenId: link.id, reason: timeReason };
      previous = { seq: link.seq!, hash: link.hash! };
      previousTime = timed;
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
  if (!anchors) return { ok: true, rows, head: previous };
  const anchorBreak = checkAnchors({ anchors, linksAt: await linksAt(db, anchors), head: previous });
  if (anchorBreak) return { ok: false, ...anchorBreak };
  const latest = anchors.at(-1);
  return {
    ok: true,
    rows,
    head: previous,
    anchors: { checked: anchors.length, latest: latest ? { key: latest.key, seq: latest.anchor.seq, anchoredAt: latest.anchor.anchoredAt } : null },
  };
}

/** The chain's links at the anchored positions. */
async function linksAt(db: Db, anchors: readonly StoredAnchor[]): Promise<Map<number, AnchoredLink>> {
  const seqs = [...new Set(anchors.map((stored) => stored.anchor.seq))];
  const links = new Map<number, AnchoredLink>();
  for (let i = 0; i < seqs.length; i += BATCH) {
    const rows = await db
      .selectFrom("audit_log")
      .select(["id", "seq", "hash", chainTime.as("created_at")])
      .where("seq", "in", seqs.slice(i, i + BATCH))
      .execute();
    for (const row of rows) links.set(row.seq!, { id: Number(row.id), seq: row.seq!, hash: row.hash ?? "", createdAt: row.created_at });
  }
  return links;
}

/**
 * Re-checks every link from the genesis value to the head, in one consistent snapshot: each row's
 * position, its pointer to the previous link, its content against its hash, and that its time is not
 * before the link before it. Reports the first broken link. A chain rewritten by its owner and recomputed
 * is consistent again, and rows removed from the very end leave no gap: `anchors` (in key order, as
 * written outside the database) catch both, each anchored position must still hold the same row and hash.
 */
export function verifyChain(db: Db, options: { anchors?: readonly StoredAnchor[] } = {}): Promise<ChainVerdict> {
  if (db.isTransaction) return walkChain(db, options.anchors);
  return db
    .transaction()
    .setIsolationLevel("repeatable read")
    .setAccessMode("read only")
    .execute((trx) => walkChain(trx, options.anchors));
}

/** The chain's head for an anchor, with the database clock as it is read (the anchor's time); null while the log is empty. */
export async function readHead(db: Db): Promise<AuditAnchor | null> {
  const row = await db
    .selectFrom("audit_log")
    .select(["id", "seq", "hash", chainTime.as("created_at"), sql<string>`to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as("now")])
    .where("seq", "is not", null)
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  return { version: 1, seq: row.seq!, id: Number(row.id), hash: row.hash!, headCreatedAt: row.created_at, anchoredAt: row.now };
}
