// Data retention: what the shop keeps, and for how long. Abandoned carts (with their email and address),
// quotes no order used, expired idempotency records and old outbox events are deleted; orders keep
// what the books need and lose their email and address once their retention period is over. Every
// step runs in bounded batches beside live traffic; the audit log is evidence and is never touched.
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as IdempotencyRepository from "../idempotency/idempotency.repository.ts";
import * as RetentionRepository from "./retention.repository.ts";
import * as PaymentVelocity from "../payment/payment-velocity.ts";

export { ERASED_EMAIL } from "./retention.repository.ts";

export interface RetentionPolicy {
  /** An open cart with no order, unchanged this many days, is deleted with its lines and quotes; a failed order's email and address are erased after as long. */
  cartRetentionDays: number;
  /** A quote no order was placed from is deleted this many hours after it expired. */
  quoteRetentionHours: number;
  /** A settled order (captured, fulfilled, refunded, cancelled) keeps its email and address this many days after it was placed. */
  orderPersonalDataRetentionDays: number;
  /** A dispatched outbox event (its payload names the shopper) is deleted this many days after dispatch. */
  outboxRetentionDays: number;
}

/**
 * Thirty days is long enough for a shopper to come back to a cart and short enough that the shop does
 * not sit on the contact details of people who never bought. Ten years of order data is the longest
 * period bookkeeping laws commonly ask for (set your own jurisdiction's).
 */
export const DEFAULT_RETENTION_POLICY: RetentionPolicy = {
  cartRetentionDays: 30,
  quoteRetentionHours: 24,
  orderPersonalDataRetentionDays: 3650,
  outboxRetentionDays: 30,
};

export const DEFAULT_BATCH_SIZE = 500;
const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

export interface PurgeSummary {
  carts: number;
  quotes: number;
  idempotencyKeys: number;
  outboxEvents: number;
  ordersErased: number;
  /** Card-testing counters whose window and lock have ended (they hold hashed addresses, emails and card fingerprints). */
  paymentVelocity: number;
  /** The time budget ran out with rows possibly left: run again. */
  hasMore: boolean;
}

/** Runs `step` batch after batch until it comes back short or the deadline passes; returns the rows it touched. */
async function drain(step: () => Promise<number>, limit: number, deadline: number, summary: PurgeSummary): Promise<number> {
  let total = 0;
  for (;;) {
    if (Date.now() >= deadline) {
      summary.hasMore = true;
      return total;
    }
    const touched = await step();
    total += touched;
    if (touched < limit) return total;
  }
}

/** One batch of erasure in one transaction: the orders, their carts and promotion uses, one audit row per order. */
async function eraseBatch(db: Kysely<Database>, input: { failedBefore: Date; settledBefore: Date; limit: number }): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const erased = await RetentionRepository.eraseOrderPersonalData(trx, input);
    if (erased.length === 0) return 0;
    await RetentionRepository.eraseCartPersonalData(trx, [...new Set(erased.map((order) => order.cart_id))]);
    await RetentionRepository.erasePromotionRedemptionEmails(
      trx,
      erased.map((order) => order.id),
    );
    await Audit.recordMany(
      trx,
      erased.map((order) => ({ entity: "order", entityId: order.id, action: "order.personal_data_erased", actor: "retention", data: { number: order.number } })),
    );
    return erased.length;
  });
}

/**
 * One purge: every step in batches of `batchSize` until nothing past its retention is left, or until
 * `timeBudgetMs` is spent (`hasMore` then says to run again). Safe in several processes at once.
 */
export async function purge(input: { db: Kysely<Database>; policy?: RetentionPolicy; now?: Date; batchSize?: number; timeBudgetMs?: number }): Promise<PurgeSummary> {
  const { db } = input;
  const policy = input.policy ?? DEFAULT_RETENTION_POLICY;
  const now = (input.now ?? new Date()).getTime();
  const limit = input.batchSize ?? DEFAULT_BATCH_SIZE;
  const deadline = input.timeBudgetMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + input.timeBudgetMs;
  const summary: PurgeSummary = { carts: 0, quotes: 0, idempotencyKeys: 0, outboxEvents: 0, ordersErased: 0, paymentVelocity: 0, hasMore: false };
  const cartCutoff = new Date(now - policy.cartRetentionDays * DAY_MS);

  summary.carts = await drain(() => RetentionRepository.deleteAbandonedCarts(db, { cutoff: cartCutoff, limit }), limit, deadline, summary);
  const quoteCutoff = new Date(now - policy.quoteRetentionHours * HOUR_MS);
  summary.quotes = await drain(() => RetentionRepository.deleteUnusedExpiredQuotes(db, { cutoff: quoteCutoff, limit }), limit, deadline, summary);
  summary.idempotencyKeys = await drain(() => IdempotencyRepository.deleteExpired(db, { limit }), limit, deadline, summary);
  const outboxCutoff = new Date(now - policy.outboxRetentionDays * DAY_MS);
  summary.outboxEvents = await drain(() => RetentionRepository.deleteDispatchedOutboxEvents(db, { cutoff: outboxCutoff, limit }), limit, deadline, summary);
  const settledBefore = new Date(now - policy.orderPersonalDataRetentionDays * DAY_MS);
  summary.ordersErased = await drain(() => eraseBatch(db, { failedBefore: cartCutoff, settledBefore, limit }), limit, deadline, summary);
  summary.paymentVelocity = await drain(() => PaymentVelocity.purgeEnded({ db, now: new Date(now), limit }), limit, deadline, summary);
  return summary;
}
