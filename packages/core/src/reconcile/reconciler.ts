// The reconciler: finds orders stuck between states (a crash, a provider timeout, an abandoned
// 3-D Secure challenge) and drives each to a final, consistent state, asking the provider what
// really happened. Every step is idempotent, so two reconcilers at once, or a second run, change nothing more.
import type { Kysely } from "kysely";
import type { Database, OrderRow } from "../db/database.ts";
import { isAppError } from "../error.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as PaymentOutcome from "../payment/payment-outcome.ts";
import { PaymentProviderUnavailableError, type AuthorizationState, type PaymentProvider } from "../payment/payment-provider.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as ReconcileRepository from "./reconcile.repository.ts";
import * as HoldExpiry from "./hold-expiry.ts";

export type ReconcileOutcome =
  /** The provider had authorised: the order is now authorised, and captured (immediate capture mode). */
  | "captured-and-confirmed"
  /** The provider had authorised: the order is now authorised (capture on fulfilment, or the capture failed and is retried next run). */
  | "confirmed"
  /** An authorised order left uncaptured is now captured. */
  | "captured"
  /** No authorisation, or a failed one: the order failed and its stock is back. */
  | "released"
  /** An abandoned 3-D Secure authorisation was voided at the provider, the order failed and its stock is back. */
  | "voided-and-released"
  /** The authorisation of an order the hold sweep released is closed at the provider (voided, or found failed or voided). */
  | "hold-authorization-closed"
  /** Left for the next run: the provider is unreachable, the shopper may still finish 3-D Secure, or another process got there first. */
  | "skipped";

export interface ReconcileSummary {
  examined: number;
  /** Pending orders found authorised at the provider and recorded as authorised. */
  confirmed: number;
  /** Orders whose payment this run captured. */
  captured: number;
  /** Orders moved to payment_failed with their stock given back (including voided ones). */
  released: number;
  /** Authorisations voided at the provider. */
  voided: number;
  skipped: number;
  orders: { orderId: string; number: string; outcome: ReconcileOutcome; reason?: string }[];
}

export interface ReconcileOptions {
  db: Kysely<Database>;
  payments: PaymentProvider;
  captureMode: PaymentOutcome.CaptureMode;
  /** How long an order may sit in pending_payment or uncaptured before the reconciler steps in; longer than the provider's timeout. */
  graceMs?: number;
  /** Orders read per page; a run reads page after page until none is left or the time budget is spent. */
  limit?: number;
  /** Stop starting new orders after this long (the rest wait for the next run); no limit when not given. */
  timeBudgetMs?: number;
  now?: Date;
  onError?: (error: unknown, context: { orderId: string; number: string }) => void;
}

export const DEFAULT_GRACE_MS = 60_000;
const DEFAULT_LIMIT = 100;
/** After this many "unreachable" answers in a row, the rest of the run stops asking the provider. */
const MAX_CONSECUTIVE_UNAVAILABLE = 3;

const ACTOR = "reconciler";

type OrderResult = { outcome: ReconcileOutcome; reason?: string };

class ReconcileRun {
  readonly summary: ReconcileSummary = { examined: 0, confirmed: 0, captured: 0, released: 0, voided: 0, skipped: 0, orders: [] };
  #consecutiveUnavailable = 0;
  readonly #deadline: number;

  constructor(readonly options: ReconcileOptions & { now: Date }) {
    this.#deadline = options.timeBudgetMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeBudgetMs;
  }

  get isOutOfTime(): boolean {
    return Date.now() >= this.#deadline;
  }

  get isProviderDown(): boolean {
    return this.#consecutiveUnavailable >= MAX_CONSECUTIVE_UNAVAILABLE;
  }

  /** Runs one provider call; an unreachable provider resolves to null so the order is left for the next run. */
  async callProvider<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
    try {
      const value = await fn();
      this.#consecutiveUnavailable = 0;
      return { ok: true, value };
    } catch (error) {
      if (!(error instanceof PaymentProviderUnavailableError)) throw error;
      this.#consecutiveUnavailable++;
      return { ok: false };
    }
  }

  async audit(order: OrderRow, outcome: ReconcileOutcome, data: Record<string, unknown>): Promise<void> {
    await Audit.record(this.options.db, {
      entity: "order",
      entityId: order.id,
      action: `reconcile.${outcome.replaceAll("-", "_")}`,
      actor: ACTOR,
      data: { number: order.number, ...data },
    });
  }

  note(order: { id: string; number: string }, result: OrderResult): void {
    this.summary.orders.push({ orderId: order.id, number: order.number, ...result });
    if (result.outcome === "skipped") this.summary.skipped++;
  }
}

async function settleAuthorized(run: ReconcileRun, order: OrderRow, state: AuthorizationState): Promise<OrderResult> {
  const { db, payments, captureMode } = run.options;
  let isRecorded: boolean;
  try {
    isRecorded = await PaymentOutcome.recordAuthorized({
      db,
      orderId: order.id,
      provider: payments.name,
      authorizationId: state.authorizationId,
      card: state.card,
      amount: state.amount,
    });
  } catch (error) {
    // The provider holds a different amount than the order: never guess, leave it for a person.
    if (isAppError(error) && error.code === "ILLEGAL_TRANSITION") {
      await Audit.record(db, {
        entity: "order",
        entityId: order.id,
        action: "reconcile.amount_mismatch",
        actor: ACTOR,
        outcome: "failure",
        data: { number: order.number, authorizationId: state.authorizationId, authorised: state.amount, total: order.total },
      });
      return { outcome: "skipped", reason: "authorised amount differs from the order total" };
    }
    throw error;
  }
  if (!isRecorded) return { outcome: "skipped", reason: "the order left pending_payment meanwhile" };
  run.summary.confirmed++;
  let isCaptured = false;
  // Already captured at the provider (a capture whose answer was lost): record it whatever the mode.
  if (captureMode === "immediate" || state.status === "captured") {
    const captured = await run.callProvider(() => PaymentOutcome.capture({ db, payments, orderId: order.id }));
    isCaptured = captured.ok && captured.value;
    if (isCaptured) run.summary.captured++;
  }
  const outcome = isCaptured ? "captured-and-confirmed" : "confirmed";
  await run.audit(order, outcome, { authorizationId: state.authorizationId, providerStatus: state.status });
  return { outcome };
}

async function release(run: ReconcileRun, order: OrderRow, code: string, state: AuthorizationState | null): Promise<OrderResult> {
  const { db, payments } = run.options;
  const isReleased = await PaymentOutcome.recordFailed({ db, orderId: order.id, provider: payments.name, code, card: state?.card ?? null });
  if (!isReleased) return { outcome: "skipped", reason: "the order left pending_payment meanwhile" };
  run.summary.released++;
  await run.audit(order, "released", { code, authorizationId: state?.authorizationId ?? null, providerStatus: state?.status ?? "none" });
  return { outcome: "released" };
}

async function voidAndRelease(run: ReconcileRun, order: OrderRow, state: AuthorizationState): Promise<OrderResult> {
  const { db, payments } = run.options;
  const voided = await run.callProvider(() =>
    payments.void({ authorizationId: state.authorizationId, idempotencyKey: PaymentOutcome.providerKeys.void(order.id) }),
  );
  if (!voided.ok) return { outcome: "skipped", reason: "payment provider unreachable" };
  run.summary.voided++;
  const code = "authentication_abandoned";
  const isReleased = await PaymentOutcome.recordFailed({ db, orderId: order.id, provider: payments.name, code, card: state.card });
  if (!isReleased) return { outcome: "skipped", reason: "voided, but the order left pending_payment meanwhile" };
  run.summary.released++;
  await run.audit(order, "voided-and-released", { code, authorizationId: state.authorizationId });
  return { outcome: "voided-and-released" };
}

async function reconcilePending(run: ReconcileRun, order: OrderRow): Promise<OrderResult> {
  if (run.isProviderDown) return { outcome: "skipped", reason: "payment provider unreachable" };
  const found = await run.callProvider(() => run.options.payments.findAuthorization({ reference: order.number }));
  if (!found.ok) return { outcome: "skipped", reason: "payment provider unreachable" };
  const state = found.value;
  if (!state) return release(run, order, "no_authorization", null);
  switch (state.status) {
    case "authorized":
    case "captured":
      return settleAuthorized(run, order, state);
    case "failed":
      return release(run, order, state.failureCode ?? "declined", state);
    case "voided":
      return release(run, order, "voided", state);
    case "requires_action": {
      const hasExpired = order.reservation_expires_at !== null && order.reservation_expires_at.getTime() <= run.options.now.getTime();
      if (!hasExpired) return { outcome: "skipped", reason: "awaiting 3-D Secure until the reservation expires" };
      return voidAndRelease(run, order, state);
    }
  }
}

async function reconcileUncaptured(run: ReconcileRun, order: OrderRow): Promise<OrderResult> {
  if (run.isProviderDown) return { outcome: "skipped", reason: "payment provider unreachable" };
  const { db, payments } = run.options;
  const captured = await run.callProvider(() => PaymentOutcome.capture({ db, payments, orderId: order.id }));
  if (!captured.ok) return { outcome: "skipped", reason: "payment provider unreachable" };
  if (!captured.value) return { outcome: "skipped", reason: "the order left authorised meanwhile" };
  run.summary.captured++;
  await run.audit(order, "captured", {});
  return { outcome: "captured" };
}

/**
 * The authorisation of an order the hold sweep released (HoldExpiry) may still be open at the provider:
 * the challenge unanswered, or answered after the hold ran out. Void it, so no money is held for an
 * order that no longer exists; then the payment leaves this worklist.
 */
async function closeReleasedHold(run: ReconcileRun, row: ReleasedHold): Promise<OrderResult> {
  if (run.isProviderDown) return { outcome: "skipped", reason: "payment provider unreachable" };
  const { db, payments } = run.options;
  const found = await run.callProvider(() => payments.findAuthorization({ reference: row.number }));
  if (!found.ok) return { outcome: "skipped", reason: "payment provider unreachable" };
  const state = found.value;
  if (state?.status === "captured") return { outcome: "skipped", reason: "captured at the provider after its hold expired: refund it by hand" };
  let closed: { status: "voided" | "declined"; declineCode: string };
  if (state?.status === "failed") {
    closed = { status: "declined", declineCode: state.failureCode ?? "authentication_failed" };
  } else {
    if (state?.status === "requires_action" || state?.status === "authorized") {
      const voided = await run.callProvider(() =>
        payments.void({ authorizationId: state.authorizationId, idempotencyKey: PaymentOutcome.providerKeys.void(row.order_id) }),
      );
      if (!voided.ok) return { outcome: "skipped", reason: "payment provider unreachable" };
      run.summary.voided++;
    }
    closed = { status: "voided", declineCode: HoldExpiry.HOLD_EXPIRED };
  }
  if (!(await ReconcileRepository.closeReleasedHoldPayment(db, { paymentId: row.id, ...closed }))) {
    return { outcome: "skipped", reason: "closed by another reconciler meanwhile" };
  }
  await Audit.record(db, {
    entity: "order",
    entityId: row.order_id,
    action: "reconcile.hold_authorization_closed",
    actor: ACTOR,
    data: { number: row.number, authorizationId: row.provider_reference, providerStatus: state?.status ?? "none", paymentStatus: closed.status },
  });
  return { outcome: "hold-authorization-closed" };
}

type ReleasedHold = Awaited<ReturnType<typeof ReconcileRepository.listReleasedHoldAuthorizations>>[number];

/** Walks a listing page by page (keyset), visiting each row until the listing is exhausted or the run is out of time. */
async function walk<T>(
  run: ReconcileRun,
  limit: number,
  list: (after: ReconcileRepository.PageCursor | undefined) => Promise<T[]>,
  cursorOf: (row: T) => ReconcileRepository.PageCursor,
  visit: (row: T) => Promise<void>,
): Promise<void> {
  let after: ReconcileRepository.PageCursor | undefined;
  for (;;) {
    const page = await list(after);
    for (const row of page) {
      if (run.isOutOfTime) return;
      await visit(row);
    }
    if (page.length < limit) return;
    after = cursorOf(page.at(-1)!);
  }
}

async function examine(run: ReconcileRun, order: OrderRow, fn: (run: ReconcileRun, order: OrderRow) => Promise<OrderResult>): Promise<void> {
  run.summary.examined++;
  try {
    run.note(order, await fn(run, order));
  } catch (error) {
    run.options.onError?.(error, { orderId: order.id, number: order.number });
    run.note(order, { outcome: "skipped", reason: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * One reconciliation run: (a) pending orders past the grace period or their reservation — confirm
 * (and capture) what the provider authorised, release what it did not, void abandoned 3-D Secure;
 * (b) with immediate capture, capture authorised orders left uncaptured past the grace period;
 * (c) void at the provider the authorisations of holds the hold sweep released. Each part reads page
 * after page until nothing is left or `timeBudgetMs` is spent, so a backlog is never capped per run.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileSummary> {
  const now = options.now ?? new Date();
  const run = new ReconcileRun({ ...options, now });
  const limit = options.limit ?? DEFAULT_LIMIT;
  const olderThan = new Date(now.getTime() - (options.graceMs ?? DEFAULT_GRACE_MS));
  const { db } = options;
  const orderCursor = (order: OrderRow) => ({ at: order.created_at, id: order.id });

  await walk(run, limit, (after) => ReconcileRepository.listStalePendingOrders(db, { olderThan, now, limit, after }), orderCursor, (order) =>
    examine(run, order, reconcilePending),
  );
  if (options.captureMode === "immediate") {
    await walk(
      run,
      limit,
      (after) => ReconcileRepository.listUncapturedOrders(db, { olderThan, limit, after }),
      (order) => ({ at: order.updated_at, id: order.id }),
      (order) => examine(run, order, reconcileUncaptured),
    );
  }
  await walk(
    run,
    limit,
    (after) => ReconcileRepository.listReleasedHoldAuthorizations(db, { limit, after }),
    (row) => ({ at: row.updated_at, id: row.id }),
    async (row) => {
      run.summary.examined++;
      const order = { id: row.order_id, number: row.number };
      try {
        run.note(order, await closeReleasedHold(run, row));
      } catch (error) {
        options.onError?.(error, { orderId: row.order_id, number: row.number });
        run.note(order, { outcome: "skipped", reason: error instanceof Error ? error.message : String(error) });
      }
    },
  );
  return run.summary;
}

/**
 * For placeOrder when an authorisation arrives after the reconciler had already released the order
 * (the provider answered later than the grace period): void it at the provider, so no money stays
 * held for an order that no longer exists. Returns true when the order is failed (the authorisation
 * voided, or left to lapse if the provider is unreachable); false when the order was settled with
 * this authorisation after all (by a webhook or the reconciler) and it must be kept.
 */
export async function voidLateAuthorization(input: {
  db: Kysely<Database>;
  payments: PaymentProvider;
  orderId: string;
  authorizationId: string;
}): Promise<boolean> {
  const order = await OrderRepository.findOrder(input.db, input.orderId);
  if (!order || (order.status !== "payment_failed" && order.status !== "cancelled")) return false;
  let isVoided = true;
  try {
    await input.payments.void({ authorizationId: input.authorizationId, idempotencyKey: PaymentOutcome.providerKeys.void(order.id) });
  } catch (error) {
    // Never captured, the hold lapses at the issuer; the failed audit row tells an operator to void it by hand.
    if (!(error instanceof PaymentProviderUnavailableError)) throw error;
    isVoided = false;
  }
  await Audit.record(input.db, {
    entity: "order",
    entityId: order.id,
    action: isVoided ? "reconcile.late_authorization_voided" : "reconcile.late_authorization_void_failed",
    actor: ACTOR,
    outcome: isVoided ? "success" : "failure",
    data: { number: order.number, authorizationId: input.authorizationId, status: order.status },
  });
  return true;
}

