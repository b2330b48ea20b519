// Inventory: the one owner of stock. Reserving is where overselling is prevented: each line is one conditional update
// the database enforces (never below zero, and within the stock policy's share judged against the stock the database
// really has at that moment), taken in SKU order so two orders over the same SKUs never deadlock. Releasing gives an
// order's units back, also in SKU order. Every change is audited in the caller's transaction.
import type { Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as InventoryRepository from "./inventory.repository.ts";
import * as StockPolicy from "./stock-policy.ts";

export { available } from "./inventory.repository.ts";

export interface ReservedLine {
  sku: string;
  /** How the shopper knows the item, for an OUT_OF_STOCK or QUANTITY_LIMIT message. */
  label: string;
  quantity: number;
}

interface Trail {
  actor?: string;
  origin?: { ip?: string; userAgent?: string };
}

/**
 * Reserves every line of an order inside the caller's transaction, or throws and takes nothing (the transaction rolls
 * back). A refusal is OUT_OF_STOCK when there are not enough units, QUANTITY_LIMIT (with `maxAllowed`) when there are
 * but one order may not take that many.
 */
export async function reserve(trx: Db, input: { orderId: string; lines: readonly ReservedLine[]; policy: StockPolicy.StockPolicy } & Trail): Promise<void> {
  const units = input.lines.reduce((sum, line) => sum + line.quantity, 0);
  const lines = [...input.lines].sort((a, b) => a.sku.localeCompare(b.sku));
  for (const line of lines) await reserveLine(trx, { ...line, otherUnits: units - line.quantity, policy: input.policy });
  // Every line reserved, so every line audited, in one statement (a refusal above rolls the transaction back whole).
  await Audit.recordMany(
    trx,
    lines.map((line) => ({
      entity: "inventory",
      entityId: line.sku,
      action: "inventory.reserved",
      actor: input.actor,
      origin: input.origin,
      data: { orderId: input.orderId, quantity: line.quantity },
    })),
  );
}

async function reserveLine(trx: Db, input: ReservedLine & { otherUnits: number; policy: StockPolicy.StockPolicy }): Promise<void> {
  // The per-item and per-order caps do not depend on the stock: checked before touching it.
  StockPolicy.assertWithinLimits(input.policy, { ...input, available: Number.POSITIVE_INFINITY });
  if (await InventoryRepository.reserveWithinShare(trx, input.sku, input.quantity, input.policy.maxStockSharePercent)) return;
  const available = await InventoryRepository.available(trx, input.sku);
  const soldOut = () => new AppError("OUT_OF_STOCK", `${input.label} sold out while you were checking out`, { sku: input.sku, requested: input.quantity, available });
  if (available < input.quantity) throw soldOut();
  StockPolicy.assertWithinLimits(input.policy, { ...input, available });
  // Unreachable unless the stock moved between the two statements: answer as the update did.
  throw soldOut();
}

/** Gives an order's units back inside the caller's transaction, auditing each line. The caller makes sure it happens once (a state transition). */
export async function release(trx: Db, input: { orderId: string } & Trail): Promise<void> {
  const lines = await OrderRepository.listOrderLines(trx, input.orderId);
  await Audit.recordMany(
    trx,
    lines.map((line) => ({
      entity: "inventory",
      entityId: line.sku,
      action: "inventory.released",
      actor: input.actor,
      origin: input.origin,
      data: { orderId: input.orderId, quantity: line.quantity },
    })),
  );
  await releaseUnits(trx, lines);
}

/**
 * Gives units back, one update per SKU in SKU order (the order reservations take them, so the two never deadlock).
 * For callers releasing many orders at once (the hold sweep), which audit the lines themselves. Returns the units.
 */
export async function releaseUnits(trx: Db, lines: readonly { sku: string; quantity: number }[]): Promise<number> {
  const unitsBySku = new Map<string, number>();
  for (const line of lines) unitsBySku.set(line.sku, (unitsBySku.get(line.sku) ?? 0) + line.quantity);
  let units = 0;
  for (const sku of [...unitsBySku.keys()].sort((a, b) => a.localeCompare(b))) {
    const quantity = unitsBySku.get(sku)!;
    await InventoryRepository.release(trx, sku, quantity);
    units += quantity;
  }
  return units;
}
