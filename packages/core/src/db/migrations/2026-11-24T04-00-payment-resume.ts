// Resuming a pending order's authorisation: a retry of the same checkout attempt (same quote, same
// payment token) after the provider was unreachable continues the order instead of being refused.
// `payment_token_hash` is the SHA-256 (hex) of the token the order was placed with, never the token
// itself; `authorizing_until` is a short claim held while one request is calling the provider, so a
// second request and the reconciler leave the order alone until it is cleared or has run out.
// Frozen in time: typed Kysely<any>, imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table "order" add column payment_token_hash text`.execute(db);
  await sql`alter table "order" add column authorizing_until timestamptz`.execute(db);
  await sql`alter table "order" add constraint order_payment_token_hash_format check (payment_token_hash is null or payment_token_hash ~ '^[0-9a-f]{64}$')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table "order" drop constraint if exists order_payment_token_hash_format`.execute(db);
  await sql`alter table "order" drop column if exists authorizing_until`.execute(db);
  await sql`alter table "order" drop column if exists payment_token_hash`.execute(db);
}
