// Promotion persistence: codes, the guarded use counter, redemptions and the per-customer lock.
import { sql } from "kysely";
import type { Currency } from "../money.ts";
import type { Db, NewPromotion, PromotionRow } from "../db/database.ts";
import type { Promotion } from "./promotion.ts";

export function findPromotionByCode(db: Db, code: string) {
  return db.selectFrom("promotion").selectAll().where("code", "=", code).executeTakeFirst();
}

/** Inserts a promotion unless one with its code exists; returns whether it was inserted. */
export async function insertPromotionIfMissing(db: Db, promotion: NewPromotion): Promise<boolean> {
  const result = await db
    .insertInto("promotion")
    .values(promotion)
    .onConflict((oc) => oc.column("code").doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/**
 * Counts one use if the promotion is active and below its usage limit. The condition is checked by
 * the database under the row lock, so of N concurrent callers at most `usage_limit - used_count` win.
 */
export async function incrementUse(db: Db, promotionId: string): Promise<boolean> {
  const result = await db
    .updateTable("promotion")
    .set((eb) => ({ used_count: eb("used_count", "+", 1) }))
    .where("id", "=", promotionId)
    .where("is_active", "=", true)
    .where((eb) => eb.or([eb("usage_limit", "is", null), eb("used_count", "<", eb.ref("usage_limit"))]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function decrementUse(db: Db, promotionId: string) {
  return db
    .updateTable("promotion")
    .set((eb) => ({ used_count: eb("used_count", "-", 1) }))
    .where("id", "=", promotionId)
    .where("used_count", ">", 0)
    .execute();
}

/**
 * Serialises redemptions of one promotion by one customer until the transaction ends, so two
 * parallel orders from the same email cannot both pass the per-customer limit. The 64-bit key space
 * is separate from the two-int one, and the prefix keeps it apart from other users of bigint keys.
 */
export async function lockCustomer(db: Db, promotionId: string, email: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`promotion:${promotionId}:${email}`}, 0))`.execute(db);
}

export async function countCustomerRedemptions(db: Db, promotionId: string, email: string): Promise<number> {
  const row = await db
    .selectFrom("promotion_redemption")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .where("promotion_id", "=", promotionId)
    .where("email", "=", email)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export function insertRedemption(db: Db, redemption: { promotion_id: string; order_id: string; email: string; amount: number }) {
  return db.insertInto("promotion_redemption").values(redemption).execute();
}

/** Deletes an order's redemption, if it has one, and returns what it was. */
export function deleteRedemptionOfOrder(db: Db, orderId: string) {
  return db.deleteFrom("promotion_redemption").where("order_id", "=", orderId).returning(["promotion_id", "amount"]).executeTakeFirst();
}

export function rowToPromotion(row: PromotionRow): Promotion {
  const rules = {
    id: row.id,
    code: row.code,
    description: row.description,
    minSubtotal: row.min_subtotal,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    usageLimit: row.usage_limit,
    usedCount: row.used_count,
    perCustomerLimit: row.per_customer_limit,
    isActive: row.is_active,
  };
  const currency = (row.currency?.trim() as Currency | undefined) ?? null;
  if (row.kind === "fixed") {
    // The table's CHECK guarantees a fixed promotion has an amount and a currency.
    if (row.amount === null || currency === null) throw new Error(`Promotion ${row.code} is fixed but has no amount or currency`);
    return { ...rules, kind: "fixed", amount: row.amount, currency };
  }
  if (row.percent_basis_points === null) throw new Error(`Promotion ${row.code} is a percentage but has no rate`);
  return { ...rules, kind: "percentage", percentBasisPoints: row.percent_basis_points, currency };
}
