// Where outbox events go from this process: the order confirmation email for `order.placed`, and
// every event to each configured order webhook, signed with ORDER_WEBHOOK_SECRET.
import type { Kysely } from "kysely";
import { OrderConfirmationEmail, OrderWebhook, type Database, type OutboxDispatcher } from "@checkout/core";
import type { Mailer } from "./mailer.ts";

type OutboxTarget = OutboxDispatcher.OutboxTarget;

export const CONFIRMATION_EMAIL_TARGET = "email:order-confirmation";
const WEBHOOK_TIMEOUT_MS = 10_000;

export function createConfirmationEmailTarget(input: { db: Kysely<Database>; mailer: Mailer; publicUrl: string }): OutboxTarget {
  const mailDomain = new URL(input.publicUrl).hostname;
  return {
    name: CONFIRMATION_EMAIL_TARGET,
    accepts: (event) => event.type === "order.placed",
    async deliver(event) {
      const view = await OrderConfirmationEmail.load(input.db, event.aggregateId);
      if (!view) throw new Error(`order ${event.aggregateId} of event ${event.id} does not exist`);
      const email = OrderConfirmationEmail.render(view, { publicUrl: input.publicUrl });
      await input.mailer.send({ ...email, messageId: `<${event.id}@${mailDomain}>`, label: `order-${view.number}` });
    },
  };
}

export function createWebhookTarget(input: { url: string; secret: string; timeoutMs?: number }): OutboxTarget {
  return {
    name: `webhook:${input.url}`,
    accepts: () => true,
    async deliver(event) {
      const body = OrderWebhook.body(event);
      const signature = OrderWebhook.sign({ secret: input.secret, body, timestamp: Math.floor(Date.now() / 1000) });
      const response = await fetch(input.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "checkout-webhooks/1",
          [OrderWebhook.SIGNATURE_HEADER]: signature,
          [OrderWebhook.EVENT_ID_HEADER]: event.id,
        },
        body,
        // A redirect is not an acknowledgement; following it could also send the event somewhere unintended.
        redirect: "manual",
        signal: AbortSignal.timeout(input.timeoutMs ?? WEBHOOK_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (response.status < 200 || response.status >= 300) throw new Error(`webhook ${input.url} answered ${response.status}`);
    },
  };
}

export function createOutboxTargets(input: { db: Kysely<Database>; mailer: Mailer; publicUrl: string; webhookUrls: readonly string[]; webhookSecret?: string }): OutboxTarget[] {
  const targets = [createConfirmationEmailTarget(input)];
  if (input.webhookUrls.length > 0) {
    if (!input.webhookSecret) throw new Error("order webhooks need a signing secret");
    for (const url of input.webhookUrls) targets.push(createWebhookTarget({ url, secret: input.webhookSecret }));
  }
  return targets;
}
