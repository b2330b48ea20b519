// writeCiOutputs, the one call `run` and `quick` make for CI: the files it writes and, inside GitHub Actions, the
// workflow commands it prints, escaped as the runner reads them.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { judgedRun } from "./ci-fixture.ts";
import { writeCiOutputs } from "./ci-outputs.ts";
import { escapeData, escapeProperty, formatAnnotation, isGithubActions, markdownTable } from "./github-actions.ts";
import { summaryValidator } from "./summary-schema.ts";

const validate = summaryValidator();
const meta = { script: { path: "tests/performance/checkout-journey.yml", environment: "smoke" }, target: "https://staging.shop.example" };

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "loadtest-ci-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("writeCiOutputs", () => {
  it("writes the summary (valid against the schema) and the JUnit XML, creating their folders, and prints nothing outside Actions", () => {
    const lines: string[] = [];
    const summaryFile = path.join(dir, "out/summary.json");
    const junitFile = path.join(dir, "reports/junit.xml");
    const summary = writeCiOutputs(judgedRun({ p95LimitMs: 5 }), { summary: summaryFile, junit: junitFile, githubActions: false, meta, print: (l) => lines.push(l) });
    const written = JSON.parse(readFileSync(summaryFile, "utf8"));
    expect(validate(written)).toEqual([]);
    expect(written).toEqual(summary);
    expect(summary.verdict).toBe("fail");
    const xml = readFileSync(junitFile, "utf8");
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(lines).toEqual([]);
  });

  it("writes only the files it was asked for", () => {
    writeCiOutputs(judgedRun(), { junit: path.join(dir, "junit.xml"), githubActions: false, meta, print: () => {} });
    expect(readdirSync(dir)).toEqual(["junit.xml"]);
  });

  it("inside GitHub Actions prints an ::error per failed strict check, a ::warning per optional one and the verdict as a ::notice", () => {
    const lines: string[] = [];
    const stepSummary = path.join(dir, "step-summary.md");
    writeFileSync(stepSummary, "earlier step\n");
    writeCiOutputs(judgedRun({ p95LimitMs: 5, duplicateCharges: 1 }), { githubActions: true, stepSummary, meta, print: (l) => lines.push(l) });
    expect(lines.map((l) => l.slice(0, l.indexOf("::", 2)))).toEqual([
      "::error title=Load test threshold%3A http.response_time.p95",
      "::warning title=Load test condition%3A http.response_time.p50 < 0.001",
      "::error title=Load test invariant%3A invariants.charges",
      "::error title=Load test invariant%3A invariants.charges.duplicate_charge",
      "::notice title=Load test verdict%3A FAIL",
    ]);
    expect(lines[0]).toMatch(/::http\.response_time\.p95 = [\d.]+ >= 5$/);
    expect(lines.at(-1)).toContain("::tests/performance/checkout-journey.yml -e smoke against https://staging.shop.example: 4 of 8 checks held, 3 failed the run");
    const markdown = readFileSync(stepSummary, "utf8");
    expect(markdown.startsWith("earlier step\n### Load test: FAIL")).toBe(true);
    expect(markdown).toContain("| **FAIL** | threshold | http.response_time.p95 |");
  });

  it("prints a one-line annotation whatever the message holds: no raw line break reaches the runner", () => {
    const lines: string[] = [];
    const saved = judgedRun({ p95LimitMs: 5 });
    saved.verdicts = saved.verdicts?.map((v) => (v.passed ? v : { ...v, message: "50% over,\nsee: the report\r" }));
    writeCiOutputs(saved, { githubActions: true, meta, print: (l) => lines.push(l) });
    expect(lines[0]).toBe("::error title=Load test threshold%3A http.response_time.p95::50%25 over,%0Asee: the report%0D");
    for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
  });
});

describe("GitHub Actions escaping", () => {
  it("escapes a message's % CR LF, and a property's also : and ,", () => {
    expect(escapeData("100% done\r\nnext: a, b")).toBe("100%25 done%0D%0Anext: a, b");
    expect(escapeProperty("100% done\r\nnext: a, b")).toBe("100%25 done%0D%0Anext%3A a%2C b");
  });

  it("formats commands with and without properties", () => {
    expect(formatAnnotation({ level: "notice", message: "ok" })).toBe("::notice::ok");
    expect(formatAnnotation({ level: "error", file: "a,b.yml", title: "t:1", message: "m" })).toBe("::error file=a%2Cb.yml,title=t%3A1::m");
  });

  it("knows it is inside Actions only when GITHUB_ACTIONS is exactly true", () => {
    expect(isGithubActions({ GITHUB_ACTIONS: "true" })).toBe(true);
    expect(isGithubActions({ GITHUB_ACTIONS: "1" })).toBe(false);
    expect(isGithubActions({})).toBe(false);
  });

  it("escapes table cells in the job summary", () => {
    expect(markdownTable(["a", "b"], [["x|y", "line\nbreak"]])).toBe("| a | b |\n| --- | --- |\n| x\\|y | line<br>break |");
  });
});
