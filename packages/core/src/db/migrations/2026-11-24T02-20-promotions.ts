// Promotions: guards the database keeps whatever the code does (upper-case codes, a use count that
// never goes below zero, a start before the end). Frozen in time: imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table promotion add constraint promotion_code_upper_case check (code = upper(code) and code <> '')`.execute(db);
  await sql`alter table promotion add constraint promotion_used_count_non_negative check (used_count >= 0)`.execute(db);
  await sql`alter table promotion add constraint promotion_dates_ordered check (starts_at is null or ends_at is null or starts_at < ends_at)`.execute(db);
  await sql`alter table promotion add constraint promotion_min_subtotal_non_negative check (min_subtotal >= 0)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of ["promotion_min_subtotal_non_negative", "promotion_dates_ordered", "promotion_used_count_non_negative", "promotion_code_upper_case"]) {
    await sql`alter table promotion drop constraint ${sql.id(name)}`.execute(db);
  }
}
