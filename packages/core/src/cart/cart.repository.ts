// Cart persistence: one query per function; callers own transactions.
import { sql } from "kysely";
import type { CartRow, CartUpdate, Db } from "../db/database.ts";
import { compileOnce } from "../db/compiled-query.ts";

/** A new open cart in `currency`. */
export async function insertOpenCart(db: Db, cart: { id: string; currency: string }): Promise<CartRow> {
  const [row] = await openCartInsert.execute(db, cart);
  if (!row) throw new Error("INSERT … RETURNING gave no cart row");
  return row;
}

const openCartInsert = compileOnce<{ id: string; currency: string }, CartRow>(["id", "currency"], (db, { id, currency }) =>
  db.insertInto("cart").values({ id, currency, status: "open" }).returningAll(),
);

export function findCart(db: Db, cartId: string) {
  return db.selectFrom("cart").selectAll().where("id", "=", cartId).executeTakeFirst();
}

/** Locks the cart row for the rest of the transaction, so cart edits on one cart run one at a time. */
export async function findCartForUpdate(db: Db, cartId: string): Promise<CartRow | undefined> {
  const [row] = await cartForUpdate.execute(db, { cartId });
  return row;
}

const cartForUpdate = compileOnce<{ cartId: string }, CartRow>(["cartId"], (db, { cartId }) => db.selectFrom("cart").selectAll().where("id", "=", cartId).forUpdate());

/**
 * Applies `changes` to the cart only while it is open (and, with `requireAddress`, has a shipping address), marking it
 * just changed: one statement, atomic on its own. Nothing when the cart is missing, closed or lacks the address.
 */
export function updateOpenCart(db: Db, cartId: string, changes: CartUpdate, options: { requireAddress?: boolean } = {}): Promise<CartRow | undefined> {
  let query = db
    .updateTable("cart")
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where("id", "=", cartId)
    .where("status", "=", "open");
  if (options.requireAddress) query = query.where("shipping_address", "is not", null);
  return query.returningAll().executeTakeFirst();
}

export function updateCart(db: Db, cartId: string, changes: CartUpdate) {
  return db
    .updateTable("cart")
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where("id", "=", cartId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Locks the cart row for the rest of the transaction and marks it as just used, in one statement: every cart edit
 * takes it first, so edits to one cart run one at a time, and retention counts a cart as abandoned from its last
 * change. A refused edit rolls the mark back with the rest of its transaction.
 */
export async function touchCartForUpdate(db: Db, cartId: string): Promise<CartRow | undefined> {
  const [row] = await cartTouchedForUpdate.execute(db, { cartId });
  return row;
}

const cartTouchedForUpdate = compileOnce<{ cartId: string }, CartRow>(["cartId"], (db, { cartId }) =>
  db.updateTable("cart").set({ updated_at: sql<Date>`now()` }).where("id", "=", cartId).returningAll(),
);

export interface LineSummary {
  /** Lines in the cart. */
  lines: number;
  /** Units in the cart, all lines together. */
  units: number;
  /** The cart's line for the SKU asked about, if it has one (a SKU has at most one line). */
  lineOfSku: { id: string; quantity: number } | null;
}

/** How many lines and units the cart holds, and its line for `sku`: in one statement. */
export async function summariseLines(db: Db, cartId: string, sku: string): Promise<LineSummary> {
  const [row] = await lineSummary.execute(db, { cartId, sku });
  const lineId = row?.sku_line_id ?? null;
  return {
    lines: Number(row?.line_count ?? 0),
    units: Number(row?.units ?? 0),
    lineOfSku: lineId === null ? null : { id: lineId, quantity: Number(row?.sku_units ?? 0) },
  };
}

const lineSummary = compileOnce(["cartId", "sku"], (db, { cartId, sku }: { cartId: string; sku: string }) =>
  db
    .selectFrom("cart_line")
    .select([
      sql<string>`count(*)`.as("line_count"),
      sql<string>`coalesce(sum(quantity), 0)`.as("units"),
      sql<string | null>`(array_agg(id) filter (where sku = ${sku}))[1]`.as("sku_line_id"),
      sql<string>`coalesce(sum(quantity) filter (where sku = ${sku}), 0)`.as("sku_units"),
    ])
    .where("cart_id", "=", cartId),
);

export interface CartLineDetailRow {
  id: string;
  sku: string;
  quantity: number;
  product_id: string;
  product_name: string;
  image: string;
  variant_name: string;
  weight_grams: number;
  unit_price: number | null;
  available: number;
}

export function findLine(db: Db, cartId: string, lineId: string) {
  return db.selectFrom("cart_line").selectAll().where("cart_id", "=", cartId).where("id", "=", lineId).executeTakeFirst();
}

export async function insertLine(db: Db, line: { id: string; cart_id: string; sku: string; quantity: number }): Promise<void> {
  await lineInsert.execute(db, line);
}

const lineInsert = compileOnce(["id", "cart_id", "sku", "quantity"], (db, line: { id: string; cart_id: string; sku: string; quantity: number }) =>
  db.insertInto("cart_line").values(line),
);

export async function setLineQuantity(db: Db, lineId: string, quantity: number): Promise<void> {
  await lineQuantityUpdate.execute(db, { lineId, quantity });
}

const lineQuantityUpdate = compileOnce(["lineId", "quantity"], (db, { lineId, quantity }: { lineId: string; quantity: number }) =>
  db.updateTable("cart_line").set({ quantity }).where("id", "=", lineId),
);

export function deleteLine(db: Db, cartId: string, lineId: string) {
  return db.deleteFrom("cart_line").where("cart_id", "=", cartId).where("id", "=", lineId).executeTakeFirst();
}

/** Built and compiled once: it runs on every cart read and after every cart change. */
const cartWithLines = compileOnce(["cartId"], (db, { cartId }: { cartId: string }) =>
  db
    .selectFrom("cart as c")
    .leftJoin("cart_line as l", "l.cart_id", "c.id")
    .leftJoin("variant as v", "v.sku", "l.sku")
    .leftJoin("product as p", "p.id", "v.product_id")
    .leftJoin("price as pr", (join) => join.onRef("pr.sku", "=", "l.sku").onRef("pr.currency", "=", "c.currency"))
    .leftJoin("inventory as i", "i.sku", "l.sku")
    .selectAll("c")
    .select([
      "l.id as line_id",
      "l.sku as line_sku",
      "l.quantity as line_quantity",
      "p.id as product_id",
      "p.name as product_name",
      "v.name as variant_name",
      "v.weight_grams",
      "pr.amount as unit_price",
    ])
    // The line shows the variant's own picture (its colour) when it has one.
    .select((eb) => eb.fn.coalesce("v.image", "p.image").as("image"))
    .select((eb) => eb.fn.coalesce("i.available", eb.lit(0)).as("available"))
    .where("c.id", "=", cartId)
    .orderBy("l.created_at")
    .orderBy("l.id"),
);

/** The cart and its lines in one round trip: one row per line, or one row with null line columns. */
export async function findCartWithLines(db: Db, cartId: string): Promise<{ cart: CartRow; lines: CartLineDetailRow[] } | undefined> {
  const rows = await cartWithLines.execute(db, { cartId });
  const [first] = rows;
  if (!first) return undefined;
  const cart: CartRow = {
    id: first.id,
    currency: first.currency,
    status: first.status,
    email: first.email,
    shipping_address: first.shipping_address,
    shipping_option_id: first.shipping_option_id,
    promo_code: first.promo_code,
    created_at: first.created_at,
    updated_at: first.updated_at,
  };
  const lines: CartLineDetailRow[] = [];
  for (const row of rows) {
    if (row.line_id === null || row.line_sku === null || row.line_quantity === null) continue;
    lines.push({
      id: row.line_id,
      sku: row.line_sku,
      quantity: row.line_quantity,
      product_id: row.product_id ?? "",
      product_name: row.product_name ?? "",
      image: row.image ?? "",
      variant_name: row.variant_name ?? "",
      weight_grams: row.weight_grams ?? 0,
      unit_price: row.unit_price,
      available: row.available,
    });
  }
  return { cart, lines };
}

export interface LinePriceRow {
  id: string;
  sku: string;
  quantity: number;
  product_name: string;
  variant_name: string;
  /** The variant's price in the currency asked about; null when it is not sold in it. */
  amount: number | null;
}

/** The cart's lines, each with its variant's price in `currency` (null when not sold in it), oldest first. */
export function listLinesPricedIn(db: Db, cartId: string, currency: string): Promise<LinePriceRow[]> {
  return db
    .selectFrom("cart_line as l")
    .innerJoin("variant as v", "v.sku", "l.sku")
    .innerJoin("product as p", "p.id", "v.product_id")
    .leftJoin("price as pr", (join) => join.onRef("pr.sku", "=", "l.sku").on("pr.currency", "=", currency))
    .select(["l.id", "l.sku", "l.quantity", "p.name as product_name", "v.name as variant_name", "pr.amount"])
    .where("l.cart_id", "=", cartId)
    .orderBy("l.created_at")
    .orderBy("l.id")
    .execute();
}

export async function deleteLines(db: Db, cartId: string, lineIds: readonly string[]): Promise<void> {
  if (lineIds.length === 0) return;
  await db.deleteFrom("cart_line").where("cart_id", "=", cartId).where("id", "in", lineIds).execute();
}

/**
 * Ends every quote of the cart that has not yet expired: after a change no price difference could show (the cart's
 * currency), placing an order from an earlier quote must meet QUOTE_EXPIRED and quote again.
 */
export async function expireQuotesOfCart(db: Db, cartId: string): Promise<void> {
  await db.updateTable("quote").set({ expires_at: sql<Date>`now()` }).where("cart_id", "=", cartId).where("expires_at", ">", sql<Date>`now()`).execute();
}
