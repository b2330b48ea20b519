// Idempotency keys: one row per (scope, key) holding the first request's fingerprint and, once it
// finished, its response. The unique constraint decides which of several concurrent requests runs.
import { sql } from "kysely";
import type { Db } from "../db/database.ts";

/** Claims the key for this request: the new row's id, or null when the key is already there (someone else's claim or a stored answer). */
export async function claim(db: Db, row: { scope: string; key: string; fingerprint: string; lockMs: number; ttlMs: number }): Promise<string | null> {
  const result = await db
    .insertInto("idempotency_key")
    .values({
      scope: row.scope,
      key: row.key,
      fingerprint: row.fingerprint,
      status: "in_progress",
      locked_until: sql<Date>`now() + ${`${row.lockMs} milliseconds`}::interval`,
      expires_at: sql<Date>`now() + ${`${row.ttlMs} milliseconds`}::interval`,
    })
    .onConflict((oc) => oc.columns(["scope", "key"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  return result?.id ?? null;
}

export function find(db: Db, scope: string, key: string) {
  return db
    .selectFrom("idempotency_key")
    .select(["id", "fingerprint", "status", "response_status", "response_body", "expires_at"])
    .select(sql<boolean>`locked_until < now()`.as("is_lock_expired"))
    .select(sql<boolean>`expires_at < now()`.as("is_expired"))
    .where("scope", "=", scope)
    .where("key", "=", key)
    .executeTakeFirst();
}

/** Takes over an in-progress key whose holder stopped (crashed) without finishing; false if someone else did. */
export async function takeOver(db: Db, id: string, lockMs: number): Promise<boolean> {
  const result = await db
    .updateTable("idempotency_key")
    .set({ locked_until: sql<Date>`now() + ${`${lockMs} milliseconds`}::interval` })
    .where("id", "=", id)
    .where("status", "=", "in_progress")
    .where("locked_until", "<", sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function complete(db: Db, id: string, response: { status: number; body: string }) {
  return db
    .updateTable("idempotency_key")
    .set({ status: "completed", response_status: response.status, response_body: response.body, locked_until: null })
    .where("id", "=", id)
    .execute();
}

export function release(db: Db, id: string) {
  return db.deleteFrom("idempotency_key").where("id", "=", id).where("status", "=", "in_progress").execute();
}

export function deleteById(db: Db, id: string) {
  return db.deleteFrom("idempotency_key").where("id", "=", id).execute();
}

/**
 * Removes up to `limit` keys past their expiry (24 h by default), oldest first; returns how many. One
 * bounded statement: rows a request holds are skipped, so a purge never waits on live traffic. Call
 * again while it returns `limit`.
 */
export async function deleteExpired(db: Db, input: { limit?: number } = {}): Promise<number> {
  const result = await db
    .deleteFrom("idempotency_key")
    .where("id", "in", (eb) =>
      eb
        .selectFrom("idempotency_key")
        .select("id")
        .where("expires_at", "<", sql<Date>`now()`)
        .orderBy("expires_at")
        .limit(input.limit ?? 1000)
        .forUpdate()
        .skipLocked(),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
