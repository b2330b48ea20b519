// JUnit XML: well-formed whatever the messages hold, and a test case per check with a <failure> where one failed.
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { judgedRun } from "./ci-fixture.ts";
import { summaryToJunit } from "./ci-outputs.ts";
import { escapeXml, renderJunit } from "./junit.ts";
import { buildSummary } from "./summary.ts";

const meta = { script: { path: "tests/performance/checkout-journey.yml" }, target: "http://127.0.0.1:3000" };

/**
 * What fast-xml-parser's validator lets through and XML 1.0 forbids: an `&` that does not start a reference, a `<`
 * inside an attribute value, a character XML cannot carry.
 */
function lexicalProblems(xml: string): string[] {
  const problems: string[] = [];
  for (const match of xml.matchAll(/&(?!(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/g)) problems.push(`bare & at ${match.index}`);
  for (const match of xml.matchAll(/="[^"]*</g)) problems.push(`< in an attribute at ${match.index}`);
  for (const match of xml.matchAll(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu))
    problems.push(`character U+${match[0].codePointAt(0)?.toString(16)} at ${match.index}`);
  return problems;
}

/** Parses strictly (well-formedness first), keeping attributes and text, every element as an array. */
function parse(xml: string): any {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid.err)}`);
  const problems = lexicalProblems(xml);
  if (problems.length > 0) throw new Error(`not well-formed XML: ${problems.join("; ")}`);
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "",
    isArray: (_name, _path, _isLeaf, isAttribute) => !isAttribute,
    processEntities: true,
    // Numeric character references (&#10;) are decoded only with HTML entities on.
    htmlEntities: true,
    trimValues: false,
    parseAttributeValue: false,
    parseTagValue: false,
  }).parse(xml);
}

const casesOf = (doc: any) => (doc.testsuites[0].testsuite as any[]).flatMap((suite) => suite.testcase as any[]);

describe("escapeXml", () => {
  it("escapes the five special characters and keeps line breaks in text", () => {
    expect(escapeXml(`a < b && c > "d" 'e'\nf`)).toBe("a &lt; b &amp;&amp; c &gt; &quot;d&quot; &apos;e&apos;\nf");
  });

  it("keeps tabs and line breaks in attributes as character references, and CR everywhere", () => {
    expect(escapeXml("a\tb\nc\rd", { isAttribute: true })).toBe("a&#9;b&#10;c&#13;d");
    expect(escapeXml("c\rd")).toBe("c&#13;d");
  });

  it("replaces what XML 1.0 cannot carry: control characters, lone surrogates, U+FFFE", () => {
    expect(escapeXml("a\u0000b\u001bc\uD800d\uFFFEe")).toBe("a\uFFFDb\uFFFDc\uFFFDd\uFFFDe");
    expect(escapeXml("emoji 🚀 and ü stay")).toBe("emoji 🚀 and ü stay");
  });
});

describe("summaryToJunit", () => {
  it("has one test case per threshold, condition, invariant and schedule check, grouped in a suite per kind", () => {
    const summary = buildSummary(judgedRun(), meta);
    const doc = parse(summaryToJunit(summary));
    const suites = doc.testsuites[0].testsuite as any[];
    expect(suites.map((s) => s.name.split(":")[0])).toEqual([
      "checkout-loadtest thresholds",
      "checkout-loadtest conditions",
      "checkout-loadtest schedule",
      "checkout-loadtest invariants",
    ]);
    expect(casesOf(doc).map((c) => c.name)).toEqual(summary.checks.map((c) => c.name));
    expect(doc.testsuites[0].tests).toBe(String(summary.checks.length));
    expect(doc.testsuites[0].failures).toBe("0");
  });

  it("gives a failing threshold a <failure> with its message; the optional condition is skipped, not failed", () => {
    const summary = buildSummary(judgedRun({ p95LimitMs: 5 }), meta);
    const doc = parse(summaryToJunit(summary));
    const p95 = casesOf(doc).find((c) => c.name === "http.response_time.p95");
    const expected = summary.checks.find((c) => c.name === "http.response_time.p95")?.message;
    expect(expected).toMatch(/>= 5$/);
    expect(p95.failure).toHaveLength(1);
    expect(p95.failure[0].message).toBe(expected);
    expect(p95.failure[0].type).toBe("threshold");
    expect(p95.failure[0]["#text"]).toContain("limit: below 5");
    const optional = casesOf(doc).find((c) => c.name === "http.response_time.p50 < 0.001");
    expect(optional.failure).toBeUndefined();
    expect(optional.skipped).toHaveLength(1);
    expect(doc.testsuites[0].failures).toBe("1");
    expect(doc.testsuites[0].skipped).toBe("1");
    const thresholds = doc.testsuites[0].testsuite[0];
    expect([thresholds.failures, thresholds.tests]).toEqual(["1", "2"]);
  });

  it("fails each invariant violation as a test case of its own", () => {
    const doc = parse(summaryToJunit(buildSummary(judgedRun({ duplicateCharges: 2 }), meta)));
    const failed = casesOf(doc).filter((c) => c.failure);
    expect(failed.map((c) => c.name)).toEqual(["invariants.charges", "invariants.charges.duplicate_charge", "invariants.charges.duplicate_charge"]);
    expect(failed[1].failure[0].message).toBe("duplicate_charge: order 100001 has 2 charges; expected at most one");
  });

  it("stays well-formed, and gives back the exact text, when names and messages hold markup, quotes, line breaks and control characters", () => {
    const nasty = `p95 <"x"> & 'y' ]]> \n second line\ttab \u0007bell`;
    const summary = buildSummary(judgedRun(), { ...meta, target: `http://h/?a=1&b="<2>"` });
    summary.checks[0] = { ...summary.checks[0]!, name: nasty, message: nasty, passed: false };
    const xml = summaryToJunit(summary);
    const failure = casesOf(parse(xml)).find((c) => c.failure)!;
    expect(failure.name).toBe(nasty.replace("\u0007", "\uFFFD"));
    expect(failure.failure[0].message).toBe(nasty.replace("\u0007", "\uFFFD"));
    expect(parse(xml).testsuites[0].testsuite[0].properties[0].property[0]).toEqual({ name: "target", value: `http://h/?a=1&b="<2>"` });
  });
});

describe("renderJunit", () => {
  it("counts tests, failures and skips on every suite and on the whole", () => {
    const doc = parse(
      renderJunit({
        name: "n",
        suites: [
          { name: "a", cases: [{ name: "1", classname: "c", outcome: "failed", message: "m" }] },
          {
            name: "b",
            cases: [
              { name: "2", classname: "c", outcome: "passed", message: "m" },
              { name: "3", classname: "c", outcome: "skipped", message: "m" },
            ],
          },
        ],
      }),
    );
    const root = doc.testsuites[0];
    expect([root.tests, root.failures, root.skipped, root.errors]).toEqual(["3", "1", "1", "0"]);
    expect(root.testsuite.map((s: any) => [s.tests, s.failures, s.skipped])).toEqual([
      ["1", "1", "0"],
      ["2", "0", "1"],
    ]);
  });

  it("is refused by the parser when it is not well-formed (the check can fail)", () => {
    expect(() => parse("<testsuites><testsuite></testsuites>")).toThrow(/not well-formed/);
    expect(() => parse('<testsuites name="a & b"/>')).toThrow(/not well-formed/);
  });
});
