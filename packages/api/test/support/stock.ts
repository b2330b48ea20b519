// Stock as the database holds it, read and set with plain queries (not through the inventory code under test).
import type { Database } from "@checkout/core";
import type { Kysely } from "kysely";

/** The units of `sku` for sale now (inventory.available). */
export async function stockOf(db: Kysely<Database>, sku: string): Promise<number> {
  const row = await db.selectFrom("inventory").select("available").where("sku", "=", sku).executeTakeFirstOrThrow();
  return Number(row.available);
}

/** What is for sale now and what was ever received, as stored. */
export function stockLevelsOf(db: Kysely<Database>, sku: string) {
  return db.selectFrom("inventory").select(["available", "stock_received"]).where("sku", "=", sku).executeTakeFirstOrThrow();
}

/** Sets a SKU's stock as a restock would: what is for sale and what was ever received, with no order holding any. */
export async function setStock(db: Kysely<Database>, sku: string, units: number): Promise<void> {
  await db.updateTable("inventory").set({ available: units, stock_received: units }).where("sku", "=", sku).execute();
}
