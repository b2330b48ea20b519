// JUnit XML for CI test reporters: a test suite per kind of check, a test case per check, a <failure> for each strict
// check that did not hold and <skipped> for an optional one that did not (reported, never failing the build).

export interface JunitCase {
  name: string;
  /** Groups cases in reporters, e.g. `checkout-loadtest.threshold`. */
  classname: string;
  outcome: "passed" | "failed" | "skipped";
  /** The failure's or the skip's one-line message; for a passed case, printed as its output. */
  message: string;
  /** The failure's type attribute, e.g. `threshold`. */
  type?: string;
  /** More lines for the failure's body or the case's output. */
  details?: string;
}

export interface JunitSuite {
  name: string;
  cases: JunitCase[];
  /** Seconds. */
  time?: number;
  /** ISO 8601 without a zone suffix is what the JUnit XSD wants; any ISO 8601 string is accepted by reporters. */
  timestamp?: string;
  properties?: Record<string, string>;
}

/**
 * Text fit for XML 1.0 character data and attribute values: the five special characters escaped, tab and line breaks
 * kept as character references in attributes (a parser would fold them into spaces), and characters XML 1.0 cannot
 * carry at all (other control characters, lone surrogates, U+FFFE, U+FFFF) replaced by U+FFFD.
 */
export function escapeXml(text: string, { isAttribute = false }: { isAttribute?: boolean } = {}): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    switch (char) {
      case "&":
        out += "&amp;";
        continue;
      case "<":
        out += "&lt;";
        continue;
      case ">":
        out += "&gt;";
        continue;
      case '"':
        out += "&quot;";
        continue;
      case "'":
        out += "&apos;";
        continue;
    }
    if (code === 0x9 || code === 0xa || code === 0xd) {
      out += isAttribute || code === 0xd ? `&#${code};` : char;
      continue;
    }
    const isAllowed = (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
    out += isAllowed ? char : "\uFFFD";
  }
  return out;
}

const attr = (name: string, value: string | number) => ` ${name}="${escapeXml(String(value), { isAttribute: true })}"`;
const seconds = (value: number | undefined) => (value === undefined ? "0" : value.toFixed(3));

function renderCase(testCase: JunitCase): string {
  const open = `    <testcase${attr("name", testCase.name)}${attr("classname", testCase.classname)}${attr("time", "0")}`;
  const body = [testCase.message, testCase.details].filter(Boolean).join("\n");
  switch (testCase.outcome) {
    case "failed":
      return `${open}>\n      <failure${attr("message", testCase.message)}${attr("type", testCase.type ?? "failure")}>${escapeXml(body)}</failure>\n    </testcase>`;
    case "skipped":
      return `${open}>\n      <skipped${attr("message", testCase.message)}/>\n    </testcase>`;
    default:
      return `${open}>\n      <system-out>${escapeXml(body)}</system-out>\n    </testcase>`;
  }
}

function count(suite: JunitSuite, outcome: JunitCase["outcome"]): number {
  return suite.cases.filter((c) => c.outcome === outcome).length;
}

/** A complete JUnit XML document: <testsuites> around one <testsuite> per suite. */
export function renderJunit({ name, suites, time }: { name: string; suites: JunitSuite[]; time?: number }): string {
  const total = (outcome?: JunitCase["outcome"]) => suites.reduce((n, s) => n + (outcome ? count(s, outcome) : s.cases.length), 0);
  const rendered = suites.map((suite) => {
    const properties = Object.entries(suite.properties ?? {});
    const head =
      `  <testsuite${attr("name", suite.name)}${attr("tests", suite.cases.length)}${attr("failures", count(suite, "failed"))}` +
      `${attr("errors", 0)}${attr("skipped", count(suite, "skipped"))}${attr("time", seconds(suite.time))}` +
      `${suite.timestamp ? attr("timestamp", suite.timestamp) : ""}>`;
    const props =
      properties.length === 0 ? [] : ["    <properties>", ...properties.map(([key, value]) => `      <property${attr("name", key)}${attr("value", value)}/>`), "    </properties>"];
    return [head, ...props, ...suite.cases.map(renderCase), "  </testsuite>"].join("\n");
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attr("name", name)}${attr("tests", total())}${attr("failures", total("failed"))}${attr("errors", 0)}${attr("skipped", total("skipped"))}${attr("time", seconds(time))}>`,
    ...rendered,
    "</testsuites>",
    "",
  ].join("\n");
}
