// The CI outputs and `compare` through the command line, as a pipeline runs them: `quick --summary --junit` against a
// local server (one real, brief run), annotations under GITHUB_ACTIONS=true, and compare's exit codes 0, 1 and 2.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToExit, startTestServer, type TestServer } from "../../test/support/index.ts";
import { syntheticRun } from "../compare/synthetic-run.ts";
import { summaryValidator } from "./summary-schema.ts";

const cli = path.resolve(import.meta.dirname, "../cli.ts");
const loadtest = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const { GITHUB_ACTIONS: _actions, GITHUB_STEP_SUMMARY: _summary, ...inherited } = process.env;
  // An arrival counts as late only after a second: the verdicts checked here must not hang on how busy the machine is.
  return runToExit(process.execPath, ["--import", "tsx", cli, ...args], { ...inherited, LOADTEST_LATE_MS: "1000", ...env });
};

let dir = "";
let server: TestServer;
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "loadtest-ci-cli-"));
  server = await startTestServer((_request, response) => response.end("ok"));
  const common = { intervals: 30, requestsPerInterval: 60, medianMs: 20, intervalNoise: 0.05 };
  writeFileSync(file("baseline.json"), JSON.stringify(syntheticRun({ ...common, seed: 1 })));
  writeFileSync(file("same.json"), JSON.stringify(syntheticRun({ ...common, seed: 2 })));
  writeFileSync(file("stalled.json"), JSON.stringify(syntheticRun({ ...common, seed: 3, stall: { share: 0.2, stallMs: 60 } })));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("quick --summary --junit", () => {
  it("writes a summary valid against the schema and JUnit XML, and inside GitHub Actions annotates the verdict", async () => {
    const stepSummary = file("step-summary.md");
    writeFileSync(stepSummary, "");
    const finished = await loadtest(
      ["quick", "--rate", "20", "--duration", "1", "--summary", file("summary.json"), "--junit", file("junit.xml"), "--output", file("result.json"), `${server.url}/`],
      { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: stepSummary },
    );
    expect(finished.code, finished.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(file("summary.json"), "utf8"));
    expect(summaryValidator()(summary)).toEqual([]);
    expect(summary).toMatchObject({ verdict: "pass", script: { path: null }, target: server.url });
    expect(summary.counters.requests).toBe(20);
    const xml = readFileSync(file("junit.xml"), "utf8");
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('<testcase name="arrivals.on_schedule"');
    expect(finished.stdout).toMatch(/^::notice title=Load test verdict%3A PASS::quick against /m);
    expect(finished.stdout).not.toContain("::error");
    expect(readFileSync(stepSummary, "utf8")).toContain("### Load test: PASS");
  });

  it("names --summary and --junit in run's and quick's help", async () => {
    for (const command of ["run", "quick"]) {
      const help = await loadtest([command, "--help"]);
      expect(help.stdout).toContain("--summary FILE");
      expect(help.stdout).toContain("--junit FILE");
    }
  });
});

describe("compare", () => {
  it("exits 0 for noise, 1 for a stalling target, 2 for a usage error with one line on stderr", async () => {
    const [same, stalled, missing] = await Promise.all([
      loadtest(["compare", file("baseline.json"), file("same.json")]),
      loadtest(["compare", file("baseline.json"), file("stalled.json"), "--junit", file("compare.xml")]),
      loadtest(["compare", file("baseline.json"), file("nope.json"), "--max-regression", "p95=20%"]),
    ]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain("verdict: PASS");
    expect(stalled.code, stalled.stderr).toBe(1);
    expect(stalled.stdout).toMatch(/^p95 .* FAIL$/m);
    expect(readFileSync(file("compare.xml"), "utf8")).toContain("<failure ");
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^compare: cannot read the current .*nope\.json: no such file \(see checkout-loadtest compare --help\)$/);
  });

  it("prints its help with --help and compares nothing", async () => {
    const help = await loadtest(["compare", file("baseline.json"), file("stalled.json"), "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage:\n {2}checkout-loadtest compare BASELINE.json CURRENT.json/);
    expect(help.stdout).toContain("--max-regression SPEC");
    expect(help.stdout).not.toContain("verdict:");
  });
});
