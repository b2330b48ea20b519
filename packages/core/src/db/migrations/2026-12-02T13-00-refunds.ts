// Refunds as rows: each refund gets its id (and a row saying it is pending) before the provider is called, and that id
// is the refund's provider idempotency key, so a retry of one refund replays it and a later refund can never reuse
// its key. At most one refund of an order is pending at a time, claimed by the request calling the provider. The status CHECK is generated from the code's list
// (db/status-constraints.ts), not written here.
// Frozen in time: typed Kysely<any>, imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table refund (
      id uuid primary key,
      order_id uuid not null references "order" (id) on delete cascade,
      payment_id uuid not null references payment (id) on delete cascade,
      amount bigint not null check (amount > 0),
      status text not null default 'pending',
      provider_refund_id text,
      -- While in the future, one request is calling the provider for this refund: others wait, then take turns.
      claimed_until timestamptz,
      reason text not null,
      actor text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index refund_order_idx on refund (order_id)`.execute(db);
  await sql`create unique index refund_one_pending_per_order_idx on refund (order_id) where status = 'pending'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists refund`.execute(db);
}
