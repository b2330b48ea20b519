// Payment velocity persistence: one query per function; callers own transactions. Every write is a conditional
// upsert on the key's row, so the row lock orders concurrent attempts and each sees the one before it.
import { sql } from "kysely";
import type { Db, PaymentVelocityRow, PaymentVelocityTable } from "../db/database.ts";

export interface VelocityKey {
  scope: PaymentVelocityTable["scope"];
  keyHash: string;
}

export function findKeys(db: Db, keys: readonly VelocityKey[]) {
  if (keys.length === 0) return Promise.resolve([] as PaymentVelocityRow[]);
  return db
    .selectFrom("payment_velocity")
    .selectAll()
    .where((eb) => eb.or(keys.map((key) => eb.and([eb("scope", "=", key.scope), eb("key_hash", "=", key.keyHash)]))))
    .execute();
}

/**
 * Takes one attempt for a key, or nothing (undefined) when the key is over its limit: declines in the window have
 * reached `maxDeclines` (the key is locked until its window ends), or the attempts already at the processor use the
 * rest of its budget (`maxDeclines - declines` once the key has a decline; `burst` while it has none). A window that
 * has ended starts afresh with this attempt.
 */
export async function reserve(
  db: Db,
  input: VelocityKey & { maxDeclines: number; burst: number; windowEndsAt: Date; now: Date },
): Promise<PaymentVelocityRow | undefined> {
  const { now } = input;
  const result = await sql<PaymentVelocityRow>`
    insert into payment_velocity (scope, key_hash, declines, in_flight, window_ends_at, locked_until, updated_at)
    values (${input.scope}, ${input.keyHash}, 0, 1, ${input.windowEndsAt}, null, ${now})
    on conflict (scope, key_hash) do update set
      declines = case when payment_velocity.window_ends_at <= ${now} then 0 else payment_velocity.declines end,
      in_flight = case when payment_velocity.window_ends_at <= ${now} then 1 else payment_velocity.in_flight + 1 end,
      locked_until = case when payment_velocity.window_ends_at <= ${now} then null else payment_velocity.locked_until end,
      window_ends_at = case when payment_velocity.window_ends_at <= ${now} then excluded.window_ends_at else payment_velocity.window_ends_at end,
      updated_at = excluded.updated_at
    where payment_velocity.window_ends_at <= ${now}
      or (payment_velocity.declines < ${input.maxDeclines}
        and payment_velocity.in_flight < case when payment_velocity.declines = 0 then ${input.burst}::int else ${input.maxDeclines}::int - payment_velocity.declines end)
    returning *`.execute(db);
  return result.rows[0];
}

/**
 * Records an attempt's end for a key: gives back the attempt it took (`release` 1, or 0 for a key learnt only from the
 * processor's answer) and counts a decline (`declines` 1 or 0). The decline that reaches `maxDeclines` locks the key
 * until `lockUntil`, which also ends its window: after the cool-down it starts afresh.
 */
export async function settle(
  db: Db,
  input: VelocityKey & { release: 0 | 1; declines: 0 | 1; maxDeclines: number; windowEndsAt: Date; lockUntil: Date; now: Date },
): Promise<PaymentVelocityRow> {
  const { now, declines, maxDeclines, lockUntil } = input;
  const isFreshLock = declines >= maxDeclines;
  const isExpired = sql<boolean>`(payment_velocity.window_ends_at <= ${now})`;
  const counted = sql<number>`((case when ${isExpired} then 0 else payment_velocity.declines end) + ${declines}::int)`;
  const isLocked = sql<boolean>`(not ${isExpired} and payment_velocity.locked_until is not null)`;
  const trips = sql<boolean>`(${declines}::int > 0 and ${counted} >= ${maxDeclines}::int and not ${isLocked})`;
  const result = await sql<PaymentVelocityRow>`
    insert into payment_velocity (scope, key_hash, declines, in_flight, window_ends_at, locked_until, updated_at)
    values (${input.scope}, ${input.keyHash}, ${declines}, 0, ${isFreshLock ? lockUntil : input.windowEndsAt}, ${isFreshLock ? lockUntil : null}, ${now})
    on conflict (scope, key_hash) do update set
      declines = ${counted},
      in_flight = greatest(payment_velocity.in_flight - ${input.release}::int, 0),
      locked_until = case when ${trips} then ${lockUntil} when ${isExpired} then null else payment_velocity.locked_until end,
      window_ends_at = case when ${trips} then ${lockUntil} when ${isExpired} then excluded.window_ends_at else payment_velocity.window_ends_at end,
      updated_at = excluded.updated_at
    returning *`.execute(db);
  return result.rows[0]!;
}

/**
 * Deletes up to `limit` rows whose window (and so any lock) ended before `before`; returns how many. An attempt still
 * in flight on a deleted row simply writes a fresh one when it ends.
 */
export async function purgeEnded(db: Db, input: { before: Date; limit: number }): Promise<number> {
  const result = await sql`
    delete from payment_velocity where ctid in (
      select ctid from payment_velocity where window_ends_at < ${input.before} limit ${input.limit}
    )`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
