// Delivers outbox events to their targets (the confirmation email, each order webhook), at least
// once, with retries and exponential backoff. Safe to run in every API process at the same time.
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import * as OutboxRepository from "./outbox.repository.ts";
import type { OutboxEvent } from "./outbox.repository.ts";

/** Somewhere an event goes. `name` is stored on its delivery rows, so it must be stable across restarts. */
export interface OutboxTarget {
  readonly name: string;
  accepts(event: OutboxEvent): boolean;
  /** Resolves once the receiver has accepted the event; throws to have it retried. */
  deliver(event: OutboxEvent): Promise<void>;
}

export interface DispatchOptions {
  db: Kysely<Database>;
  targets: readonly OutboxTarget[];
  /** Events fanned out and deliveries claimed per round. */
  batchSize?: number;
  /** Attempts per delivery before it is marked failed for good. */
  maxAttempts?: number;
  /** First retry delay; each further retry doubles it, up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long a claimed delivery stays reserved for this dispatcher; longer than any delivery may take. */
  leaseMs?: number;
  /** Deliveries in flight at once. */
  concurrency?: number;
  onError?: (error: unknown, context: { deliveryId: string; target: string; eventId: string; attempts: number }) => void;
}

export interface DispatchSummary {
  /** Events given their delivery rows (or marked dispatched at once when no target wants them). */
  fannedOut: number;
  delivered: number;
  /** Failed attempts that will be tried again. */
  retrying: number;
  /** Deliveries given up on after their last attempt. */
  failed: number;
  dispatched: number;
}

export const defaults = {
  batchSize: 50,
  maxAttempts: 12,
  retryBaseMs: 5_000,
  retryMaxMs: 60 * 60 * 1000,
  leaseMs: 60_000,
  concurrency: 8,
} as const;

const MAX_ROUNDS = 20;

/** Delay before the attempt after `attempts` failures: base · 2^(attempts−1), capped, with ±20 % jitter. */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
  return String(error);
}

async function fanOut(db: Kysely<Database>, targets: readonly OutboxTarget[], limit: number): Promise<{ fannedOut: number; dispatched: number }> {
  return db.transaction().execute(async (trx) => {
    const events = await OutboxRepository.claimEventsToFanOut(trx, limit);
    const untargeted: string[] = [];
    for (const event of events) {
      const names = targets.filter((target) => target.accepts(event)).map((target) => target.name);
      if (names.length === 0) untargeted.push(event.id);
      else await OutboxRepository.insertDeliveries(trx, event.id, names);
    }
    const dispatched = await OutboxRepository.markDispatched(trx, untargeted);
    return { fannedOut: events.length, dispatched };
  });
}

async function runLimited<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/**
 * One dispatch run: fan new events out into one delivery per target, deliver what is due, and mark
 * events dispatched once every delivery is delivered or failed for good. Repeats while there is
 * work, up to a bound, so a backlog drains without waiting for the next run.
 */
export async function dispatch(options: DispatchOptions): Promise<DispatchSummary> {
  const batchSize = options.batchSize ?? defaults.batchSize;
  const maxAttempts = options.maxAttempts ?? defaults.maxAttempts;
  const retryBaseMs = options.retryBaseMs ?? defaults.retryBaseMs;
  const retryMaxMs = options.retryMaxMs ?? defaults.retryMaxMs;
  const leaseMs = options.leaseMs ?? defaults.leaseMs;
  const concurrency = options.concurrency ?? defaults.concurrency;
  const targetsByName = new Map(options.targets.map((target) => [target.name, target]));
  const summary: DispatchSummary = { fannedOut: 0, delivered: 0, retrying: 0, failed: 0, dispatched: 0 };
  summary.dispatched += await OutboxRepository.markSettledEventsDispatched(options.db, batchSize);

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const fanned = await fanOut(options.db, options.targets, batchSize);
    summary.fannedOut += fanned.fannedOut;
    summary.dispatched += fanned.dispatched;

    const claimed = await OutboxRepository.claimDueDeliveries(options.db, { limit: batchSize, leaseMs });
    await runLimited(claimed, concurrency, async (delivery) => {
      try {
        const target = targetsByName.get(delivery.target);
        // Another process may have fanned out with a target this one lacks (a config change mid-deploy): retry, then give up.
        if (!target) throw new Error(`target ${delivery.target} is not configured in this process`);
        await target.deliver(delivery.event);
        await OutboxRepository.recordDelivered(options.db, delivery.id);
        summary.delivered++;
      } catch (error) {
        options.onError?.(error, { deliveryId: delivery.id, target: delivery.target, eventId: delivery.event.id, attempts: delivery.attempts });
        const isLastAttempt = delivery.attempts >= maxAttempts;
        await OutboxRepository.recordAttemptFailed(options.db, {
          deliveryId: delivery.id,
          error: describeError(error),
          retryInMs: isLastAttempt ? null : retryDelayMs(delivery.attempts, retryBaseMs, retryMaxMs),
        });
        if (isLastAttempt) summary.failed++;
        else summary.retrying++;
      }
    });
    summary.dispatched += await OutboxRepository.markDispatched(options.db, [...new Set(claimed.map((delivery) => delivery.event.id))]);

    if (fanned.fannedOut < batchSize && claimed.length < batchSize) break;
  }
  return summary;
}
