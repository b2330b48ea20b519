// `pnpm reconcile`: one reconciliation run against DATABASE_URL; prints the summary as JSON.
import { readCommandLine } from "./help.ts";

const HELP = `
pnpm reconcile — settle orders stuck between states once: ask the payment processor what became of each
pending or uncaptured order older than RECONCILE_GRACE_MS and finish or undo it (the server does this every
RECONCILE_INTERVAL_MS).

Needs DATABASE_URL (for a running \`pnpm start\`: postgres://postgres:postgres@127.0.0.1:5488/checkout) and the
same settings as the server (docs/OPERATIONS.md). Takes no options. Prints a JSON summary; exit 0 done, 1 failed,
2 usage error (an unknown option or argument, refused before anything runs), 78 misconfigured.
`;

readCommandLine({ name: "reconcile", help: HELP });
// Loaded once the command line is accepted: --help and a refused command line load no database code.
const [{ Reconciler }, { runCli }] = await Promise.all([import("@checkout/core"), import("./cli-context.ts")]);

runCli(({ env, db, payments }) =>
  Reconciler.reconcile({
    db,
    payments,
    captureMode: env.CAPTURE_MODE,
    graceMs: env.RECONCILE_GRACE_MS,
    onError: (error, order) => console.error(`order ${order.number}:`, error),
  }),
);
