// Payment velocity persistence: one query per function; callers own transactions. Every write is an upsert on the
// keys' rows, so row locks order concurrent attempts and each sees the one before it; rows are always written in the
// order the caller gives (one global order), so two attempts over overlapping keys never deadlock.
import { sql, type RawBuilder } from "kysely";
import type { Db, PaymentVelocityRow, PaymentVelocityTable } from "../db/database.ts";

export interface VelocityKey {
  scope: PaymentVelocityTable["scope"];
  keyHash: string;
}

function keyList(keys: readonly VelocityKey[]): RawBuilder<unknown> {
  return sql.join(keys.map((key) => sql`(${key.scope}, ${key.keyHash})`));
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
 * The rows of `keys` locked at `now`, and, with `anyOfScope`, one more locked row of that scope if there is any at all
 * (whether a lookup that would add a key of that scope can matter).
 */
export async function findLocked(db: Db, input: { keys: readonly VelocityKey[]; now: Date; anyOfScope?: VelocityKey["scope"] }): Promise<PaymentVelocityRow[]> {
  const { now } = input;
  const ofKeys = input.keys.length > 0 ? sql`select * from payment_velocity where (scope, key_hash) in (${keyList(input.keys)}) and locked_until > ${now}` : null;
  const anyOf = input.anyOfScope ? sql`(select * from payment_velocity where scope = ${input.anyOfScope} and locked_until > ${now} limit 1)` : null;
  const query = ofKeys && anyOf ? sql`${ofKeys} union ${anyOf}` : (ofKeys ?? anyOf);
  if (!query) return [];
  return (await sql<PaymentVelocityRow>`${query}`.execute(db)).rows;
}

/**
 * Takes one attempt on each key whose row lets it: not locked (declines in the window below the scope's
 * `maxDeclines`) and fewer than `maxInFlight` attempts at the processor. A window that has ended starts afresh with
 * this attempt. Returns the rows taken; a key missing from them was refused (the others were still taken).
 */
export async function reserveEach(
  db: Db,
  input: { keys: readonly (VelocityKey & { windowEndsAt: Date })[]; maxDeclines: Record<VelocityKey["scope"], number>; maxInFlight: number; now: Date },
): Promise<PaymentVelocityRow[]> {
  const { now } = input;
  if (input.keys.length === 0) return [];
  const rows = sql.join(input.keys.map((key) => sql`(${key.scope}, ${key.keyHash}, 0, 1, ${key.windowEndsAt}::timestamptz, null::timestamptz, ${now}::timestamptz)`));
  const maxDeclines = sql`case payment_velocity.scope ${sql.join(
    Object.entries(input.maxDeclines).map(([scope, max]) => sql`when ${scope} then ${max}::int`),
    sql` `,
  )} end`;
  const result = await sql<PaymentVelocityRow>`
    insert into payment_velocity (scope, key_hash, declines, in_flight, window_ends_at, locked_until, updated_at)
    values ${rows}
    on conflict (scope, key_hash) do update set
      declines = case when payment_velocity.window_ends_at <= ${now} then 0 else payment_velocity.declines end,
      in_flight = case when payment_velocity.window_ends_at <= ${now} then 1 else payment_velocity.in_flight + 1 end,
      locked_until = case when payment_velocity.window_ends_at <= ${now} then null else payment_velocity.locked_until end,
      window_ends_at = case when payment_velocity.window_ends_at <= ${now} then excluded.window_ends_at else payment_velocity.window_ends_at end,
      updated_at = excluded.updated_at
    where payment_velocity.window_ends_at <= ${now}
      or (payment_velocity.declines < ${maxDeclines} and payment_velocity.in_flight < ${input.maxInFlight}::int)
    returning *`.execute(db);
  return result.rows;
}

/** Gives back one attempt on each key (its attempt ended without a decline, or was refused on another key). */
export async function release(db: Db, input: { keys: readonly VelocityKey[]; now: Date }): Promise<void> {
  if (input.keys.length === 0) return;
  await sql`
    update payment_velocity set in_flight = greatest(in_flight - 1, 0), updated_at = ${input.now}
    where (scope, key_hash) in (${keyList(input.keys)})`.execute(db);
}

/**
 * Counts a decline on a key and gives back the attempt it took (`release` 1, or 0 for a key learnt only from the
 * processor's answer). The decline that reaches `maxDeclines` locks the key until `lockUntil`, which also ends its
 * window: after the cool-down it starts afresh.
 */
export async function recordDecline(
  db: Db,
  input: VelocityKey & { release: 0 | 1; maxDeclines: number; windowEndsAt: Date; lockUntil: Date; now: Date },
): Promise<PaymentVelocityRow> {
  const { now, maxDeclines, lockUntil } = input;
  const isFreshLock = maxDeclines <= 1;
  const isExpired = sql<boolean>`(payment_velocity.window_ends_at <= ${now})`;
  const counted = sql<number>`((case when ${isExpired} then 0 else payment_velocity.declines end) + 1)`;
  const isLocked = sql<boolean>`(not ${isExpired} and payment_velocity.locked_until is not null)`;
  const trips = sql<boolean>`(${counted} >= ${maxDeclines}::int and not ${isLocked})`;
  const result = await sql<PaymentVelocityRow>`
    insert into payment_velocity (scope, key_hash, declines, in_flight, window_ends_at, locked_until, updated_at)
    values (${input.scope}, ${input.keyHash}, 1, 0, ${isFreshLock ? lockUntil : input.windowEndsAt}, ${isFreshLock ? lockUntil : null}, ${now})
    on conflict (scope, key_hash) do update set
      declines = ${counted},
      in_flight = greatest(payment_velocity.in_flight - ${input.release}::int, 0),
      locked_until = case when ${trips} then ${lockUntil} when ${isExpired} then null else payment_velocity.locked_until end,
      window_ends_at = case when ${trips} then ${lockUntil} when ${isExpired} then excluded.window_ends_at else payment_velocity.window_ends_at end,
      updated_at = excluded.updated_at
    returning *`.execute(db);
  return result.rows[0]!;
}

/** Deletes up to `limit` rows whose window (and so any lock) ended before `before`; returns how many. */
export async function purgeEnded(db: Db, input: { before: Date; limit: number }): Promise<number> {
  const result = await sql`
    delete from payment_velocity where ctid in (
      select ctid from payment_velocity where window_ends_at < ${input.before} limit ${input.limit}
    )`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
