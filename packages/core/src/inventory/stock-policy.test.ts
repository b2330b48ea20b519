// The stock policy's rules, alone: the per-item cap, the share of the stock, the per-order total, and the ways around them.
import { describe, expect, it } from "vitest";
import { isAppError } from "../error.ts";
import { assertOrderWithinLimits, assertWithinLimits, DEFAULT_STOCK_POLICY, maxUnitsOfLine, maxUnitsOfSku, type StockPolicy } from "./stock-policy.ts";

const policy: StockPolicy = { maxUnitsPerSku: 10, maxUnitsPerCart: 30, maxStockSharePercent: 50, holdMs: 600_000 };

function refusal(fn: () => void) {
  try {
    fn();
  } catch (error) {
    if (isAppError(error)) return { code: error.code, message: error.message, details: error.details };
    throw error;
  }
  return null;
}

describe("maxUnitsOfLine", () => {
  it("is the item's own limit while the cart has room, and what the cart's cap leaves once it has not", () => {
    expect(maxUnitsOfLine(policy, 1000, 0)).toBe(10);
    expect(maxUnitsOfLine(policy, 5, 0)).toBe(2);
    expect(maxUnitsOfLine(policy, 1000, 24)).toBe(6);
    expect(maxUnitsOfLine(policy, 1000, 30)).toBe(0);
    expect(maxUnitsOfLine(policy, 1000, 35)).toBe(0);
  });

  it("offers exactly what assertWithinLimits accepts: the limit passes, one more is refused", () => {
    for (const [available, otherUnits] of [
      [1000, 0],
      [7, 3],
      [1000, 25],
      [40, 12],
    ] as const) {
      const max = maxUnitsOfLine(policy, available, otherUnits);
      const check = { sku: "S", label: "S", available, otherUnits };
      expect(
        refusal(() => assertWithinLimits(policy, { ...check, quantity: max })),
        `${available}/${otherUnits}`,
      ).toBeNull();
      expect(refusal(() => assertWithinLimits(policy, { ...check, quantity: max + 1 }))?.code, `${available}/${otherUnits}`).toBe("QUANTITY_LIMIT");
    }
  });
});

describe("maxUnitsOfSku", () => {
  it("is the per-item cap while stock is plentiful", () => {
    expect(maxUnitsOfSku(policy, 1000)).toBe(10);
    expect(maxUnitsOfSku(policy, 20)).toBe(10);
  });

  it("is half the available stock when that is less, and never below one unit", () => {
    expect(maxUnitsOfSku(policy, 19)).toBe(9);
    expect(maxUnitsOfSku(policy, 5)).toBe(2);
    expect(maxUnitsOfSku(policy, 2)).toBe(1);
    expect(maxUnitsOfSku(policy, 1)).toBe(1);
    expect(maxUnitsOfSku(policy, 0)).toBe(1);
  });

  it("never exceeds what one line can hold (99), whatever the configuration", () => {
    expect(maxUnitsOfSku({ ...policy, maxUnitsPerSku: 500, maxStockSharePercent: 100 }, 10_000)).toBe(99);
  });

  it("defaults to 10 per item, 30 per order, half the stock and a 10-minute hold", () => {
    expect(DEFAULT_STOCK_POLICY).toEqual({ maxUnitsPerSku: 10, maxUnitsPerCart: 30, maxStockSharePercent: 50, holdMs: 600_000 });
  });
});

describe("assertWithinLimits", () => {
  const check = { sku: "LAMP", label: "Desk Lamp (One size)", available: 100, otherUnits: 0 };

  it("accepts up to the per-item cap", () => {
    expect(refusal(() => assertWithinLimits(policy, { ...check, quantity: 10 }))).toBeNull();
  });

  it("refuses one unit over the per-item cap with the number the shopper may take", () => {
    expect(refusal(() => assertWithinLimits(policy, { ...check, quantity: 11 }))).toEqual({
      code: "QUANTITY_LIMIT",
      message: "You can buy at most 10 of Desk Lamp (One size) per order",
      details: { sku: "LAMP", requested: 11, maxAllowed: 10, limit: "per_item" },
    });
  });

  it("refuses more than the share of a scarce SKU, saying how many are left", () => {
    expect(refusal(() => assertWithinLimits(policy, { ...check, available: 6, quantity: 4 }))).toEqual({
      code: "QUANTITY_LIMIT",
      message: "Only 6 of Desk Lamp (One size) are left, so one order can take at most 3",
      details: { sku: "LAMP", requested: 4, maxAllowed: 3, limit: "stock_share" },
    });
  });

  it("refuses spreading units over many SKUs past the per-order total", () => {
    expect(refusal(() => assertWithinLimits(policy, { ...check, quantity: 5, otherUnits: 25 }))).toBeNull();
    expect(refusal(() => assertWithinLimits(policy, { ...check, quantity: 6, otherUnits: 25 }))).toMatchObject({
      code: "QUANTITY_LIMIT",
      details: { maxAllowed: 5, maxUnitsPerCart: 30, limit: "per_order" },
    });
  });
});

describe("assertOrderWithinLimits", () => {
  it("merges lines of one SKU before judging them, so splitting a quantity into lines does not get past the cap", () => {
    const lines = [
      { sku: "TEE", label: "Tee", quantity: 6 },
      { sku: "TEE", label: "Tee", quantity: 6 },
    ];
    expect(refusal(() => assertOrderWithinLimits(policy, lines, () => 1000))).toMatchObject({ code: "QUANTITY_LIMIT", details: { requested: 12, maxAllowed: 10 } });
  });

  it("counts every SKU against the per-order total", () => {
    const lines = Array.from({ length: 4 }, (_, i) => ({ sku: `SKU-${i}`, label: `Item ${i}`, quantity: 8 }));
    expect(refusal(() => assertOrderWithinLimits(policy, lines, () => 1000))).toMatchObject({ details: { limit: "per_order" } });
    expect(refusal(() => assertOrderWithinLimits(policy, lines.slice(0, 3), () => 1000))).toBeNull();
  });
});
