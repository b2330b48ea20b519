// One placeOrder payment attempt as the card-testing defences see it: checked against the velocity limits before any
// stock is held, given its place in every limit before the processor is called, counted when declined, and reported
// once (for the metric and the log line) whatever its end. Every refusal leaves an audit record naming the limit.
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { AppError, isAppError } from "../error.ts";
import type { Order } from "../schemas.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as CartRepository from "../cart/cart.repository.ts";
import * as DeclineReason from "../payment/decline-reason.ts";
import * as PaymentOutcome from "../payment/payment-outcome.ts";
import * as PaymentVelocity from "../payment/payment-velocity.ts";
import type { CardSummary, PaymentProvider } from "../payment/payment-provider.ts";

export type Outcome = "authorized" | "requires_action" | "declined" | "refused_velocity" | "token_rejected" | "unavailable" | "failed";

/** Where in placeOrder a refusal happened. */
export type Stage = "before_order" | "before_authorize" | "after_decline";

/** One line per attempt for metrics and logs: how it ended and, when a limit refused or locked, which ones. */
export interface Report {
  outcome: Outcome;
  limits: PaymentVelocity.Scope[];
}

export interface Attempt {
  db: Kysely<Database>;
  limits: PaymentVelocity.Limits | undefined;
  payments: PaymentProvider;
  cartId: string;
  origin: { ip?: string; userAgent?: string } | undefined;
  now: Date;
  onReport: ((report: Report) => void) | undefined;
  keys: PaymentVelocity.VelocityKey[];
  reserved: PaymentVelocity.VelocityKey[];
  outcome: Outcome | null;
  lockedScopes: PaymentVelocity.Scope[];
  isFinished: boolean;
}

/** The card's fingerprint from the provider, if it can say before authorising; a lookup that fails only skips the limit per card. */
async function fingerprintOf(payments: PaymentProvider, token: string): Promise<string | null> {
  if (!payments.retrieveToken) return null;
  try {
    return (await payments.retrieveToken({ token }))?.card.fingerprint ?? null;
  } catch {
    return null;
  }
}

async function refuse(attempt: Attempt, locks: PaymentVelocity.Lock[], stage: Stage, orderId?: string): Promise<AppError> {
  const refusal = PaymentVelocity.refusalOf(locks, attempt.now);
  attempt.lockedScopes = [...new Set(locks.map((lock) => lock.scope))];
  await Audit.record(attempt.db, {
    entity: "cart",
    entityId: attempt.cartId,
    action: "payment.velocity_refused",
    actor: "shopper",
    outcome: "failure",
    origin: attempt.origin,
    data: {
      stage,
      ...(orderId ? { orderId } : {}),
      limits: locks.map((lock) => ({ limit: lock.scope, declines: lock.declines, lockedUntil: lock.lockedUntil.toISOString() })),
      retryAfterSeconds: refusal.retryAfterSeconds,
    },
  });
  return PaymentVelocity.lockedError(refusal);
}

/**
 * Starts an attempt: with limits on, refuses it (PAYMENT_ATTEMPTS_LOCKED, audited and reported) when its cart, client
 * address, email or card is locked, before anything is written. The card's fingerprint is looked up at the provider
 * only when some card is locked and the rest let the attempt through, so an ordinary checkout pays no extra call and
 * a locked cart costs the provider nothing.
 */
export async function begin(input: {
  db: Kysely<Database>;
  limits?: PaymentVelocity.Limits;
  payments: PaymentProvider;
  cartId: string;
  paymentToken: string;
  origin?: { ip?: string; userAgent?: string };
  now: Date;
  onReport?: (report: Report) => void;
}): Promise<Attempt> {
  const attempt: Attempt = {
    db: input.db,
    limits: input.limits,
    payments: input.payments,
    cartId: input.cartId,
    origin: input.origin,
    now: input.now,
    onReport: input.onReport,
    keys: [],
    reserved: [],
    outcome: null,
    lockedScopes: [],
    isFinished: false,
  };
  const { limits } = input;
  if (!limits) return attempt;
  const cart = await CartRepository.findCart(input.db, input.cartId);
  attempt.keys = PaymentVelocity.keysOf({ cartId: input.cartId, address: input.origin?.ip, email: cart?.email }, limits);
  const checked = await PaymentVelocity.findLocks({ db: input.db, keys: attempt.keys, now: input.now, anyOfScope: limits.card.maxDeclines > 0 ? "card" : undefined });
  const locks = checked.locks;
  // While no card at all is locked, the card's own limit cannot refuse: its declines are learnt from the processor's answers.
  if (locks.length === 0 && checked.isAnyLocked) {
    const fingerprint = await fingerprintOf(input.payments, input.paymentToken);
    const cardKeys = PaymentVelocity.keysOf({ cartId: input.cartId, cardFingerprint: fingerprint }, limits).filter((key) => key.scope === "card");
    attempt.keys.push(...cardKeys);
    locks.push(...(await PaymentVelocity.findLocks({ db: input.db, keys: cardKeys, now: input.now })).locks);
  }
  if (locks.length > 0) {
    const error = await refuse(attempt, locks, "before_order");
    finish({ attempt, outcome: "refused_velocity" });
    throw error;
  }
  return attempt;
}

/**
 * Takes the attempt's place in every limit right before the processor is called. Refused (attempts that passed the
 * read-only check together, or too many at the processor at once): the pending order is failed at once, giving its
 * stock back, and the attempt ends.
 */
export async function reserve(input: { attempt: Attempt; orderId: string }): Promise<void> {
  const { attempt } = input;
  if (!attempt.limits || attempt.keys.length === 0) return;
  const { reserved, refused } = await PaymentVelocity.reserve({ db: attempt.db, keys: attempt.keys, limits: attempt.limits, now: attempt.now });
  attempt.reserved = reserved;
  if (refused.length === 0) return;
  await PaymentOutcome.recordFailed({ db: attempt.db, orderId: input.orderId, provider: attempt.payments.name, code: "velocity_refused", card: null, actor: "shopper" });
  attempt.outcome ??= "refused_velocity";
  throw await refuse(attempt, refused, "before_authorize", input.orderId);
}

/**
 * The processor declined: counts the decline on every key (before the order leaves pending_payment, so the cart's next
 * attempt already sees it) and returns what to answer: the decline's category, or, when any limit is now locked,
 * PAYMENT_ATTEMPTS_LOCKED with no reason at all.
 */
export async function recordDecline(input: { attempt: Attempt; orderId: string; code: string; card: CardSummary | null }): Promise<AppError> {
  const { attempt } = input;
  attempt.outcome ??= "declined";
  if (attempt.limits) {
    const learnt = PaymentVelocity.keysOf({ cartId: attempt.cartId, cardFingerprint: input.card?.fingerprint }, attempt.limits).filter((key) => key.scope === "card");
    const locks = await PaymentVelocity.settle({ db: attempt.db, reserved: attempt.reserved, learnt, isDecline: true, limits: attempt.limits, now: attempt.now });
    attempt.reserved = [];
    if (locks.length > 0) return refuse(attempt, locks, "after_decline", input.orderId);
  }
  const reason = DeclineReason.forShopper(input.code);
  return new AppError("PAYMENT_DECLINED", reason.message, { code: reason.code, orderId: input.orderId });
}

/** How an attempt ended, from what placeOrder returned or threw (the first outcome noted wins). */
export function noteOutcome(input: { attempt: Attempt; order?: Order; error?: unknown }): void {
  const { attempt, order, error } = input;
  if (attempt.outcome) return;
  if (order) {
    attempt.outcome = order.status === "pending_payment" ? "requires_action" : "authorized";
    return;
  }
  const code = isAppError(error) ? error.code : null;
  attempt.outcome =
    code === "PAYMENT_DECLINED"
      ? "declined"
      : code === "PAYMENT_ATTEMPTS_LOCKED"
        ? "refused_velocity"
        : code === "PAYMENT_TOKEN_INVALID"
          ? "token_rejected"
          : code === "PAYMENT_UNAVAILABLE"
            ? "unavailable"
            : "failed";
}

/** Gives back whatever the attempt still holds in the limits and reports it, once. */
export async function settle(input: { attempt: Attempt }): Promise<void> {
  const { attempt } = input;
  if (attempt.isFinished) return;
  try {
    if (attempt.limits && attempt.reserved.length > 0) {
      const reserved = attempt.reserved;
      attempt.reserved = [];
      await PaymentVelocity.settle({ db: attempt.db, reserved, isDecline: false, limits: attempt.limits, now: attempt.now });
    }
  } finally {
    finish({ attempt, outcome: attempt.outcome ?? "failed" });
  }
}

function finish(input: { attempt: Attempt; outcome: Outcome }): void {
  const { attempt } = input;
  if (attempt.isFinished) return;
  attempt.isFinished = true;
  attempt.outcome = input.outcome;
  attempt.onReport?.({ outcome: input.outcome, limits: attempt.lockedScopes });
}
