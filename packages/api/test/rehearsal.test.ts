// The blue/green rehearsal, short: real HAProxy, real API processes, the checkout journey as load through both cutovers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRehearsal, type RehearsalReport } from "../scripts/rehearse/run-rehearsal.ts";
import { createTestDatabase, type TestDatabase } from "./test-database.ts";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

describe("runRehearsal", () => {
  it("switches blue → green → blue under load with no failed request, clean exits and the invariants intact", { timeout: 150_000 }, async () => {
    const lines: string[] = [];
    const report: RehearsalReport = await runRehearsal({ arrivalRate: 8, settleSeconds: 4, databaseUrl: database.url, log: (line) => lines.push(line) });
    console.log([...lines, JSON.stringify({ load: report.load, cutovers: report.cutovers, probeShopper: report.probeShopper }, null, 1)].join("\n"));

    expect(report.load.requests).toBeGreaterThan(500);
    expect(report.load.failed).toBe(0);
    expect(report.load.vusersFailed).toBe(0);
    expect(report.healthProbeFailures).toBe(0);
    expect(report.loadCoveredCutovers).toBe(true);
    expect(report.versionsServed).toEqual(["v1-blue", "v2-green", "v1-blue"]);
    expect(report.cutovers.map((c) => [c.from, c.to, c.oldExitCode])).toEqual([
      ["v1-blue", "v2-green", 0],
      ["v2-green", "v1-blue", 0],
    ]);
    expect(report.finalExitCode).toBe(0);
    expect(report.probeShopper.failures).toEqual([]);
    expect(report.probeShopper.checkouts).toBeGreaterThan(0);
    expect(report.invariants.acknowledgedOrders).toBe(report.probeShopper.checkouts);
    expect(report.invariants.passed).toBe(true);
  });
});
