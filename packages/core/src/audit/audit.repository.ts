// The audit trail: every order and payment state change writes one row, in the same transaction.
import type { Db } from "../db/database.ts";

export interface AuditEntry {
  entity: "order" | "payment" | "cart" | "inventory" | "promotion" | "admin";
  entityId: string;
  action: string;
  /** Who acted: "system", "shopper", "admin:<name>", "provider". */
  actor?: string;
  outcome?: "success" | "failure";
  /** Where the action came from: IP address and user agent of the request, when there was one. */
  origin?: { ip?: string; userAgent?: string };
  data?: Record<string, unknown>;
}

export function record(db: Db, entry: AuditEntry) {
  return db
    .insertInto("audit_log")
    .values({
      entity: entry.entity,
      entity_id: entry.entityId,
      action: entry.action,
      actor: entry.actor ?? "system",
      outcome: entry.outcome ?? "success",
      origin: JSON.stringify(entry.origin ?? {}),
      data: JSON.stringify(entry.data ?? {}),
    })
    .execute();
}

export function listForEntity(db: Db, entity: string, entityId: string) {
  return db.selectFrom("audit_log").selectAll().where("entity", "=", entity).where("entity_id", "=", entityId).orderBy("id").execute();
}
