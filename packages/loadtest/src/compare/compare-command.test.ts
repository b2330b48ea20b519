// executeCompare on result files: its table and exit code, the JUnit and HTML it writes, GitHub annotations, and a
// one-line CompareUsageError for each thing a person can get wrong.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompareUsageError, executeCompare, type CompareFlags } from "./compare-command.ts";
import { syntheticRun } from "./synthetic-run.ts";

let dir = "";
const file = (name: string) => path.join(dir, name);
const common = { intervals: 40, requestsPerInterval: 80, medianMs: 20, intervalNoise: 0.05 };

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "loadtest-compare-"));
  writeFileSync(file("baseline.json"), JSON.stringify(syntheticRun({ ...common, seed: 1 })));
  writeFileSync(file("same.json"), JSON.stringify(syntheticRun({ ...common, seed: 2 })));
  writeFileSync(file("stalled.json"), JSON.stringify(syntheticRun({ ...common, seed: 3, stall: { share: 0.15, stallMs: 50 } })));
  writeFileSync(file("summary.json"), JSON.stringify({ schemaVersion: 1, verdict: "pass" }));
  writeFileSync(file("broken.json"), "{ not json");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function compare(flags: CompareFlags, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await executeCompare(flags, { print: (line) => lines.push(line), env });
  return { code, output: lines.join("\n") };
}

describe("executeCompare", () => {
  it("exits 0 for two runs of the same target and prints the table", async () => {
    const { code, output } = await compare({ baseline: file("baseline.json"), current: file("same.json") });
    expect(code).toBe(0);
    expect(output).toMatch(/^metric\s+baseline\s+current\s+change\s+95 % CI\s+limit\s+verdict$/m);
    expect(output).toMatch(/^p95\s+[\d.]+ ms\s+[\d.]+ ms\s+[+-][\d.]+ %\s+\[[+-][\d.]+ %, [+-][\d.]+ %\]\s+\+10 %\s+pass$/m);
    expect(output).toMatch(/^error rate\s+0\.000 %\s+0\.000 %\s+\+0\.000 pp\s+\[\+0\.000 pp, \+0\.000 pp\]\s+\+0\.1 pp\s+pass$/m);
    expect(output).toMatch(/^p50 .* info$/m);
    expect(output).toContain("bootstrap: 2000 resamples of 10 and 10 windows of 4 s, 95 % confidence");
    expect(output).toMatch(/verdict: PASS/);
  });

  it("exits 1 for a stalling target, and writes a JUnit <failure> for p95 and the HTML comparison", async () => {
    const junit = file("out/compare-junit.xml");
    const out = file("out/compare.html");
    const { code, output } = await compare({ baseline: file("baseline.json"), current: file("stalled.json"), junit, out });
    expect(code).toBe(1);
    expect(output).toMatch(/^p95 .* FAIL$/m);
    expect(output).toMatch(/verdict: FAIL \(p95 at least \+[\d.]+ %, limit \+10 %/);
    const xml = readFileSync(junit, "utf8");
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toMatch(/<testcase name="p95" classname="checkout-loadtest.compare" time="0">\s*<failure message="p95 regressed: /);
    expect(xml).toMatch(/<testcase name="error rate" classname="checkout-loadtest.compare" time="0">\s*<system-out>/);
    const html = readFileSync(out, "utf8");
    expect(html).toContain('<section id="comparison">');
    expect(html).toContain('<span class="fail">FAIL</span>');
    expect(html.match(/<svg /g)).toHaveLength(3);
  });

  it("judges only the metrics --max-regression names", async () => {
    const { code, output } = await compare({ baseline: file("baseline.json"), current: file("stalled.json"), "max-regression": "error_rate=0.1,p50=50%" });
    expect(code).toBe(0);
    expect(output).not.toMatch(/^p95 /m);
  });

  it("inside GitHub Actions annotates the regression and adds the table to the job summary", async () => {
    const stepSummary = file("step-summary.md");
    writeFileSync(stepSummary, "");
    const { output } = await compare({ baseline: file("baseline.json"), current: file("stalled.json") }, { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: stepSummary });
    expect(output).toMatch(/^::error title=Load test regression%3A p95::p95 regressed: [\d.]+ ms → [\d.]+ ms/m);
    expect(output).toMatch(/^::notice title=Load test comparison%3A FAIL::/m);
    expect(readFileSync(stepSummary, "utf8")).toMatch(/### Load test comparison: FAIL[\s\S]*\| p95 \|.*\| FAIL \|/);
  });

  it("prints no workflow command outside GitHub Actions", async () => {
    const { output } = await compare({ baseline: file("baseline.json"), current: file("stalled.json") }, { GITHUB_ACTIONS: "false" });
    expect(output).not.toContain("::error");
  });

  it.each([
    [{ baseline: "baseline.json" }, /^compare needs two results written by run --output: BASELINE.json CURRENT.json$/],
    [{ baseline: "missing.json", current: "same.json" }, /^cannot read the baseline .*missing\.json: no such file$/],
    [{ baseline: "baseline.json", current: "." }, /^cannot read the current .*: it is a directory$/],
    [{ baseline: "broken.json", current: "same.json" }, /^the baseline .*broken\.json is not a result written by run --output \(not JSON\)$/],
    [{ baseline: "baseline.json", current: "summary.json" }, /^the current .*summary\.json is not a result written by run --output$/],
    [{ baseline: "baseline.json", current: "same.json", "max-regression": "p95=10" }, /^--max-regression: "p95=10" needs a unit for p95/],
    [{ baseline: "baseline.json", current: "same.json", window: "0" }, /^--window must be a positive number of seconds, got "0"$/],
  ] as [CompareFlags, RegExp][])("refuses %j with one line naming what is wrong", async (flags, message) => {
    const resolved = Object.fromEntries(Object.entries(flags).map(([key, value]) => [key, key === "baseline" || key === "current" ? file(value as string) : value]));
    const error = await compare(resolved).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CompareUsageError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
  });
});
