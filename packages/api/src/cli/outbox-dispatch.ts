// `pnpm outbox:dispatch`: one outbox dispatch run against DATABASE_URL (mail and webhooks as the
// API would send them); prints the summary as JSON. Retries not yet due are left for later runs.
import { createOutboxFromEnv } from "../outbox/outbox-from-env.ts";
import { runCli } from "./cli-context.ts";

runCli(async ({ env, db }) => {
  const outbox = createOutboxFromEnv(env, db);
  try {
    return await outbox.dispatch({ onError: (error, delivery) => console.error(`delivery ${delivery.deliveryId} to ${delivery.target}:`, error) });
  } finally {
    outbox.mailer.close();
  }
});
