import { describe, expect, it } from "vitest";
import { compileJsonPath, evaluateJsonPath, JsonPathSyntaxError } from "./json-path.ts";

const order = { result: { data: { id: "ord_1", lines: [{ sku: "TEE-M" }, { sku: "MUG", "unit-price": 1200 }] } }, total: 0 };

function valueAt(path: string, root: unknown = order): unknown {
  const result = evaluateJsonPath(compileJsonPath(path), root);
  return result.found ? result.value : "(not found)";
}

describe("compileJsonPath", () => {
  it("reads keys, indexes and quoted keys into segments", () => {
    expect(compileJsonPath("$.result.lines[1]['unit-price']").segments).toEqual([
      { kind: "key", key: "result" },
      { kind: "key", key: "lines" },
      { kind: "index", index: 1 },
      { kind: "key", key: "unit-price" },
    ]);
  });

  it("accepts the bare root", () => {
    expect(compileJsonPath("$").segments).toEqual([]);
  });

  it.each([["result.id"], ["$."], ["$[-1]"], ["$['id'"], ["$[abc]"], ["$..id"], ["$.a b"]])("rejects %s", (path) => {
    expect(() => compileJsonPath(path)).toThrow(JsonPathSyntaxError);
  });
});

describe("evaluateJsonPath", () => {
  it("finds nested keys and array items", () => {
    expect(valueAt("$.result.data.id")).toBe("ord_1");
    expect(valueAt("$.result.data.lines[0].sku")).toBe("TEE-M");
    expect(valueAt(`$.result.data.lines[1]["unit-price"]`)).toBe(1200);
  });

  it("returns the whole document for $ and keeps falsy values", () => {
    expect(valueAt("$")).toBe(order);
    expect(valueAt("$.total")).toBe(0);
  });

  it("reports missing keys, out-of-range indexes and type mismatches as not found", () => {
    expect(valueAt("$.result.missing")).toBe("(not found)");
    expect(valueAt("$.result.data.lines[5]")).toBe("(not found)");
    expect(valueAt("$.result.data.id.length")).toBe("(not found)");
    expect(valueAt("$[0]")).toBe("(not found)");
    expect(valueAt("$.toString")).toBe("(not found)");
  });
});
