// Inventory: the one place stock is taken for an order and checked against the stock policy where it is taken.
import type { Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as InventoryRepository from "./inventory.repository.ts";
import * as StockPolicy from "./stock-policy.ts";

export { available, release } from "./inventory.repository.ts";

/**
 * Reserves one order line's units inside the caller's transaction. The stock share is part of the
 * conditional update, so it is judged against the stock the database really has at that moment; a
 * refusal is OUT_OF_STOCK when there are not enough units, QUANTITY_LIMIT (with `maxAllowed`) when
 * there are but one order may not take that many.
 */
export async function reserveForOrder(
  db: Db,
  input: { sku: string; label: string; quantity: number; otherUnits: number; policy: StockPolicy.StockPolicy },
): Promise<void> {
  // The per-item and per-order caps do not depend on the stock: checked before touching it.
  StockPolicy.assertWithinLimits(input.policy, { ...input, available: Number.POSITIVE_INFINITY });
  if (await InventoryRepository.reserveWithinShare(db, input.sku, input.quantity, input.policy.maxStockSharePercent)) return;
  const available = await InventoryRepository.available(db, input.sku);
  if (available < input.quantity) {
    throw new AppError("OUT_OF_STOCK", `${input.label} sold out while you were checking out`, {
      sku: input.sku,
      requested: input.quantity,
      available,
    });
  }
  StockPolicy.assertWithinLimits(input.policy, { ...input, available });
  // Unreachable unless the stock moved between the two statements: answer as the update did.
  throw new AppError("OUT_OF_STOCK", `${input.label} sold out while you were checking out`, { sku: input.sku, requested: input.quantity, available });
}
