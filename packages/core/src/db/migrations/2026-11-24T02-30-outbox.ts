// Outbox dispatch: an index for the dispatcher's "due deliveries" claim, so polling every second
// stays an index scan however many delivered rows accumulate. Frozen in time: imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index outbox_delivery_due_idx on outbox_delivery (next_attempt_at) where status = 'pending'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists outbox_delivery_due_idx`.execute(db);
}
