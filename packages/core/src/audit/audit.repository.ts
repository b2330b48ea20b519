// The audit trail: every order and payment state change writes one row, in the same transaction.
import type { Db } from "../db/database.ts";

export function record(db: Db, entry: { entity: "order" | "payment" | "cart"; entityId: string; action: string; data?: Record<string, unknown> }) {
  return db
    .insertInto("audit_log")
    .values({ entity: entry.entity, entity_id: entry.entityId, action: entry.action, data: JSON.stringify(entry.data ?? {}) })
    .execute();
}

export function listForEntity(db: Db, entity: string, entityId: string) {
  return db.selectFrom("audit_log").selectAll().where("entity", "=", entity).where("entity_id", "=", entityId).orderBy("id").execute();
}
