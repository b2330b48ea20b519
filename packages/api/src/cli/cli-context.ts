// What the one-shot CLIs share: the validated environment, a database connection from
// DATABASE_URL and the payment provider the API would use, plus exit codes like the server's.
import type { Kysely } from "kysely";
import { createDb, type Database } from "@checkout/core";
import { ConfigError, loadEnv, type Env } from "../env.ts";
import { SANDBOX_SECRET_KEY } from "../app.ts";
import { SandboxPaymentProvider } from "../payments/sandbox-payment-provider.ts";

export interface CliContext {
  env: Env;
  db: Kysely<Database>;
  payments: SandboxPaymentProvider;
}

function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}

/** The validated configuration, or exit 78 naming what is wrong. */
export function loadCliEnv(): Env {
  try {
    return loadEnv();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 78);
    throw error;
  }
}

export function openCliContext(): CliContext {
  const env = loadCliEnv();
  if (!env.DATABASE_URL) {
    fail("DATABASE_URL is required. For the embedded database of a running `pnpm start`: DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5488/checkout", 78);
  }
  const db = createDb({ connectionString: env.DATABASE_URL, max: 4, applicationName: "checkout-cli" });
  // With the sandbox on, it is the one inside the running API process, on its own port.
  const baseUrl = env.PAYMENT_PROVIDER_URL ?? `http://127.0.0.1:${env.PAYMENT_SANDBOX_PORT}`;
  const payments = new SandboxPaymentProvider({ baseUrl, secretKey: env.PAYMENT_SECRET_KEY ?? SANDBOX_SECRET_KEY });
  return { env, db, payments };
}

/**
 * Runs `main`, prints its result as one JSON line, closes the database and exits 0 (1 on error). The command reads its
 * command line first (readCommandLine) and imports this module only once it is accepted.
 */
export function runCli(main: (context: CliContext) => Promise<unknown>): void {
  const context = openCliContext();
  main(context)
    .then(async (result) => {
      console.log(JSON.stringify(result));
      await context.db.destroy();
      process.exit(0);
    })
    .catch(async (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      await context.db.destroy().catch(() => {});
      process.exit(1);
    });
}
