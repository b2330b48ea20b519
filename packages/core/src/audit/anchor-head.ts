// Anchoring the chain's head, once per interval across every process: which process writes, and the audit row that
// says it did. Needs only SELECT and INSERT on audit_log (the service role's rights); where the anchor goes is the caller's.
import { sql, type Kysely } from "kysely";
import type { Database, Db } from "../db/database.ts";
import { anchorKey, type AuditAnchor, type StoredAnchor } from "./audit-anchor.ts";
import { readHead, record } from "./audit.repository.ts";

/** pg_try_advisory_xact_lock key of the anchor writer: the first 8 bytes of sha256('checkout.audit_log.anchor') as a signed bigint. */
const ANCHOR_LOCK_KEY = sql.raw("3362084664591968207");

/** The audit row an anchor leaves: entity "audit", entity_id the start of the interval it was taken in. */
export const ANCHORED_ACTION = "audit.anchored";

export type AnchorOutcome =
  | { status: "written"; stored: StoredAnchor }
  /** busy: another process is anchoring now; empty: no link yet; unchanged: nothing sealed since the last anchor; done: this interval is anchored. */
  | { status: "skipped"; reason: "busy" | "empty" | "unchanged" | "done"; seq?: number };

/** The start of the interval `time` falls in, counted from the Unix epoch, so every process agrees on it. */
export function intervalStart(input: { time: string; intervalMs: number }): string {
  // The chain's times carry microseconds; Date keeps milliseconds, which is all an interval boundary needs.
  const ms = Date.parse(`${input.time.slice(0, 23)}Z`);
  return new Date(Math.floor(ms / input.intervalMs) * input.intervalMs).toISOString();
}

/**
 * Whether nothing was sealed since the last anchor: the head is that anchor's own row, sealed right after the link it
 * anchored. Rows committed between reading a head and sealing its anchor row (another transaction of the same order,
 * say) sit in between and still need an anchor.
 */
async function isHeadAnchored(db: Db, head: AuditAnchor): Promise<boolean> {
  const row = await db
    .selectFrom("audit_log")
    .select(["entity", "action", sql<string | null>`data->>'seq'`.as("anchored_seq")])
    .where("id", "=", String(head.id))
    .executeTakeFirst();
  return row?.entity === "audit" && row.action === ANCHORED_ACTION && Number(row.anchored_seq) === head.seq - 1;
}

/**
 * Writes the head with `put` unless another process is at it, nothing was sealed since the last anchor, or this
 * interval already has its anchor; then records it in the chain. One short READ COMMITTED transaction holds the
 * anchor lock through the write and the audit row, so across processes an interval gets one anchor. `put` failing
 * rolls everything back: the next run tries again.
 */
export function anchorHead(input: { db: Kysely<Database>; intervalMs: number; put: (stored: StoredAnchor) => Promise<void> }): Promise<AnchorOutcome> {
  return input.db.transaction().execute(async (trx): Promise<AnchorOutcome> => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${ANCHOR_LOCK_KEY}) as locked`.execute(trx);
    if (!rows[0]?.locked) return { status: "skipped", reason: "busy" };
    const head = await readHead(trx);
    if (!head) return { status: "skipped", reason: "empty" };
    if (await isHeadAnchored(trx, head)) return { status: "skipped", reason: "unchanged", seq: head.seq };
    const interval = intervalStart({ time: head.anchoredAt, intervalMs: input.intervalMs });
    const done = await trx.selectFrom("audit_log").select("id").where("entity", "=", "audit").where("entity_id", "=", interval).limit(1).executeTakeFirst();
    if (done) return { status: "skipped", reason: "done", seq: head.seq };
    const stored: StoredAnchor = { key: anchorKey(head), anchor: head };
    await input.put(stored);
    await record(trx, { entity: "audit", entityId: interval, action: ANCHORED_ACTION, data: { key: stored.key, seq: head.seq, hash: head.hash } });
    return { status: "written", stored };
  });
}
