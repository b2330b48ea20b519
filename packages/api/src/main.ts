// Entry point: start the shop, and on SIGTERM/SIGINT stop taking work, finish in-flight requests, exit 0.
// `migrate` as the first argument runs the migrations and grants the service role instead (cli/migrate.ts).
// The app and the domain load after the command line is read: `--help` and a usage error print without them.
import { ConfigError, loadEnv } from "./env.ts";
import { createLogger } from "./logger.ts";
import { readCommandLine } from "./cli/help.ts";
import { MIGRATE_HELP } from "./cli/migrate-help.ts";

const SERVER_HELP = `
The checkout server: the web app at /, tRPC at /trpc, /health, /ready and /metrics, and, unless PAYMENT_SANDBOX=false
(the default in production or with PAYMENT_PROVIDER_URL), the payment sandbox (@checkout/payment-sandbox) on its own port.
Started by \`pnpm start\` (after building the web app) and \`pnpm dev\`; stops cleanly on SIGTERM or Ctrl-C.

Configured by environment variables, validated at start (every one with its default: docs/OPERATIONS.md).
Without DATABASE_URL it runs an embedded PostgreSQL in .data/. Exit 78 names any bad setting, or pending
migrations with MIGRATIONS=verify. Takes no options (exit 2 on any: a usage error).

Subcommand: migrate — run the migrations as the database owner and grant the service role (migrate --help).
`;

// Neither takes options: a typo (`mgirate`, `--hlep`) is refused with exit 2 rather than starting the server.
const isMigrate = process.argv[2] === "migrate";
readCommandLine(isMigrate ? { name: "migrate", help: MIGRATE_HELP } : { name: "server", help: SERVER_HELP }, process.argv.slice(isMigrate ? 3 : 2));

async function main(): Promise<void> {
  let env;
  try {
    env = loadEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
  const log = createLogger({ level: env.LOG_LEVEL });
  const [{ startApp }, { PendingMigrationsError }] = await Promise.all([import("./app.ts"), import("@checkout/core")]);
  let app;
  try {
    app = await startApp(env, { log });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    if (error instanceof PendingMigrationsError) {
      log.fatal({ pending: error.pending }, `refusing to start (MIGRATIONS=verify): ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  log.info({ url: app.url, payments: app.paymentUrl }, `checkout is running at ${app.url} (Ctrl-C to stop)`);

  let isStopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (isStopping) return;
    isStopping = true;
    log.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
    const { timedOut } = await app.close();
    log.info({ timedOut }, "stopped");
    process.exit(0);
  };
  process.on("SIGTERM", (signal) => void stop(signal));
  process.on("SIGINT", (signal) => void stop(signal));
}

(isMigrate ? import("./cli/migrate.ts").then(({ migrateCommand }) => migrateCommand()) : main()).catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
