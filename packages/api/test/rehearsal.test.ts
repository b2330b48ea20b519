// The blue/green rehearsal, short: real HAProxy, real API processes, the checkout journey at 10 shopper arrivals/s
// through both cutovers. 2 s of load before, between and after them; each new version starts as early as it can (green
// before the load, the rollback's blue while the load settles), and the load is planned from how long blue took to
// start (three times, at least 10 s, on top of the settle periods), so that it still covers both cutovers on a slow
// machine (the report's loadCoveredCutovers, asserted below).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRehearsal, type RehearsalReport } from "../scripts/rehearse/run-rehearsal.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";

let database: TestDatabase;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = mkdtempSync(path.join(os.tmpdir(), "rehearsal-test-"));
});

afterAll(async () => {
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("runRehearsal", () => {
  it("switches blue → green → blue under load with no failed request, clean exits and the invariants intact", { timeout: 180_000 }, async () => {
    const lines: string[] = [];
    const htmlReportFile = path.join(dir, "rehearsal.html");
    const report: RehearsalReport = await runRehearsal({
      arrivalRate: 10,
      settleSeconds: 2,
      cutoverAllowance: "measured",
      startEarly: true,
      databaseUrl: database.url,
      htmlReportFile,
      log: (line) => lines.push(line),
    });
    console.log([...lines, JSON.stringify({ load: report.load, cutovers: report.cutovers, probeShopper: report.probeShopper }, null, 1)].join("\n"));

    expect(report.load.requests).toBeGreaterThan(300);
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
    // The load tester's virtual users' orders and the probe shopper's, each confirmed to exist exactly once.
    expect(report.invariants.acknowledgedOrders.probeShopper).toBe(report.probeShopper.checkouts);
    expect(report.invariants.acknowledgedOrders.load).toBeGreaterThan(0);
    const ordersVerdict = report.invariants.verdicts.find((v) => v.message.startsWith("invariant orders:"));
    expect(ordersVerdict).toMatchObject({ passed: true });
    expect(ordersVerdict?.message).toContain(`each of the ${report.invariants.acknowledgedOrders.load} order numbers the service acknowledged to this run exists exactly once`);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query<{ orders: number }>(`select count(*)::int as orders from "order"`).finally(() => client.end());
    expect(rows[0]!.orders).toBeGreaterThanOrEqual(report.invariants.acknowledgedOrders.load + report.invariants.acknowledgedOrders.probeShopper);
    expect(report.invariants.passed).toBe(true);

    // The load tester's HTML report carries the rehearsal: its verdict, and each cutover as a marked, measured window.
    const html = readFileSync(htmlReportFile, "utf8");
    expect(html).toContain("<h2>Blue/green rehearsal</h2>");
    expect(html).toContain('Verdict: <span class="pass">PASS</span>');
    for (const name of ["switch blue → green", "rollback green → blue"]) {
      expect(html).toMatch(new RegExp(`<tr><td><span[^>]*>■</span> ${name}</td>(<td>[^<]*</td>){3}<td class="pass">0</td>`));
      expect(html.match(new RegExp(`>${name}</text>`, "g"))).toHaveLength(2);
    }
  });
});
