import { describe, expect, it } from "vitest";
import { allocate, applyBasisPoints, format, sum } from "./money.ts";

describe("allocate", () => {
  it("splits an amount in proportion to the weights", () => {
    expect(allocate(1000, [1, 1, 2])).toEqual([250, 250, 500]);
  });

  it("gives leftover minor units to the largest remainders so parts sum to the whole", () => {
    expect(allocate(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(allocate(10, [3, 3, 3, 1])).toEqual([3, 3, 3, 1]);
    expect(allocate(7, [0, 5, 5])).toEqual([0, 4, 3]);
  });

  it("always sums to the whole for many random splits", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let run = 0; run < 2000; run++) {
      const total = (random() % 1_000_000) - 100_000;
      const weights = Array.from({ length: 1 + (random() % 12) }, () => random() % 50_000);
      const parts = allocate(total, weights);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
      expect(parts.every(Number.isInteger)).toBe(true);
      for (const [i, part] of parts.entries()) {
        const exact = weights.reduce((a, b) => a + b, 0) === 0 ? total / weights.length : (total * (weights[i] ?? 0)) / weights.reduce((a, b) => a + b, 0);
        expect(Math.abs(part - exact)).toBeLessThan(1);
      }
    }
  });

  it("spreads evenly when every weight is zero", () => {
    expect(allocate(5, [0, 0])).toEqual([3, 2]);
  });

  it("handles negative totals (refunds, discounts) symmetrically", () => {
    expect(allocate(-100, [1, 1, 1])).toEqual([-34, -33, -33]);
  });

  it("rejects fractional amounts and negative weights", () => {
    expect(() => allocate(10.5, [1])).toThrow(RangeError);
    expect(() => allocate(10, [-1, 2])).toThrow(RangeError);
  });
});

describe("applyBasisPoints", () => {
  it("rounds half up to the nearest minor unit", () => {
    expect(applyBasisPoints(1000, 725)).toBe(73); // 72.5 → 73
    expect(applyBasisPoints(999, 2000)).toBe(200); // 199.8 → 200
    expect(applyBasisPoints(1, 4999)).toBe(0); // 0.4999 → 0
    expect(applyBasisPoints(0, 1900)).toBe(0);
  });
});

describe("sum", () => {
  it("adds integer amounts and refuses floats", () => {
    expect(sum([1, 2, 3])).toBe(6);
    expect(() => sum([0.1, 0.2])).toThrow(RangeError);
  });
});

describe("format", () => {
  it("formats minor units as currency", () => {
    expect(format({ amount: 123456, currency: "USD" })).toBe("$1,234.56");
    expect(format({ amount: 500, currency: "EUR" }, "de-DE")).toMatch(/^5,00\s€$/);
  });
});
