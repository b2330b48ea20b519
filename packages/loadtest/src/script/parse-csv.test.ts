import { describe, expect, it } from "vitest";
import { CsvSyntaxError, parseCsv } from "./parse-csv.ts";

describe("parseCsv", () => {
  it("splits plain rows and skips blank lines and the trailing newline", () => {
    expect(parseCsv("a,b\n\nc,d\n")).toEqual([
      ["a", "b"],
      ["c", "d"],
    ]);
  });

  it("reads quoted fields with commas, doubled quotes and newlines", () => {
    const text = 'sku,name\r\nTEE-M,"Tee, medium"\r\nMUG,"The ""big"" mug"\r\nCARD,"line one\nline two"';
    expect(parseCsv(text)).toEqual([
      ["sku", "name"],
      ["TEE-M", "Tee, medium"],
      ["MUG", 'The "big" mug'],
      ["CARD", "line one\nline two"],
    ]);
  });

  it("keeps empty fields, including a quoted empty field at the end", () => {
    expect(parseCsv('a,,c\nx,""')).toEqual([
      ["a", "", "c"],
      ["x", ""],
    ]);
  });

  it("ignores a byte-order mark", () => {
    expect(parseCsv("\uFEFFa,b")).toEqual([["a", "b"]]);
  });

  it("rejects an unclosed quote, naming the line it opened on", () => {
    expect(() => parseCsv('a,b\nc,"never closed\n')).toThrow(new CsvSyntaxError("a quoted field is never closed", 2));
  });

  it("rejects text after a closing quote and a quote inside an unquoted field", () => {
    expect(() => parseCsv('"a"b')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a\nab"c')).toThrow(/line 2/);
  });
});
