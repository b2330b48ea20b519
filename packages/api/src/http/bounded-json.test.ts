// Client JSON is bounded before it is parsed: depth and string length in one linear pass, typed 400s.
import { describe, expect, it } from "vitest";
import { checkJsonBounds, parseBoundedJson } from "./bounded-json.ts";
import { EdgeError } from "./edge-error.ts";

const bounds = { maxDepth: 4, maxStringLength: 10 };

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    return error instanceof EdgeError ? error.code : "untyped";
  }
}

describe("checkJsonBounds", () => {
  it("accepts JSON at exactly the limits", () => {
    expect(codeOf(() => checkJsonBounds('[[[{"a":"0123456789"}]]]', bounds, "body"))).toBeNull();
  });

  it("refuses one level too deep, in arrays or objects", () => {
    expect(codeOf(() => checkJsonBounds("[[[[[]]]]]", bounds, "body"))).toBe("JSON_TOO_DEEP");
    expect(codeOf(() => checkJsonBounds('{"a":{"b":{"c":{"d":{}}}}}', bounds, "body"))).toBe("JSON_TOO_DEEP");
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    expect(codeOf(() => checkJsonBounds('["[[[[[", "\\"[[[["]', bounds, "body"))).toBeNull();
  });

  it("refuses a string one character too long, as a key or a value", () => {
    expect(codeOf(() => checkJsonBounds('{"a":"01234567890"}', bounds, "body"))).toBe("JSON_STRING_TOO_LONG");
    expect(codeOf(() => checkJsonBounds('{"01234567890":1}', bounds, "body"))).toBe("JSON_STRING_TOO_LONG");
  });

  it("runs in one pass over 30,000 levels without recursion", () => {
    expect(codeOf(() => checkJsonBounds("[".repeat(30_000) + "]".repeat(30_000), { maxDepth: 16, maxStringLength: 8192 }, "body"))).toBe("JSON_TOO_DEEP");
  });
});

describe("parseBoundedJson", () => {
  it("parses valid JSON and reads an empty text as no input", () => {
    expect(parseBoundedJson('{"a":[1,2]}', bounds, "body")).toEqual({ a: [1, 2] });
    expect(parseBoundedJson("", bounds, "body")).toBeUndefined();
  });

  it("answers invalid JSON with a typed BAD_INPUT", () => {
    expect(codeOf(() => parseBoundedJson("{not json", bounds, "body"))).toBe("BAD_INPUT");
    expect(codeOf(() => parseBoundedJson('"unterm', bounds, "body"))).toBe("BAD_INPUT");
  });
});
