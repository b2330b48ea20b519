// The admin order list with a year of orders: newest first, by status, by one shopper's email, or by a fragment of an
// email, each read from an index in the list's order (created_at desc, id desc) instead of sorting every order.
// On a live database that already holds many orders, build these first with CREATE INDEX CONCURRENTLY under the same
// names (this migration then finds them and builds nothing). Frozen in time: typed Kysely<any>, imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index if not exists order_created_idx on "order" (created_at, id)`.execute(db);
  await sql`create index if not exists order_status_created_idx on "order" (status, created_at, id)`.execute(db);
  await sql`create index if not exists order_email_created_idx on "order" (lower(email), created_at, id)`.execute(db);
  // A search's email fragment (ILIKE '%text%'); pg_trgm came with migration 2026-12-03T06-00-catalog-paging.
  await sql`create index if not exists order_email_trgm_idx on "order" using gin (email gin_trgm_ops)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ["order_email_trgm_idx", "order_email_created_idx", "order_status_created_idx", "order_created_idx"]) {
    await sql`drop index if exists ${sql.id(index)}`.execute(db);
  }
}
