// Unit tests for the availability math: outage windows, both availability figures and the prorated budget.
import { describe, expect, it } from "vitest";
import { budgetFor, computeAvailability, findOutages, type Probe } from "./availability.ts";

function probe(at: number, reason?: string): Probe {
  const isUp = reason === undefined;
  return { at, isUp, checks: [{ url: "http://x/health", isUp, latencyMs: 1, ...(reason ? { reason } : { status: 200 }) }] };
}

/** One probe per second from t = 0; "." is up, any other letter is down with that reason. */
function timeline(pattern: string, reasons: Record<string, string> = { x: "ECONNREFUSED" }): Probe[] {
  return [...pattern].map((c, i) => probe(i * 1000, c === "." ? undefined : (reasons[c] ?? c)));
}

describe("budgetFor", () => {
  it("allows 0.36 s of downtime in a 1 h window", () => {
    expect(budgetFor(3_600_000)).toBeCloseTo(360, 9);
  });

  it("allows 52.56 minutes in a 365-day year", () => {
    expect(budgetFor(365 * 24 * 3_600_000) / 60_000).toBeCloseTo(52.56, 9);
  });
});

describe("findOutages", () => {
  it("finds none when every probe is up", () => {
    expect(findOutages({ probes: timeline("....."), endedAt: 5000 })).toEqual([]);
  });

  it("spans each outage from its first down probe to the next up probe and keeps reasons in order", () => {
    const outages = findOutages({ probes: timeline("..xx...tT..", { x: "ECONNREFUSED", t: "timeout", T: "HTTP 503" }), endedAt: 11_000 });
    expect(outages).toEqual([
      { start: 2000, end: 4000, durationMs: 2000, reasons: ["ECONNREFUSED"], probes: 2, isOngoing: false },
      { start: 7000, end: 9000, durationMs: 2000, reasons: ["timeout", "HTTP 503"], probes: 2, isOngoing: false },
    ]);
  });

  it("runs an unrecovered outage to the end of monitoring", () => {
    const outages = findOutages({ probes: timeline("..xx"), endedAt: 4000 });
    expect(outages).toEqual([{ start: 2000, end: 4000, durationMs: 2000, reasons: ["ECONNREFUSED"], probes: 2, isOngoing: true }]);
  });

  it("counts a flapping target as one outage per down probe", () => {
    const outages = findOutages({ probes: timeline(".x.x.x.x."), endedAt: 9000 });
    expect(outages).toHaveLength(4);
    for (const outage of outages) expect(outage.durationMs).toBe(1000);
  });
});

describe("computeAvailability", () => {
  it("reports both availability figures, total downtime and an over-budget verdict for two outages", () => {
    const report = computeAvailability({ probes: timeline("..xx...x.."), startedAt: 0, endedAt: 10_000 });
    expect(report.probes).toBe(10);
    expect(report.upProbes).toBe(7);
    expect(report.probeAvailability).toBeCloseTo(0.7, 9);
    expect(report.outages).toHaveLength(2);
    expect(report.downtimeMs).toBe(3000);
    expect(report.timeAvailability).toBeCloseTo(0.7, 9);
    expect(report.budgetMs).toBeCloseTo(1, 9);
    expect(report.isWithinBudget).toBe(false);
  });

  it("weights by time, not by probe count, when probes are unevenly spaced", () => {
    const probes = [probe(0), probe(1000, "timeout"), probe(1500), probe(10_000)];
    const report = computeAvailability({ probes, startedAt: 0, endedAt: 10_000 });
    expect(report.probeAvailability).toBeCloseTo(0.75, 9);
    expect(report.timeAvailability).toBeCloseTo(0.95, 9);
  });

  it("is within budget when nothing went down, and when downtime exactly equals the budget", () => {
    expect(computeAvailability({ probes: timeline("...."), startedAt: 0, endedAt: 3_600_000 }).isWithinBudget).toBe(true);
    const probes = [probe(0), probe(1000, "timeout"), probe(1360)];
    const report = computeAvailability({ probes, startedAt: 0, endedAt: 3_600_000 });
    expect(report.downtimeMs).toBe(360);
    expect(report.isWithinBudget).toBe(true);
  });

  it("treats a flapping target's downtime as the sum of its outages", () => {
    const report = computeAvailability({ probes: timeline(".x.x.x.x."), startedAt: 0, endedAt: 9000 });
    expect(report.downtimeMs).toBe(4000);
    expect(report.isWithinBudget).toBe(false);
  });

  it("reports full availability and no downtime with no probes", () => {
    const report = computeAvailability({ probes: [], startedAt: 0, endedAt: 0 });
    expect(report).toMatchObject({ probes: 0, probeAvailability: 1, timeAvailability: 1, downtimeMs: 0, isWithinBudget: true });
  });
});
