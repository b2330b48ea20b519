// The API process's background work: the outbox dispatcher (~1 s), the reconciler (~30 s) and the
// expired idempotency-key cleanup (hourly). Every process runs them; the work is safe to share.
import { Idempotency, Reconciler } from "@checkout/core";
import type { Env } from "../env.ts";
import type { Services } from "../context.ts";
import type { Logger } from "../logger.ts";
import { createOutboxFromEnv } from "../outbox/outbox-from-env.ts";
import { startJob, type Job } from "./job-runner.ts";

export interface BackgroundJobs {
  stop(): Promise<void>;
}

const IDEMPOTENCY_CLEANUP_MS = 60 * 60 * 1000;

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
      name: "reconcile",
      intervalMs: env.RECONCILE_INTERVAL_MS,
      log,
      run: async () => {
        const { orders, ...summary } = await Reconciler.reconcile({
          db: services.db,
          payments: services.payments,
          captureMode: services.captureMode,
          graceMs: env.RECONCILE_GRACE_MS,
          onError: (error, context) => log.error({ err: error, ...context }, "reconciling an order failed"),
        });
        if (summary.examined > 0) log.info({ ...summary, orders }, "reconciled");
      },
    }),
    startJob({
      name: "idempotency-cleanup",
      intervalMs: IDEMPOTENCY_CLEANUP_MS,
      log,
      run: async () => {
        const deleted = await Idempotency.deleteExpired(services.db);
        if (deleted > 0) log.info({ deleted }, "expired idempotency keys deleted");
      },
    }),
  ];

  return {
    async stop() {
      await Promise.all(jobs.map((job) => job.stop()));
      outbox.mailer.close();
    },
  };
}
