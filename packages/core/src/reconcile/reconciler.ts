// The reconciler: finds orders stuck between states (a crash, a provider timeout, an abandoned
// 3-D Secure challenge) and drives each to a final, consistent state, asking the provider what
// really happened. Every step is idempotent, so two reconcilers at once, or a second run, change nothing more.
import type { Kysely } from "kysely";
import type { Database, OrderRow } from "../db/database.ts";
import { isAppError } from "../error.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as PaymentOutcome from "../payment/payment-outcome.ts";
import type { AuthorizationState, PaymentProvider } from "../payment/payment-provider.ts";
import { reach, type Reached } from "../payment/provider-call.ts";
import { verdictOf, type ProviderState } from "../payment/payment-state.ts";
import { settle, type Settlement } from "../payment/settle.ts";
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
/** The decline code of an order whose shopper never finished 3-D Secure before its hold ran out. */
export const AUTHENTICATION_ABANDONED = "authentication_abandoned";

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

  /** Runs one provider call, counting unreachable answers in a row so a provider that is down is not asked again this run. */
  async callProvider<T>(fn: () => Promise<T>): Promise<Reached<T>> {
    const reached = await reach(fn);
    this.#consecutiveUnavailable = reached.isReached ? 0 : this.#consecutiveUnavailable + 1;
    return reached;
  }

  /** Notes whether a capture attempted while settling reached the provider. */
  noteCapture(capture: Settlement["capture"]): void {
    if (capture === "unreachable") this.#consecutiveUnavailable++;
    else if (capture === "captured") this.#consecutiveUnavailable = 0;
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

/** Settles a stale pending order with what the provider holds for it (Payment.settle reads the answer). */
async function settleWithProvider(run: ReconcileRun, order: OrderRow, state: ProviderState): Promise<OrderResult> {
  const { db, payments, captureMode } = run.options;
  let settled: Settlement;
  try {
    settled = await settle({ db, payments, captureMode, order, state, actor: ACTOR });
  } catch (error) {
    // The provider holds a different amount or currency than the order: settle audited it; never guess, leave it for a person.
    if (isAppError(error) && error.code === "AMOUNT_MISMATCH") return { outcome: "skipped", reason: error.message };
    throw error;
  }
  run.noteCapture(settled.capture);
  if (settled.outcome === "unchanged" || settled.outcome === "late_voided") return { outcome: "skipped", reason: "the order left pending_payment meanwhile" };
  const authorizationId = state && "authorizationId" in state ? state.authorizationId : null;
  const providerStatus = state?.status ?? "none";
  if (settled.outcome === "failed") {
    run.summary.released++;
    const verdict = verdictOf(state);
    const code = verdict.kind === "failed" ? verdict.code : null;
    await run.audit(order, "released", { code, authorizationId, providerStatus });
    return { outcome: "released" };
  }
  run.summary.confirmed++;
  if (settled.capture === "captured") run.summary.captured++;
  const outcome = settled.capture === "captured" ? "captured-and-confirmed" : "confirmed";
  await run.audit(order, outcome, { authorizationId, providerStatus });
  return { outcome };
}

async function voidAndRelease(run: ReconcileRun, order: OrderRow, state: AuthorizationState): Promise<OrderResult> {
  const { db, payments } = run.options;
  const voided = await run.callProvider(() => payments.void({ authorizationId: state.authorizationId, idempotencyKey: PaymentOutcome.providerKeys.void(order.id) }));
  if (!voided.isReached) return { outcome: "skipped", reason: "payment provider unreachable" };
  run.summary.voided++;
  const code = AUTHENTICATION_ABANDONED;
  const isReleased = await PaymentOutcome.recordFailed({ db, orderId: order.id, provider: payments.name, code, card: state.card, actor: ACTOR });
  if (!isReleased) return { outcome: "skipped", reason: "voided, but the order left pending_payment meanwhile" };
  run.summary.released++;
  await run.audit(order, "voided-and-released", { code, authorizationId: state.authorizationId });
  return { outcome: "voided-and-released" };
}

async function reconcilePending(run: ReconcileRun, order: OrderRow): Promise<OrderResult> {
  if (run.isProviderDown) return { outcome: "skipped", reason: "payment provider unreachable" };
  const found = await run.callProvider(() => run.options.payments.findAuthorization({ reference: order.number }));
  if (!found.isReached) return { outcome: "skipped", reason: "payment provider unreachable" };
  const state = found.value;
  if (state?.status === "requires_action") {
    // The shopper may still answer the challenge until the order's hold runs out; then it is abandoned.
    const hasExpired = order.reservation_expires_at !== null && order.reservation_expires_at.getTime() <= run.options.now.getTime();
    if (!hasExpired) return { outcome: "skipped", reason: "awaiting 3-D Secure until the reservation expires" };
    return voidAndRelease(run, order, state);
  }
  return settleWithProvider(run, order, state);
}

async function reconcileUncaptured(run: ReconcileRun, order: OrderRow): Promise<OrderResult> {
  if (run.isProviderDown) return { outcome: "skipped", reason: "payment provider unreachable" };
  const { db, payments } = run.options;
  const captured = await run.callProvider(() => PaymentOutcome.capture({ db, payments, orderId: order.id, actor: ACTOR }));
  if (!captured.isReached) return { outcome: "skipped", reason: "payment provider unreachable" };
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
  if (!found.isReached) return { outcome: "skipped", reason: "payment provider unreachable" };
  const state = found.value;
  if (state?.status === "captured") return { outcome: "skipped", reason: "captured at the provider after its hold expired: refund it by hand" };
  let closed: { status: "voided" | "declined"; declineCode: string };
  const verdict = verdictOf(state);
  if (state?.status === "failed" && verdict.kind === "failed") {
    closed = { status: "declined", declineCode: verdict.code };
  } else {
    if (state?.status === "requires_action" || state?.status === "authorized") {
      const voided = await run.callProvider(() => payments.void({ authorizationId: state.authorizationId, idempotencyKey: PaymentOutcome.providerKeys.void(row.order_id) }));
      if (!voided.isReached) return { outcome: "skipped", reason: "payment provider unreachable" };
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

  await walk(
    run,
    limit,
    (after) => ReconcileRepository.listStalePendingOrders(db, { olderThan, now, limit, after }),
    orderCursor,
    (order) => examine(run, order, reconcilePending),
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
