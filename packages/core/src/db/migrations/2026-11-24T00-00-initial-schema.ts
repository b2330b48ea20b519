// Initial schema: catalogue, prices, inventory, carts, quotes, orders, payments, audit log.
// Frozen in time: typed Kysely<any> and importing nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("product")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("category", "text", (c) => c.notNull())
    .addColumn("image", "text", (c) => c.notNull())
    .addColumn("position", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("variant")
    .addColumn("sku", "text", (c) => c.primaryKey())
    .addColumn("product_id", "text", (c) => c.notNull().references("product.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("options", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("weight_grams", "integer", (c) => c.notNull().check(sql`weight_grams >= 0`))
    .addColumn("position", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("variant_product_idx").on("variant").column("product_id").execute();

  await db.schema
    .createTable("price")
    .addColumn("sku", "text", (c) => c.notNull().references("variant.sku").onDelete("cascade"))
    .addColumn("currency", "char(3)", (c) => c.notNull())
    .addColumn("amount", "bigint", (c) => c.notNull().check(sql`amount >= 0`))
    .addPrimaryKeyConstraint("price_pk", ["sku", "currency"])
    .execute();

  await db.schema
    .createTable("inventory")
    .addColumn("sku", "text", (c) => c.primaryKey().references("variant.sku").onDelete("cascade"))
    .addColumn("available", "integer", (c) => c.notNull().check(sql`available >= 0`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("cart")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("currency", "char(3)", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().defaultTo("open").check(sql`status in ('open', 'completed')`))
    .addColumn("email", "text")
    .addColumn("shipping_address", "jsonb")
    .addColumn("shipping_option_id", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("cart_line")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("cart_id", "uuid", (c) => c.notNull().references("cart.id").onDelete("cascade"))
    .addColumn("sku", "text", (c) => c.notNull().references("variant.sku"))
    .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity between 1 and 99`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("cart_line_cart_sku_key", ["cart_id", "sku"])
    .execute();

  await db.schema
    .createTable("quote")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("cart_id", "uuid", (c) => c.notNull().references("cart.id").onDelete("cascade"))
    .addColumn("currency", "char(3)", (c) => c.notNull())
    .addColumn("subtotal", "bigint", (c) => c.notNull())
    .addColumn("shipping", "bigint", (c) => c.notNull())
    .addColumn("tax", "bigint", (c) => c.notNull())
    .addColumn("total", "bigint", (c) => c.notNull())
    .addColumn("snapshot", "jsonb", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("quote_cart_idx").on("quote").column("cart_id").execute();

  await sql`create sequence order_number_seq start with 100001`.execute(db);
  await db.schema
    .createTable("order")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("number", "text", (c) => c.notNull().unique().defaultTo(sql`nextval('order_number_seq')::text`))
    .addColumn("cart_id", "uuid", (c) => c.notNull().references("cart.id"))
    .addColumn("quote_id", "uuid", (c) => c.notNull().references("quote.id"))
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("shipping_address", "jsonb", (c) => c.notNull())
    .addColumn("shipping_option", "jsonb", (c) => c.notNull())
    .addColumn("currency", "char(3)", (c) => c.notNull())
    .addColumn("subtotal", "bigint", (c) => c.notNull().check(sql`subtotal >= 0`))
    .addColumn("shipping", "bigint", (c) => c.notNull().check(sql`shipping >= 0`))
    .addColumn("tax", "bigint", (c) => c.notNull().check(sql`tax >= 0`))
    .addColumn("total", "bigint", (c) => c.notNull().check(sql`total = subtotal + shipping + tax`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // At most one live order per cart: a double submit or a second tab cannot create a second order.
  await sql`create unique index order_one_live_per_cart on "order" (cart_id) where status <> 'payment_failed'`.execute(db);

  await db.schema
    .createTable("order_line")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("order_id", "uuid", (c) => c.notNull().references("order.id").onDelete("cascade"))
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("sku", "text", (c) => c.notNull())
    .addColumn("product_name", "text", (c) => c.notNull())
    .addColumn("variant_name", "text", (c) => c.notNull())
    .addColumn("unit_price", "bigint", (c) => c.notNull())
    .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity > 0`))
    .addColumn("line_total", "bigint", (c) => c.notNull())
    .addColumn("tax", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("order_line_order_idx").on("order_line").column("order_id").execute();

  await db.schema
    .createTable("payment")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("order_id", "uuid", (c) => c.notNull().references("order.id"))
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("provider_reference", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("amount", "bigint", (c) => c.notNull().check(sql`amount >= 0`))
    .addColumn("currency", "char(3)", (c) => c.notNull())
    .addColumn("card_brand", "text")
    .addColumn("card_last4", "char(4)")
    .addColumn("decline_code", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("payment_order_idx").on("payment").column("order_id").execute();

  await db.schema
    .createTable("audit_log")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("entity", "text", (c) => c.notNull())
    .addColumn("entity_id", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("data", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("audit_log_entity_idx").on("audit_log").columns(["entity", "entity_id"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ["audit_log", "payment", "order_line", "order", "quote", "cart_line", "cart", "inventory", "price", "variant", "product"]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await sql`drop sequence if exists order_number_seq`.execute(db);
}
