// The background job that anchors the audit chain's head to S3 every AUDIT_ANCHOR_INTERVAL_MS (docs/OPERATIONS.md
// "Audit anchor"). Every process runs it; the database lets one of them write per interval. A failed write is logged
// by the job runner and retried on the next run; it never stops the service.
import type { Kysely } from "kysely";
import { AuditAnchor, type Database } from "@checkout/core";
import type { Env } from "../env.ts";
import type { Logger } from "../logger.ts";
import { startJob, type Job } from "../jobs/job-runner.ts";
import type { AnchorStore } from "./anchor-store.ts";

export function startAnchorJob(input: { env: Env; db: Kysely<Database>; log: Logger; bucket: string }): Job {
  const { env, db, log, bucket } = input;
  let store: AnchorStore | null = null;
  const job = startJob({
    name: "audit-anchor",
    intervalMs: env.AUDIT_ANCHOR_INTERVAL_MS,
    log,
    run: async () => {
      // Loaded on first use: a process without a bucket never pays for the S3 client.
      store ??= (await import("./anchor-store.ts")).createAnchorStore({ bucket, region: env.AWS_REGION, endpoint: env.AUDIT_ANCHOR_ENDPOINT });
      const s3 = store;
      const outcome = await AuditAnchor.anchorHead({ db, intervalMs: env.AUDIT_ANCHOR_INTERVAL_MS, put: (stored) => s3.put(stored) });
      if (outcome.status === "written") {
        const { key, anchor } = outcome.stored;
        log.info({ bucket, key, seq: anchor.seq, id: anchor.id, hash: anchor.hash }, "audit chain head anchored");
      } else {
        log.debug({ bucket, ...outcome }, "audit anchor not needed");
      }
    },
  });
  return {
    name: job.name,
    async stop() {
      await job.stop();
      store?.close();
    },
  };
}
