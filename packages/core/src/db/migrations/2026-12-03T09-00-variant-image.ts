// A variant may have its own picture (the tee in black, the mug in slate); null shows the product's picture.
// Frozen in time: typed Kysely<any>, imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table variant add column image text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table variant drop column if exists image`.execute(db);
}
