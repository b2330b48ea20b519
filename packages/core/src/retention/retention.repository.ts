// The retention purge's statements. Each touches at most `limit` rows, picked oldest first through an
// index and claimed with FOR UPDATE SKIP LOCKED, so a purge never waits on a row live traffic holds
// (nor on another process purging) and never takes a long lock.
import { sql } from "kysely";
import type { Db } from "../db/database.ts";

/**
 * Deletes open carts no order was ever placed from whose last change (and last quote) is older than
 * `cutoff`; their lines and quotes go with them (ON DELETE CASCADE). A cart a shopper is editing is
 * locked, so skipped, and an edit bumps its updated_at, so it is no longer old.
 */
export async function deleteAbandonedCarts(db: Db, input: { cutoff: Date; limit: number }): Promise<number> {
  const result = await db
    .deleteFrom("cart")
    .where("id", "in", (eb) =>
      eb
        .selectFrom("cart as c")
        .select("c.id")
        .where("c.status", "=", "open")
        .where("c.updated_at", "<", input.cutoff)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom("order as o").select("o.id").whereRef("o.cart_id", "=", "c.id"))))
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom("quote as q").select("q.id").whereRef("q.cart_id", "=", "c.id").where("q.created_at", ">=", input.cutoff))))
        .orderBy("c.updated_at")
        .limit(input.limit)
        .forUpdate()
        .skipLocked(),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Deletes quotes that expired before `cutoff` and that no order was placed from (an order keeps its quote). */
export async function deleteUnusedExpiredQuotes(db: Db, input: { cutoff: Date; limit: number }): Promise<number> {
  const result = await db
    .deleteFrom("quote")
    .where("id", "in", (eb) =>
      eb
        .selectFrom("quote as q")
        .select("q.id")
        .where("q.expires_at", "<", input.cutoff)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom("order as o").select("o.id").whereRef("o.cart_id", "=", "q.cart_id").whereRef("o.quote_id", "=", "q.id"))))
        .orderBy("q.expires_at")
        .limit(input.limit)
        .forUpdate()
        .skipLocked(),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** What an erased order's email becomes: `.invalid` is reserved (RFC 2606), so no mail can ever go to it. */
export const ERASED_EMAIL = "erased@erased.invalid";

/** Order statuses that can change no more in the ordinary course (a refund aside): their personal data can be erased on schedule. */
const SETTLED_STATUSES = ["cancelled", "captured", "fulfilled", "partially_refunded", "refunded"] as const;

/**
 * Erases the email and address of up to `limit` orders: failed orders placed before `failedBefore`,
 * settled ones placed before `settledBefore`. What the books need stays (lines, amounts, tax, the
 * destination country and region); the name, street, city, postcode, phone and email go.
 * Returns the orders erased, with their carts.
 */
export function eraseOrderPersonalData(db: Db, input: { failedBefore: Date; settledBefore: Date; limit: number }) {
  return db
    .updateTable("order")
    .set({
      email: ERASED_EMAIL,
      shipping_address: sql<string>`jsonb_build_object('name', '', 'line1', '', 'city', '', 'postalCode', '', 'country', shipping_address->'country')
        || case when shipping_address ? 'region' then jsonb_build_object('region', shipping_address->'region') else '{}'::jsonb end`,
      personal_data_erased_at: sql<Date>`now()`,
    })
    .where("id", "in", (eb) =>
      eb
        .selectFrom("order")
        .select("id")
        .where("personal_data_erased_at", "is", null)
        .where((w) =>
          w.or([
            w.and([w("status", "=", "payment_failed"), w("created_at", "<", input.failedBefore)]),
            w.and([w("status", "in", SETTLED_STATUSES), w("created_at", "<", input.settledBefore)]),
          ]),
        )
        .orderBy("created_at")
        .limit(input.limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(["id", "number", "cart_id"])
    .execute();
}

/** The carts of erased orders lose their email and address too. */
export function eraseCartPersonalData(db: Db, cartIds: readonly string[]) {
  return db.updateTable("cart").set({ email: null, shipping_address: null }).where("id", "in", cartIds).execute();
}

/** Promotion uses of erased orders no longer name the shopper (each stays a use of its own). */
export function erasePromotionRedemptionEmails(db: Db, orderIds: readonly string[]) {
  return db.updateTable("promotion_redemption").set({ email: sql<string>`'erased:' || order_id::text` }).where("order_id", "in", orderIds).execute();
}

/**
 * Deletes up to `limit` outbox events dispatched before `cutoff` whose deliveries are all finished
 * (delivered or failed for good), with those deliveries: their payloads carry the shopper's email.
 */
export async function deleteDispatchedOutboxEvents(db: Db, input: { cutoff: Date; limit: number }): Promise<number> {
  const result = await sql<{ deleted: string }>`
    with doomed as (
      select e.id from outbox_event e
      where e.dispatched_at < ${input.cutoff}
        and not exists (select 1 from outbox_delivery d where d.event_id = e.id and d.status = 'pending')
      order by e.dispatched_at
      limit ${input.limit}
      for update skip locked
    ), deliveries as (
      delete from outbox_delivery d using doomed where d.event_id = doomed.id
    ), events as (
      delete from outbox_event e using doomed where e.id = doomed.id returning e.id
    )
    select count(*)::text as deleted from events`.execute(db);
  return Number(result.rows[0]?.deleted ?? 0);
}
