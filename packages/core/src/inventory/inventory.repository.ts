// Stock per SKU. Reservation is a conditional update the database enforces (and a CHECK keeps
// `available` non-negative), so no in-process lock is needed across API processes.
import { sql } from "kysely";
import type { Db } from "../db/database.ts";

/**
 * Takes `quantity` units of `sku` if that many are available and they are at most `maxSharePercent` of
 * the available units (never less than one unit): one conditional update, so two orders racing for the
 * last units are judged against the stock each really finds. Returns false (and changes nothing) otherwise.
 */
export async function reserveWithinShare(db: Db, sku: string, quantity: number, maxSharePercent: number): Promise<boolean> {
  const result = await db
    .updateTable("inventory")
    .set({ available: sql<number>`available - ${quantity}`, updated_at: sql<Date>`now()` })
    .where("sku", "=", sku)
    .where("available", ">=", quantity)
    .where(sql<boolean>`${quantity} <= greatest(1, floor(available * ${maxSharePercent}::numeric / 100))`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function release(db: Db, sku: string, quantity: number) {
  return db
    .updateTable("inventory")
    .set({ available: sql<number>`available + ${quantity}`, updated_at: sql<Date>`now()` })
    .where("sku", "=", sku)
    .execute();
}

export async function available(db: Db, sku: string): Promise<number> {
  const row = await db.selectFrom("inventory").select("available").where("sku", "=", sku).executeTakeFirst();
  return row?.available ?? 0;
}
