// `pnpm outbox:dispatch`: one outbox dispatch run against DATABASE_URL (mail and webhooks as the
// API would send them); prints the summary as JSON. Retries not yet due are left for later runs.
import { createOutboxFromEnv } from "../outbox/outbox-from-env.ts";
import { runCli } from "./cli-context.ts";

const HELP = `
pnpm outbox:dispatch — deliver pending outbox events once (confirmation emails, order webhooks), as the
server does every OUTBOX_POLL_MS; retries not yet due are left for later runs.

Needs DATABASE_URL (for a running \`pnpm start\`: postgres://postgres:postgres@127.0.0.1:5488/checkout) and the
same settings as the server (docs/OPERATIONS.md). Prints a JSON summary; exit 0 done, 1 failed, 78 misconfigured.
`;

runCli(HELP, async ({ env, db }) => {
  const outbox = createOutboxFromEnv(env, db);
  try {
    return await outbox.dispatch({ onError: (error, delivery) => console.error(`delivery ${delivery.deliveryId} to ${delivery.target}:`, error) });
  } finally {
    outbox.mailer.close();
  }
});
