// Tests for `plan`: a real ramp past a local server's capacity (recorded), the printed and JSON plans, exit codes and usage errors.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SavedRun } from "../report/saved-run.ts";
import type { CapacityPlan } from "./capacity-plan.ts";
import { constructedRamp, constructedRun, RAMP_ENSURE, SERIAL_CAPACITY_RPS } from "./plan-fixture.ts";
import { executePlan, parsePlanFlags, PlanUsageError } from "./plan-command.ts";

const dir = mkdtempSync(path.join(tmpdir(), "loadtest-plan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function save(name: string, saved: SavedRun): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(saved));
  return file;
}

function capture(): { out: string[]; err: string[]; io: { out(text: string): void; err(text: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (text) => out.push(text), err: (text) => err.push(text) } };
}

describe("executePlan on a real ramp past a server's capacity", () => {
  let file: string;
  beforeAll(() => {
    // A real ramp past the serial server's capacity, recorded once with runRampPastCapacity (plan-fixture.ts): the plan
    // is judged on a fixed measurement, so a busy machine cannot move the knee. To record it again, save the SavedRun
    // that runRampPastCapacity() returns as JSON in that file.
    file = fileURLToPath(new URL("./fixtures/ramp-past-capacity.json", import.meta.url));
  });

  it("finds a knee no higher than the server can serve, before the window where latency broke", () => {
    const { out, io } = capture();
    expect(executePlan({ file, json: true, "target-rps": "10000", window: "2" }, io)).toBe(0);
    const plan = JSON.parse(out.join("")) as CapacityPlan;
    expect(plan.thresholds.map((t) => [t.metric, t.max, t.source])).toEqual([
      ["http.response_time.p95", 100, "script"],
      ["http.request_error_rate", 0.01, "service level"],
    ]);
    const { knee, firstBroken } = plan;
    if (!knee || !firstBroken) throw new Error(`expected a knee and a broken window, got ${JSON.stringify(plan.windows)}`);
    // The server serves one request per 4 ms: no 2 s window can receive more than 250 responses/s (+ one at an edge).
    expect(knee.responseRate).toBeLessThanOrEqual(SERIAL_CAPACITY_RPS + 1);
    expect(knee.latency.p95).toBeLessThanOrEqual(100);
    expect(firstBroken.startMs).toBeGreaterThan(knee.startMs);
    expect(firstBroken.failures.join(" ")).toMatch(/http\.response_time\.p95|fell behind/);
    expect(plan.perProcessRps).toBe(knee.responseRate);
    expect(plan.target?.tasks).toBe(Math.ceil((10_000 * 1.3) / knee.responseRate));
    expect(plan.target?.exceedsMax).toBe(true);
  });

  it("prints the thresholds, a row per window, the knee, the per-process rate, the task count and the assumptions", () => {
    const { out, io } = capture();
    expect(executePlan({ file, "target-rps": "10000", window: "2", processes: "1" }, io)).toBe(0);
    const text = out.join("\n");
    expect(text).toContain("http.response_time.p95 <= 100 ms  (the script's ensure)");
    expect(text).toContain("http.request_error_rate <= 0.01 %  (service level");
    expect(text).toMatch(/^window +req\/s +resp\/s +p50 ms +p95 ms +p99 ms/m);
    expect(text.match(/ ← knee$/gm)).toHaveLength(1);
    expect(text).toMatch(/ ← first broken: /);
    expect(text).toMatch(/^knee: [\d,]+ responses\/s in /m);
    expect(text).toMatch(/^per API process: [\d,]+ req\/s/m);
    expect(text).toMatch(/^tasks for 10,000 req\/s with 30 % headroom: 13,000 req\/s \/ [\d,]+ req\/s per task = [\d.]+ → \d+ tasks \(OVER the autoscaling maximum of 12/m);
    expect(text).toContain("1 vCPU, 2048 MiB, 1 API process(es) per task, autoscaling 2–12 tasks");
    expect(text).toContain("One core of the machine that ran the test is taken as one Fargate vCPU");
    expect(text).toContain("so the per-process rate is conservative");
  });
});

describe("executePlan exit codes and usage errors", () => {
  it("exits 2 with a clear message when the run never met the thresholds", () => {
    const file = save("never.json", constructedRun(constructedRamp(4, 0), RAMP_ENSURE));
    const { out, err, io } = capture();
    expect(executePlan({ file, "target-rps": "10000" }, io)).toBe(2);
    expect(out.join("\n")).toMatch(/no knee: the first window \(0–4 s\) already broke/);
    expect(err.join("\n")).toMatch(/never met the thresholds/);
  });

  it("refuses a result with no intervals, a file that is not a result, and bad flags", () => {
    const { io } = capture();
    const empty = save("empty.json", constructedRun([]));
    expect(() => executePlan({ file: empty }, io)).toThrow(/no interval in which a request was sent/);
    const notResult = save("other.json", { hello: 1 } as unknown as SavedRun);
    expect(() => executePlan({ file: notResult }, io)).toThrow(/not a result written by run --output/);
    expect(() => executePlan({ file: undefined }, io)).toThrow(PlanUsageError);
    expect(() => parsePlanFlags({ "target-rps": "lots" })).toThrow(/--target-rps must be a positive number/);
    expect(() => parsePlanFlags({ headroom: "-1" })).toThrow(/--headroom/);
    expect(() => parsePlanFlags({ processes: "0" })).toThrow(/--processes/);
    expect(parsePlanFlags({ "target-rps": "10000", headroom: "0", processes: "4", window: "10" })).toEqual({
      targetRps: 10_000,
      headroom: 0,
      processes: 4,
      windowSeconds: 10,
    });
  });
});

describe("checkout-loadtest plan", () => {
  const cli = path.resolve(import.meta.dirname, "../cli.ts");
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, ["--import", "tsx", cli, ...args], { cwd: path.resolve(import.meta.dirname, "../..") }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  it("exits 0 with the task count, and 2 with one line naming the problem for a result with no intervals", async () => {
    const file = save("cli.json", constructedRun(constructedRamp(8, 6), RAMP_ENSURE));
    const planned = await run(["plan", file, "--target-rps", "10000", "--headroom", "0.3", "--processes", "1"]);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toMatch(/^knee: 400 responses\/s in 1–6 s/m);
    expect(planned.stdout).toMatch(/= 32\.50 → 33 tasks \(OVER the autoscaling maximum of 12/);
    const empty = await run(["plan", save("cli-empty.json", constructedRun([]))]);
    expect(empty.code).toBe(2);
    expect(empty.stderr.trim()).toMatch(/^plan: .*no interval in which a request was sent.*\(see checkout-loadtest plan --help\)$/);
  });
});
