import { describe, expect, it } from "vitest";
import { retryDelayMs } from "./outbox-dispatcher.ts";

describe("retryDelayMs", () => {
  it("doubles from the base with each attempt", () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4].map((attempts) => retryDelayMs(attempts, 1000, 60_000, middle))).toEqual([1000, 2000, 4000, 8000]);
  });

  it("never exceeds the cap, whatever the attempt count", () => {
    expect(retryDelayMs(40, 1000, 60_000, () => 0.5)).toBe(60_000);
  });

  it("spreads retries by at most 20 % either way", () => {
    expect(retryDelayMs(3, 1000, 60_000, () => 0)).toBe(3200);
    expect(retryDelayMs(3, 1000, 60_000, () => 1)).toBe(4800);
  });
});
