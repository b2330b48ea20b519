// Checkout guarantees: idempotency keys, promotions, discounts and tax-inclusive totals, payment
// capture/refund amounts, the transactional outbox and its deliveries, provider webhook events,
// and a hash-chained, append-only audit log. Frozen in time: imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("idempotency_key")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('in_progress', 'completed')`))
    .addColumn("response_status", "integer")
    .addColumn("response_body", "text")
    .addColumn("locked_until", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addUniqueConstraint("idempotency_key_scope_key", ["scope", "key"])
    .execute();
  await db.schema.createIndex("idempotency_key_expires_idx").on("idempotency_key").column("expires_at").execute();

  await db.schema
    .createTable("promotion")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("code", "text", (c) => c.notNull().unique())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('percentage', 'fixed')`))
    .addColumn("percent_basis_points", "integer", (c) => c.check(sql`percent_basis_points between 1 and 10000`))
    .addColumn("amount", "bigint", (c) => c.check(sql`amount > 0`))
    .addColumn("currency", "char(3)")
    .addColumn("min_subtotal", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("starts_at", "timestamptz")
    .addColumn("ends_at", "timestamptz")
    .addColumn("usage_limit", "integer", (c) => c.check(sql`usage_limit >= 0`))
    .addColumn("used_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("per_customer_limit", "integer", (c) => c.check(sql`per_customer_limit >= 1`))
    .addColumn("is_active", "boolean", (c) => c.notNull().defaultTo(true))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint("promotion_usage_within_limit", sql`usage_limit is null or used_count <= usage_limit`)
    .addCheckConstraint(
      "promotion_kind_fields",
      sql`(kind = 'percentage' and percent_basis_points is not null) or (kind = 'fixed' and amount is not null and currency is not null)`,
    )
    .execute();

  await db.schema
    .createTable("promotion_redemption")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("promotion_id", "uuid", (c) => c.notNull().references("promotion.id"))
    .addColumn("order_id", "uuid", (c) => c.notNull().unique().references("order.id"))
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("amount", "bigint", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("promotion_redemption_customer_idx").on("promotion_redemption").columns(["promotion_id", "email"]).execute();

  await db.schema.alterTable("cart").addColumn("promo_code", "text").execute();
  await db.schema.alterTable("quote").addColumn("discount", "bigint", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable("order_line").addColumn("discount", "bigint", (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .alterTable("order")
    .addColumn("discount", "bigint", (c) => c.notNull().defaultTo(0).check(sql`discount >= 0`))
    .addColumn("promo_code", "text")
    .addColumn("tax_inclusive", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("reservation_expires_at", "timestamptz")
    .execute();
  // The initial schema's inline total check got PostgreSQL's generated name, order_check.
  await sql`alter table "order" drop constraint order_check`.execute(db);
  await sql`alter table "order" add constraint order_total_check check (
    total = subtotal - discount + shipping + case when tax_inclusive then 0 else tax end
  )`.execute(db);
  await db.schema.createIndex("order_status_idx").on("order").columns(["status", "updated_at"]).execute();
  await db.schema.createIndex("order_email_idx").on("order").column("email").execute();

  await db.schema
    .alterTable("payment")
    .addColumn("captured_amount", "bigint", (c) => c.notNull().defaultTo(0).check(sql`captured_amount >= 0`))
    .addColumn("refunded_amount", "bigint", (c) => c.notNull().defaultTo(0).check(sql`refunded_amount >= 0`))
    .addColumn("next_action_url", "text")
    .execute();
  await sql`alter table payment add constraint payment_amounts_consistent check (
    captured_amount <= amount and refunded_amount <= captured_amount
  )`.execute(db);

  await db.schema
    .createTable("outbox_event")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("aggregate_id", "text", (c) => c.notNull())
    .addColumn("payload", "jsonb", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("dispatched_at", "timestamptz")
    .execute();
  await sql`create index outbox_event_pending_idx on outbox_event (created_at) where dispatched_at is null`.execute(db);

  await db.schema
    .createTable("outbox_delivery")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("event_id", "uuid", (c) => c.notNull().references("outbox_event.id"))
    .addColumn("target", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('pending', 'delivered', 'failed')`))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("last_error", "text")
    .addColumn("delivered_at", "timestamptz")
    .addUniqueConstraint("outbox_delivery_event_target", ["event_id", "target"])
    .execute();

  await db.schema
    .createTable("payment_webhook_event")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("payload", "jsonb", (c) => c.notNull())
    .addColumn("received_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("processed_at", "timestamptz")
    .execute();

  await db.schema
    .alterTable("audit_log")
    .addColumn("actor", "text", (c) => c.notNull().defaultTo("system"))
    .addColumn("outcome", "text", (c) => c.notNull().defaultTo("success"))
    .addColumn("origin", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("prev_hash", "text")
    .addColumn("hash", "text")
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ["actor", "outcome", "origin", "prev_hash", "hash"]) await db.schema.alterTable("audit_log").dropColumn(column).execute();
  for (const table of ["payment_webhook_event", "outbox_delivery", "outbox_event", "promotion_redemption", "promotion", "idempotency_key"]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await sql`alter table payment drop constraint payment_amounts_consistent`.execute(db);
  for (const column of ["captured_amount", "refunded_amount", "next_action_url"]) await db.schema.alterTable("payment").dropColumn(column).execute();
  await sql`alter table "order" drop constraint order_total_check`.execute(db);
  for (const column of ["discount", "promo_code", "tax_inclusive", "reservation_expires_at"]) await db.schema.alterTable("order").dropColumn(column).execute();
  await sql`alter table "order" add constraint order_check check (total = subtotal + shipping + tax)`.execute(db);
  await db.schema.alterTable("order_line").dropColumn("discount").execute();
  await db.schema.alterTable("quote").dropColumn("discount").execute();
  await db.schema.alterTable("cart").dropColumn("promo_code").execute();
}
