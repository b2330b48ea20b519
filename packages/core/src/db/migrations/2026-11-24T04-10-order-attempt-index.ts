// Finding an earlier order of the same checkout attempt (cart, quote, payment token hash) on every placeOrder: without
// an index on the cart, that lookup read the whole order table (the only cart index is the partial one on live orders).
// Frozen in time: typed Kysely<any>, imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index order_cart_attempt_idx on "order" (cart_id, quote_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists order_cart_attempt_idx`.execute(db);
}
