// Unit tests for the arrival schedule: counts and spacing for each phase shape.
import { describe, expect, it } from "vitest";
import { buildArrivalSchedule, buildPhaseArrivals, selectShard } from "./schedule.ts";

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - (times[i] ?? 0));
}

describe("buildPhaseArrivals", () => {
  it("spaces a constant rate evenly, starting at the phase start", () => {
    const arrivals = buildPhaseArrivals({ duration: 3, arrivalRate: 10 });
    expect(arrivals).toHaveLength(30);
    expect(arrivals[0]).toBe(0);
    for (const gap of gaps(arrivals)) expect(gap).toBeCloseTo(100, 9);
  });

  it("ramps linearly up: the count is the area under the rate, denser at the end", () => {
    const arrivals = buildPhaseArrivals({ duration: 10, arrivalRate: 0, rampTo: 10 });
    expect(arrivals).toHaveLength(50);
    // N(t) = t²/2 for this ramp, so the first half holds ceil(12.5) arrivals.
    expect(arrivals.filter((t) => t < 5000)).toHaveLength(13);
    const spacing = gaps(arrivals);
    for (let i = 1; i < spacing.length; i++) expect(spacing[i]).toBeLessThan(spacing[i - 1] ?? Infinity);
    expect(arrivals.at(-1)).toBeLessThan(10_000);
  });

  it("ramps linearly down too", () => {
    const arrivals = buildPhaseArrivals({ duration: 10, arrivalRate: 10, rampTo: 0 });
    expect(arrivals).toHaveLength(50);
    expect(arrivals.filter((t) => t < 5000)).toHaveLength(38);
    const spacing = gaps(arrivals);
    for (let i = 1; i < spacing.length; i++) expect(spacing[i]).toBeGreaterThan(spacing[i - 1] ?? 0);
  });

  it("matches the instantaneous rate during a ramp from 10 to 30 per second", () => {
    const arrivals = buildPhaseArrivals({ duration: 10, arrivalRate: 10, rampTo: 30 });
    expect(arrivals).toHaveLength(200);
    expect(arrivals.filter((t) => t < 1000)).toHaveLength(11); // N(1) = 10 + 1 = 11
    expect(arrivals.filter((t) => t >= 9000)).toHaveLength(29); // N(10) − N(9) = 200 − 171
  });

  it("spreads an arrivalCount evenly over the phase", () => {
    expect(buildPhaseArrivals({ duration: 10, arrivalCount: 5 })).toEqual([0, 2000, 4000, 6000, 8000]);
  });

  it("makes no arrivals in a pause (no rate) or a zero-length phase", () => {
    expect(buildPhaseArrivals({ duration: 5 })).toEqual([]);
    expect(buildPhaseArrivals({ duration: 0, arrivalRate: 50 })).toEqual([]);
  });
});

describe("buildArrivalSchedule", () => {
  it("offsets each phase by the phases before it", () => {
    const schedule = buildArrivalSchedule([{ duration: 1, arrivalRate: 2 }, { duration: 2 }, { duration: 1, arrivalCount: 2 }]);
    expect([...schedule.atMs]).toEqual([0, 500, 3000, 3500]);
    expect([...schedule.phaseIndex]).toEqual([0, 0, 2, 2]);
    expect(schedule.phaseStartMs).toEqual([0, 1000, 3000]);
    expect(schedule.durationMs).toBe(4000);
  });
});

describe("selectShard", () => {
  it("splits the arrivals into interleaved shards that add up to the whole", () => {
    const schedule = buildArrivalSchedule([{ duration: 1, arrivalRate: 10 }]);
    const shards = [0, 1, 2].map((index) => selectShard(schedule, { index, count: 3 }));
    expect(shards.map((s) => s.atMs.length)).toEqual([4, 3, 3]);
    const union = shards.flatMap((s) => [...s.atMs]).sort((a, b) => a - b);
    expect(union).toEqual([...schedule.atMs]);
  });
});
