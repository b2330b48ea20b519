import { describe, expect, it } from "vitest";
import { asksForHelp, parseOptions, UsageError } from "./help.ts";

const AUDIT_VERIFY = { json: "flag", "anchors-bucket": "value", "anchors-since": "value" } as const;

describe("parseOptions", () => {
  it("reads declared flags and values, as --name value or --name=value, past pnpm's --", () => {
    expect(parseOptions(AUDIT_VERIFY, [])).toEqual({});
    expect(parseOptions(AUDIT_VERIFY, ["--json", "--anchors-bucket", "audit", "--anchors-since=2026-01-01T00:00:00Z"])).toEqual({
      json: true,
      "anchors-bucket": "audit",
      "anchors-since": "2026-01-01T00:00:00Z",
    });
    expect(parseOptions(AUDIT_VERIFY, ["--", "--json"])).toEqual({ json: true });
  });

  it.each([
    [{}, ["--bogus"], "unknown option --bogus"],
    [{}, ["--hlep"], "unknown option --hlep"],
    [{}, ["--bogus=1"], "unknown option --bogus"],
    [{}, ["now"], "unexpected argument now"],
    [{}, ["-"], "unexpected argument -"],
    [{}, ["-x"], "unknown option -x"],
    [{}, ["--", "--bogus"], "unknown option --bogus"],
    [AUDIT_VERIFY, ["--json", "--anchor-bucket=audit"], "unknown option --anchor-bucket"],
    [AUDIT_VERIFY, ["--json=yes"], "--json takes no value"],
    [AUDIT_VERIFY, ["--json", "--json"], "--json given twice"],
    [AUDIT_VERIFY, ["--anchors-bucket"], "--anchors-bucket needs a value"],
    [AUDIT_VERIFY, ["--anchors-bucket="], "--anchors-bucket needs a value"],
    [AUDIT_VERIFY, ["--anchors-bucket", "--json"], "--anchors-bucket needs a value"],
    [AUDIT_VERIFY, ["--anchors-bucket", "a", "b"], "unexpected argument b"],
    [{}, ["--constructor"], "unknown option --constructor"],
  ])("%j refuses %j: %s", (declared, argv, message) => {
    expect(() => parseOptions(declared, argv)).toThrow(new UsageError(message));
  });
});

describe("asksForHelp", () => {
  it("is --help or -h anywhere, and nothing else", () => {
    expect(asksForHelp(["--help"])).toBe(true);
    expect(asksForHelp(["-h"])).toBe(true);
    expect(asksForHelp(["--bogus", "--help"])).toBe(true);
    expect(asksForHelp(["--", "--help"])).toBe(true);
    expect(asksForHelp(["--hlep"])).toBe(false);
    expect(asksForHelp(["--help=1"])).toBe(false);
    expect(asksForHelp([])).toBe(false);
  });
});
