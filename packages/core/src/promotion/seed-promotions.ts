// The demo promo codes loaded into an empty shop. Idempotent: an existing code (and its use count)
// is left alone, so a restart never resets how often a code has been used.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database, NewPromotion } from "../db/database.ts";
import * as PromotionRepository from "./promotion.repository.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The demo codes, relative to `now` (the first seeding fixes their dates). */
export function seedPromotionList(now: Date): Omit<NewPromotion, "id">[] {
  return [
    {
      code: "WELCOME10",
      description: "10 % off your first order (once per customer)",
      kind: "percentage",
      percent_basis_points: 1000,
      per_customer_limit: 1,
    },
    {
      code: "SAVE5",
      description: "$5 off US-dollar orders of $30 or more",
      kind: "fixed",
      amount: 500,
      currency: "USD",
      min_subtotal: 3000,
    },
    {
      code: "EURO5",
      description: "€5 off euro orders",
      kind: "fixed",
      amount: 500,
      currency: "EUR",
    },
    {
      code: "EXPIRED",
      description: "20 % off: a campaign that ended yesterday",
      kind: "percentage",
      percent_basis_points: 2000,
      starts_at: new Date(now.getTime() - 30 * DAY_MS),
      ends_at: new Date(now.getTime() - DAY_MS),
    },
  ];
}

/** Inserts the demo codes that are missing. Returns how many were inserted. */
export async function seedPromotions(db: Kysely<Database>, now = new Date()): Promise<number> {
  return db.transaction().execute(async (trx) => {
    let inserted = 0;
    for (const promotion of seedPromotionList(now)) {
      if (await PromotionRepository.insertPromotionIfMissing(trx, { id: randomUUID(), ...promotion })) inserted += 1;
    }
    return inserted;
  });
}
