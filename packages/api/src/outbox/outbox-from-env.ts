// The outbox dispatcher as configured by the environment: mail to SMTP_URL or the mail folder,
// webhooks to ORDER_WEBHOOK_URLS. Shared by the background job and `pnpm outbox:dispatch`.
import path from "node:path";
import type { Kysely } from "kysely";
import { OutboxDispatcher, type Database } from "@checkout/core";
import type { Env } from "../env.ts";
import { createMailer, type Mailer } from "./mailer.ts";
import { createOutboxTargets } from "./outbox-targets.ts";

export const DEFAULT_MAIL_FROM = "Checkout <orders@localhost>";

export interface ConfiguredOutbox {
  mailer: Mailer;
  targets: OutboxDispatcher.OutboxTarget[];
  dispatch(options?: Pick<OutboxDispatcher.DispatchOptions, "onError">): Promise<OutboxDispatcher.DispatchSummary>;
}

export function mailFolder(env: Env): string {
  return env.MAIL_DIR ?? path.join(env.DATA_DIR, "mail");
}

export function createOutboxFromEnv(env: Env, db: Kysely<Database>): ConfiguredOutbox {
  const mailer = createMailer({ smtpUrl: env.SMTP_URL, from: env.MAIL_FROM ?? DEFAULT_MAIL_FROM, folder: mailFolder(env) });
  const targets = createOutboxTargets({
    db,
    mailer,
    publicUrl: env.PUBLIC_URL,
    webhookUrls: env.ORDER_WEBHOOK_URLS,
    webhookSecret: env.ORDER_WEBHOOK_SECRET,
  });
  return {
    mailer,
    targets,
    dispatch: (options = {}) =>
      OutboxDispatcher.dispatch({
        db,
        targets,
        maxAttempts: env.OUTBOX_MAX_ATTEMPTS,
        retryBaseMs: env.OUTBOX_RETRY_BASE_MS,
        ...options,
      }),
  };
}
