import { describe, expect, it } from "vitest";
import { mean, median, percentile } from "./stats.ts";

describe("percentile", () => {
  it("is the nearest rank: the smallest value with at least that share of the values at or below it", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.99)).toBe(99);
    expect(percentile(sorted, 0.991)).toBe(100);
    expect(percentile(sorted, 1)).toBe(100);
  });

  it("gives the first value for a fraction of zero and the only value of a single sample", () => {
    expect(percentile([3, 7, 9], 0)).toBe(3);
    expect(percentile([42], 0.5)).toBe(42);
    expect(percentile([42], 0.99)).toBe(42);
  });

  it("reads typed arrays as well as plain ones", () => {
    expect(percentile(Float64Array.from([1.5, 2.5, 3.5, 4.5]), 0.5)).toBe(2.5);
  });

  it("is NaN when there are no values", () => {
    expect(percentile([], 0.5)).toBeNaN();
    expect(percentile(new Float64Array(0), 0.99)).toBeNaN();
  });
});

describe("mean", () => {
  it("is the sum over the count, and NaN for no values", () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(mean([])).toBeNaN();
  });
});

describe("median", () => {
  it("is the middle value of an odd count and the mean of the middle two of an even count, in any order", () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("leaves out values that are not finite, and is NaN when none is left", () => {
    expect(median([Number.NaN, 2, Number.POSITIVE_INFINITY, 4])).toBe(3);
    expect(median([Number.NaN])).toBeNaN();
  });
});
