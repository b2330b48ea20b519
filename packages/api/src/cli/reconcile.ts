// `pnpm reconcile`: one reconciliation run against DATABASE_URL; prints the summary as JSON.
import { Reconciler } from "@checkout/core";
import { runCli } from "./cli-context.ts";

runCli(({ env, db, payments }) =>
  Reconciler.reconcile({
    db,
    payments,
    captureMode: env.CAPTURE_MODE,
    graceMs: env.RECONCILE_GRACE_MS,
    onError: (error, order) => console.error(`order ${order.number}:`, error),
  }),
);
