// How much stock one cart (and so one order) may take, and for how long an order waiting on its payment holds it.
// Pure rules: the cart checks them on every edit, placeOrder checks them again where the stock is really taken.
import { AppError } from "../error.ts";
import { MAX_LINE_QUANTITY } from "../schemas.ts";

export interface StockPolicy {
  /** Units of one SKU in one cart; lines of the same SKU merge, so many lines cannot get past it. */
  maxUnitsPerSku: number;
  /** Units in one cart, all SKUs together: many SKUs cannot get past the per-SKU cap. */
  maxUnitsPerCart: number;
  /** Share (1–100 %) of a SKU's available stock one order may take, never below one unit: the last units go to several shoppers. */
  maxStockSharePercent: number;
  /** How long an order waiting on its payment (a 3-D Secure challenge) holds its stock before the hold sweep gives it back. */
  holdMs: number;
}

/**
 * Ten of one item and thirty items in all cover a shop's real baskets (gifts, a team's tees) while a
 * hoarder needs many orders, each a payment attempt the velocity limits count. Half the available
 * stock per order keeps the last units of a SKU for more than one shopper. Ten minutes of hold leave
 * a real shopper time to fetch a phone, wait for an SMS code or approve in a banking app, and cost a
 * hoarder a fresh order (and a fresh 3-D Secure challenge) every ten minutes per hold.
 */
export const DEFAULT_STOCK_POLICY: StockPolicy = {
  maxUnitsPerSku: 10,
  maxUnitsPerCart: 30,
  maxStockSharePercent: 50,
  holdMs: 10 * 60 * 1000,
};

/** The most units of one SKU a cart may hold with `available` units for sale: the per-SKU cap and the stock share, at least one. */
export function maxUnitsOfSku(policy: StockPolicy, available: number): number {
  const share = Math.max(1, Math.floor((Math.max(0, available) * policy.maxStockSharePercent) / 100));
  return Math.min(policy.maxUnitsPerSku, MAX_LINE_QUANTITY, share);
}

/**
 * The most units a cart line of one SKU may hold, with `available` units for sale and `otherUnits` of every other SKU in
 * the cart: the per-SKU cap and the stock share (maxUnitsOfSku), and what the per-cart total leaves. What the shopper's
 * quantity box offers; assertWithinLimits refuses anything above it.
 */
export function maxUnitsOfLine(policy: StockPolicy, available: number, otherUnits: number): number {
  return Math.max(0, Math.min(maxUnitsOfSku(policy, available), policy.maxUnitsPerCart - otherUnits));
}

export interface QuantityCheck {
  sku: string;
  /** What the shopper sees in the message, e.g. "Desk Lamp (Black)". */
  label: string;
  /** Units of this SKU the cart would hold. */
  quantity: number;
  /** Units of this SKU for sale right now. */
  available: number;
  /** Units of every other SKU in the cart. */
  otherUnits: number;
}

/**
 * Throws QUANTITY_LIMIT when `quantity` units of one SKU break the per-SKU cap, the stock share or the
 * per-cart total. The details say what the shopper can still do: `maxAllowed` units of this SKU.
 * Stock itself (quantity > available) is the caller's OUT_OF_STOCK, checked first.
 */
export function assertWithinLimits(policy: StockPolicy, check: QuantityCheck): void {
  const perSku = maxUnitsOfSku(policy, check.available);
  if (check.quantity > perSku) {
    const byShare = perSku < Math.min(policy.maxUnitsPerSku, MAX_LINE_QUANTITY);
    throw new AppError(
      "QUANTITY_LIMIT",
      byShare ? `Only ${check.available} of ${check.label} are left, so one order can take at most ${perSku}` : `You can buy at most ${perSku} of ${check.label} per order`,
      { sku: check.sku, requested: check.quantity, maxAllowed: perSku, limit: byShare ? "stock_share" : "per_item" },
    );
  }
  if (check.otherUnits + check.quantity > policy.maxUnitsPerCart) {
    const maxAllowed = Math.max(0, policy.maxUnitsPerCart - check.otherUnits);
    throw new AppError("QUANTITY_LIMIT", `An order holds at most ${policy.maxUnitsPerCart} items; you can have ${maxAllowed} of ${check.label} with the rest of your cart`, {
      sku: check.sku,
      requested: check.quantity,
      maxAllowed,
      maxUnitsPerCart: policy.maxUnitsPerCart,
      limit: "per_order",
    });
  }
}

/** Checks every line of an order (quantities merged by SKU) against the policy; `availableOf` gives each SKU's stock for sale. */
export function assertOrderWithinLimits(policy: StockPolicy, lines: readonly { sku: string; label: string; quantity: number }[], availableOf: (sku: string) => number): void {
  const bySku = new Map<string, { label: string; quantity: number }>();
  for (const line of lines) {
    const merged = bySku.get(line.sku);
    bySku.set(line.sku, { label: line.label, quantity: (merged?.quantity ?? 0) + line.quantity });
  }
  const total = [...bySku.values()].reduce((sum, line) => sum + line.quantity, 0);
  for (const [sku, line] of bySku) {
    assertWithinLimits(policy, { sku, label: line.label, quantity: line.quantity, available: availableOf(sku), otherUnits: total - line.quantity });
  }
}
