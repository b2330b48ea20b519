// `pnpm retention:purge`: one retention purge against DATABASE_URL, run until nothing past its retention is left; prints the summary as JSON.
import { readCommandLine } from "./help.ts";

const HELP = `
pnpm retention:purge — one retention purge, until nothing past its retention is left: abandoned carts
(CART_RETENTION_DAYS), unused quotes (QUOTE_RETENTION_HOURS), expired idempotency records, old outbox events
(OUTBOX_RETENTION_DAYS), ended card-testing counters, and old orders' email and address
(ORDER_PERSONAL_DATA_RETENTION_DAYS). The server runs it every RETENTION_INTERVAL_MS; docs/OPERATIONS.md
"Data retention".

Needs DATABASE_URL (for a running \`pnpm start\`: postgres://postgres:postgres@127.0.0.1:5488/checkout) and the
same settings as the server (docs/OPERATIONS.md). Takes no options. Prints a JSON summary; exit 0 done, 1 failed,
2 usage error (an unknown option or argument, refused before anything runs), 78 misconfigured.
`;

readCommandLine({ name: "retention:purge", help: HELP });
// Loaded once the command line is accepted: --help and a refused command line load no database code.
const [{ Retention }, { runCli }, { retentionPolicyOf }] = await Promise.all([import("@checkout/core"), import("./cli-context.ts"), import("../jobs/policies.ts")]);

runCli(({ env, db }) => Retention.purge({ db, policy: retentionPolicyOf(env) }));
