// Quotes: the priced cart a shopper was shown, kept so placeOrder charges exactly that.
import type { Db, NewQuote } from "../db/database.ts";

export function insertQuote(db: Db, quote: NewQuote) {
  return db.insertInto("quote").values(quote).returningAll().executeTakeFirstOrThrow();
}

export function findQuote(db: Db, quoteId: string) {
  return db.selectFrom("quote").selectAll().where("id", "=", quoteId).executeTakeFirst();
}
