// Stock holds and data retention: indexes for the hold sweep (pending orders by hold expiry, and the
// authorisations of released holds still to void at the provider) and for the retention purge (open
// carts by last change, quotes by expiry, orders whose personal data is still there, dispatched
// outbox events), plus the time an order's personal data was erased. Every purge query reads an
// index, so a purge over a large table costs its batch, not a scan.
// Frozen in time: typed Kysely<any>, imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index order_pending_hold_idx on "order" (reservation_expires_at) where status = 'pending_payment'`.execute(db);
  await sql`create index payment_hold_expired_idx on payment (updated_at)
    where status = 'declined' and decline_code = 'hold_expired' and provider_reference is not null`.execute(db);
  await sql`create index cart_open_updated_idx on cart (updated_at) where status = 'open'`.execute(db);
  await sql`create index quote_expires_idx on quote (expires_at)`.execute(db);
  await sql`alter table "order" add column personal_data_erased_at timestamptz`.execute(db);
  await sql`create index order_personal_data_idx on "order" (created_at) where personal_data_erased_at is null`.execute(db);
  await sql`create index outbox_event_dispatched_idx on outbox_event (dispatched_at) where dispatched_at is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ["outbox_event_dispatched_idx", "order_personal_data_idx", "quote_expires_idx", "cart_open_updated_idx", "payment_hold_expired_idx", "order_pending_hold_idx"]) {
    await sql`drop index if exists ${sql.id(index)}`.execute(db);
  }
  await sql`alter table "order" drop column if exists personal_data_erased_at`.execute(db);
}
