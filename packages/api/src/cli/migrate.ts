// `node dist/server.mjs migrate` (`pnpm db:migrate`): the migrations run as the connecting user (the owner), then the
// service's least-privileged role is created or brought in line. The deployed task runs it before the service starts.
import { createDb, grantServiceRole, migrateToLatest, ServiceRoleError, type ServiceRoleGrant } from "@checkout/core";
import { ConfigError, loadDatabaseEnv, type DatabaseEnv } from "../env.ts";
import { createLogger, type Logger } from "../logger.ts";
import { MIGRATE_HELP } from "./migrate-help.ts";

export { MIGRATE_HELP };

export interface MigrateResult {
  applied: string[];
  serviceRole: ServiceRoleGrant | null;
}

export async function runMigrations(options: { env: DatabaseEnv; log: Logger }): Promise<MigrateResult> {
  const { env, log } = options;
  // statement timeout off: a migration may rewrite a big table; the owner's pool is one connection.
  const db = createDb({ connectionString: env.DATABASE_URL!, max: 1, applicationName: "checkout-migrate", statementTimeoutMs: 0 });
  try {
    const migrations = await migrateToLatest(db);
    const applied = migrations.results?.filter((result) => result.status === "Success").map((result) => result.migrationName) ?? [];
    log.info({ applied }, applied.length ? "migrations applied" : "database schema up to date");
    if (!env.SERVICE_DATABASE_USER || !env.SERVICE_DATABASE_PASSWORD) {
      log.warn("SERVICE_DATABASE_USER is not set: no service role granted (the service then connects as whoever it is given)");
      return { applied, serviceRole: null };
    }
    const serviceRole = await grantServiceRole({ db, role: env.SERVICE_DATABASE_USER, password: env.SERVICE_DATABASE_PASSWORD });
    log.info({ role: serviceRole.role, created: serviceRole.created, tables: serviceRole.tables, revokedMemberships: serviceRole.revokedMemberships }, "service role granted");
    return { applied, serviceRole };
  } finally {
    await db.destroy();
  }
}

/** The subcommand: exit 0 done, 1 failed, 78 misconfigured. */
export async function migrateCommand(): Promise<never> {
  let env: DatabaseEnv;
  try {
    env = loadDatabaseEnv();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(78);
  }
  const log = createLogger({ level: env.LOG_LEVEL });
  try {
    await runMigrations({ env, log });
    process.exit(0);
  } catch (error) {
    if (error instanceof ServiceRoleError) log.error(`service role refused: ${error.message}`);
    else log.error({ err: error }, "migrate failed");
    process.exit(1);
  }
}
