// The API process's background work: the outbox dispatcher (~1 s), the hold sweep (~5 s, database
// only), the reconciler that asks the payment provider (~30 s), the retention purge (hourly) and, with a
// bucket, the audit anchor (~1 min). Every process runs them; the work is safe to share (SKIP LOCKED
// batches, conditional updates, one anchor per interval under an advisory lock).
import { HoldExpiry, Reconciler, Retention } from "@checkout/core";
import { startAnchorJob } from "../audit/anchor-job.ts";
import type { Env } from "../env.ts";
import type { Services } from "../context.ts";
import type { Logger } from "../logger.ts";
import { createOutboxFromEnv } from "../outbox/outbox-from-env.ts";
import { startJob, type Job } from "./job-runner.ts";
import { retentionPolicyOf } from "./policies.ts";

export interface BackgroundJobs {
  stop(): Promise<void>;
}

/** A hold sweep run stops starting batches after this long and runs again at once: other jobs and shutdown get their turn. */
const HOLD_SWEEP_BUDGET_MS = 2000;
/** A retention run stops after this long and runs again at once until nothing is left past its retention. */
const RETENTION_BUDGET_MS = 30_000;

export function startBackgroundJobs(input: { env: Env; services: Services; log: Logger }): BackgroundJobs {
  const { env, services } = input;
  const log = input.log.child({ component: "jobs" });
  const outbox = createOutboxFromEnv(env, services.db);
  log.info({ mail: outbox.mailer.destination, webhooks: env.ORDER_WEBHOOK_URLS.length }, "background jobs started");

  const jobs: Job[] = [
    startJob({
      name: "outbox",
      intervalMs: env.OUTBOX_POLL_MS,
      log,
      run: async () => {
        const summary = await outbox.dispatch({
          onError: (error, context) => log.warn({ err: error, ...context }, "outbox delivery attempt failed"),
        });
        if (summary.fannedOut + summary.delivered + summary.retrying + summary.failed > 0) log.info(summary, "outbox dispatched");
      },
    }),
    startJob({
      name: "hold-sweep",
      intervalMs: env.HOLD_SWEEP_INTERVAL_MS,
      log,
      run: async () => {
        const summary = await HoldExpiry.releaseExpired({ db: services.db, timeBudgetMs: HOLD_SWEEP_BUDGET_MS });
        if (summary.released > 0) log.info(summary, "expired stock holds released");
        return summary;
      },
    }),
    startJob({
      name: "reconcile",
      intervalMs: env.RECONCILE_INTERVAL_MS,
      log,
      run: async () => {
        const { orders, ...summary } = await Reconciler.reconcile({
          db: services.db,
          payments: services.payments,
          captureMode: services.captureMode,
          graceMs: env.RECONCILE_GRACE_MS,
          // What a run does not reach waits for the next one; a run never outlasts its interval.
          timeBudgetMs: env.RECONCILE_INTERVAL_MS,
          onError: (error, context) => log.error({ err: error, ...context }, "reconciling an order failed"),
        });
        if (summary.examined > 0) log.info({ ...summary, orders: orders.slice(0, 100) }, "reconciled");
      },
    }),
    startJob({
      name: "retention",
      intervalMs: env.RETENTION_INTERVAL_MS,
      log,
      run: async () => {
        const summary = await Retention.purge({ db: services.db, policy: retentionPolicyOf(env), timeBudgetMs: RETENTION_BUDGET_MS });
        if (summary.carts + summary.quotes + summary.idempotencyKeys + summary.outboxEvents + summary.ordersErased + summary.paymentVelocity > 0)
          log.info(summary, "retention purge");
        return summary;
      },
    }),
  ];
  if (env.AUDIT_ANCHOR_BUCKET) jobs.push(startAnchorJob({ env, db: services.db, log, bucket: env.AUDIT_ANCHOR_BUCKET }));

  return {
    async stop() {
      await Promise.all(jobs.map((job) => job.stop()));
      outbox.mailer.close();
    },
  };
}
