// Payment velocity: per cart, client address, email and card fingerprint, the declines counted in the current
// window, the attempts at the processor right now, and until when the key is locked. One row per key, updated
// with conditional upserts so concurrent attempts cannot all pass a limit; keys are SHA-256 hashes, never the
// address, email or cart id. Rows whose window has ended are purged by `window_ends_at`.
// Frozen in time: typed Kysely<any>, imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table payment_velocity (
      scope text not null check (scope in ('cart', 'address', 'email', 'card')),
      key_hash text not null,
      declines integer not null default 0 check (declines >= 0),
      in_flight integer not null default 0 check (in_flight >= 0),
      window_ends_at timestamptz not null,
      locked_until timestamptz,
      updated_at timestamptz not null default now(),
      primary key (scope, key_hash)
    )`.execute(db);
  await sql`create index payment_velocity_window_idx on payment_velocity (window_ends_at)`.execute(db);
  // Whether any card is locked at all: while none is, placeOrder need not look the card up before authorising.
  await sql`create index payment_velocity_card_lock_idx on payment_velocity (locked_until) where scope = 'card'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists payment_velocity`.execute(db);
}
