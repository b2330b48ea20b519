// `pnpm outbox:dispatch`: one outbox dispatch run against DATABASE_URL (mail and webhooks as the
// API would send them); prints the summary as JSON. Retries not yet due are left for later runs.
import { readCommandLine } from "./help.ts";

const HELP = `
pnpm outbox:dispatch — deliver pending outbox events once (confirmation emails, order webhooks), as the
server does every OUTBOX_POLL_MS; retries not yet due are left for later runs.

Needs DATABASE_URL (for a running \`pnpm start\`: postgres://postgres:postgres@127.0.0.1:5488/checkout) and the
same settings as the server (docs/OPERATIONS.md). Takes no options. Prints a JSON summary; exit 0 done, 1 failed,
2 usage error (an unknown option or argument, refused before anything runs), 78 misconfigured.
`;

readCommandLine({ name: "outbox:dispatch", help: HELP });
// Loaded once the command line is accepted: --help and a refused command line load no database code.
const [{ createOutboxFromEnv }, { runCli }] = await Promise.all([import("../outbox/outbox-from-env.ts"), import("./cli-context.ts")]);

runCli(async ({ env, db }) => {
  const outbox = createOutboxFromEnv(env, db);
  try {
    return await outbox.dispatch({ onError: (error, delivery) => console.error(`delivery ${delivery.deliveryId} to ${delivery.target}:`, error) });
  } finally {
    outbox.mailer.close();
  }
});
