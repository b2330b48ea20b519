// Runs the dated migrations with Kysely's Migrator. The list is static so a bundled server carries it.
import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from "kysely";
import * as initialSchema from "./migrations/2026-11-24T00-00-initial-schema.ts";
import * as checkoutGuarantees from "./migrations/2026-11-24T01-00-checkout-guarantees.ts";
import * as promotions from "./migrations/2026-11-24T02-20-promotions.ts";
import * as outboxDispatch from "./migrations/2026-11-24T02-30-outbox.ts";
import * as auditChain from "./migrations/2026-11-24T02-40-audit.ts";
import * as stockReceived from "./migrations/2026-11-24T03-00-stock-received.ts";
import * as paymentResume from "./migrations/2026-11-24T04-00-payment-resume.ts";
import * as orderAttemptIndex from "./migrations/2026-11-24T04-10-order-attempt-index.ts";
import * as stockHoldsAndRetention from "./migrations/2026-11-24T05-30-stock-holds-and-retention.ts";
import * as paymentVelocity from "./migrations/2026-11-24T05-40-payment-velocity.ts";
import * as auditSealDefiner from "./migrations/2026-12-02T00-00-audit-seal-definer.ts";
import * as auditSealedAt from "./migrations/2026-12-02T08-30-audit-sealed-at.ts";
import * as refunds from "./migrations/2026-12-02T13-00-refunds.ts";
import * as catalogPaging from "./migrations/2026-12-03T06-00-catalog-paging.ts";
import * as orderAdminListIndexes from "./migrations/2026-12-03T06-30-order-admin-list-indexes.ts";
import * as variantImage from "./migrations/2026-12-03T09-00-variant-image.ts";
import { driftedStatusConstraints, syncStatusConstraints } from "./status-constraints.ts";

const migrations: Record<string, Migration> = {
  "2026-11-24T00-00-initial-schema": initialSchema,
  "2026-11-24T01-00-checkout-guarantees": checkoutGuarantees,
  "2026-11-24T02-20-promotions": promotions,
  "2026-11-24T02-30-outbox": outboxDispatch,
  "2026-11-24T02-40-audit": auditChain,
  "2026-11-24T03-00-stock-received": stockReceived,
  "2026-11-24T04-00-payment-resume": paymentResume,
  "2026-11-24T04-10-order-attempt-index": orderAttemptIndex,
  "2026-11-24T05-30-stock-holds-and-retention": stockHoldsAndRetention,
  "2026-11-24T05-40-payment-velocity": paymentVelocity,
  "2026-12-02T00-00-audit-seal-definer": auditSealDefiner,
  "2026-12-02T08-30-audit-sealed-at": auditSealedAt,
  "2026-12-02T13-00-refunds": refunds,
  "2026-12-03T06-00-catalog-paging": catalogPaging,
  "2026-12-03T06-30-order-admin-list-indexes": orderAdminListIndexes,
  "2026-12-03T09-00-variant-image": variantImage,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Thrown when the service must not migrate (MIGRATIONS=verify) and the database is behind this code. */
export class PendingMigrationsError extends Error {
  override readonly name = "PendingMigrationsError";
  constructor(readonly pending: string[]) {
    super(`${pending.length} migration(s) pending: ${pending.join(", ")}. Run the migrate command as the database owner first (node dist/server.mjs migrate).`);
  }
}

/** The migrations this code knows that the database has not run; reads only (the service role may select the migration table). */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const known = await migrator.getMigrations();
  return known.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
}

/**
 * Refuses (PendingMigrationsError) a database with migrations pending, or whose status CHECK constraints allow other
 * values than this code's status lists (migrate regenerates them); applies nothing.
 */
export async function verifyMigrations(db: Kysely<any>): Promise<void> {
  const pending = await pendingMigrations(db);
  if (pending.length === 0) {
    const drifted = await driftedStatusConstraints(db);
    if (drifted.length > 0) pending.push(...drifted.map((constraint) => `status constraint ${constraint.name}`));
  }
  if (pending.length > 0) throw new PendingMigrationsError(pending);
}

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`Migration ${failed} failed: ${String((result.error as Error).message ?? result.error)}`, { cause: result.error });
  }
  await syncStatusConstraints(db);
  return result;
}
