// The hold sweep: gives back the stock of orders whose 3-D Secure challenge outlived their hold
// (StockPolicy.holdMs), on time whatever the backlog. Database only, no provider call: batches claimed
// with FOR UPDATE SKIP LOCKED so several processes share the work, each batch one transaction, looping
// until none is left or the time budget is spent. The authorisations left behind at the provider are
// voided afterwards by the reconciler (Reconciler.reconcile), and a late one by whoever hears of it.
import type { Kysely } from "kysely";
import type { Database, Db } from "../db/database.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as Inventory from "../inventory/inventory.ts";
import { orderActions } from "../order/order-state.ts";
import * as PromotionService from "../promotion/promotion.service.ts";
import * as HoldExpiryRepository from "./hold-expiry.repository.ts";

/** The decline code of a payment whose order lost its hold while the shopper owed the 3-D Secure challenge. */
export const HOLD_EXPIRED = "hold_expired";
const ACTOR = "reconciler";
export const DEFAULT_BATCH_SIZE = 100;

export interface HoldSweepSummary {
  /** Orders moved to payment_failed with their stock given back. */
  released: number;
  /** Units given back, all SKUs together. */
  units: number;
  batches: number;
  /** The time budget ran out with expired holds possibly left: run again at once. */
  hasMore: boolean;
}

interface BatchResult {
  /** Orders this batch locked (a full batch means more may be waiting). */
  claimed: number;
  released: number;
  units: number;
}

/** One batch in one transaction: lock, fail, decline the waiting payment, give back promo uses and stock, audit. */
async function releaseBatch(trx: Db, input: { now: Date; limit: number }): Promise<BatchResult> {
  const locked = await HoldExpiryRepository.lockExpiredHolds(trx, input);
  if (locked.length === 0) return { claimed: 0, released: 0, units: 0 };
  // The state machine's failPayment, applied set-based: failPendingOrders moves only orders still pending_payment.
  const to = orderActions.failPayment.to;
  const failed = await HoldExpiryRepository.failPendingOrders(
    trx,
    locked.map((order) => order.id),
    { from: "pending_payment", to },
  );
  if (failed.length === 0) return { claimed: locked.length, released: 0, units: 0 };
  const ids = failed.map((order) => order.id);
  const payments = await HoldExpiryRepository.declineWaitingPayments(trx, ids);
  const lines = await HoldExpiryRepository.listLinesOfOrders(trx, ids);

  // Promotion rows in code order, before any stock, as placeOrder takes them.
  const withCodes = locked.filter((order) => order.promo_code !== null && ids.includes(order.id));
  for (const order of withCodes.sort((a, b) => a.promo_code!.localeCompare(b.promo_code!))) {
    await PromotionService.releaseRedemption(trx, order.id);
  }
  const trail: Audit.AuditEntry[] = [];
  for (const order of failed) {
    const payment = payments.find((row) => row.order_id === order.id);
    for (const line of lines.filter((row) => row.order_id === order.id)) {
      trail.push({ entity: "inventory", entityId: line.sku, action: "inventory.released", actor: ACTOR, data: { orderId: order.id, quantity: line.quantity } });
    }
    if (payment) {
      trail.push({ entity: "payment", entityId: payment.id, action: "payment.declined", actor: ACTOR, outcome: "failure", data: { orderId: order.id, code: HOLD_EXPIRED } });
    }
    trail.push({ entity: "order", entityId: order.id, action: `order.${to}`, actor: ACTOR, data: { from: "pending_payment", to } });
    trail.push({
      entity: "order",
      entityId: order.id,
      action: "reconcile.hold_expired",
      actor: ACTOR,
      data: { number: order.number, code: HOLD_EXPIRED, authorizationId: payment?.provider_reference ?? null },
    });
  }
  await Audit.recordMany(trx, trail);

  // Stock last (Inventory.releaseUnits: one update per SKU in SKU order): the inventory rows, the hottest in the shop,
  // are locked only for the end of the batch, in the order placeOrder takes them, so the two never deadlock.
  const units = await Inventory.releaseUnits(trx, lines);
  return { claimed: locked.length, released: failed.length, units };
}

/**
 * Releases every hold that expired while its order waited on 3-D Secure: batch after batch until a
 * batch comes back short (nothing left that another process is not already releasing) or
 * `timeBudgetMs` is spent (then `hasMore` says to run again at once). Safe to run in any number of
 * processes at once: a locked order is skipped, a released one is no longer pending, so no unit is
 * ever given back twice.
 */
export async function releaseExpired(input: {
  db: Kysely<Database>;
  /** Fixed "now" (tests); the clock at each batch otherwise. */
  now?: Date;
  batchSize?: number;
  timeBudgetMs?: number;
}): Promise<HoldSweepSummary> {
  const limit = input.batchSize ?? DEFAULT_BATCH_SIZE;
  const startedAt = Date.now();
  const summary: HoldSweepSummary = { released: 0, units: 0, batches: 0, hasMore: false };
  for (;;) {
    const now = input.now ?? new Date();
    const batch = await input.db.transaction().execute((trx) => releaseBatch(trx, { now, limit }));
    if (batch.claimed === 0) return summary;
    summary.batches++;
    summary.released += batch.released;
    summary.units += batch.units;
    if (batch.claimed < limit) return summary;
    if (input.timeBudgetMs !== undefined && Date.now() - startedAt >= input.timeBudgetMs) {
      summary.hasMore = true;
      return summary;
    }
  }
}
