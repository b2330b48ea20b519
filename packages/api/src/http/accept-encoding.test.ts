// Accept-Encoding as our responders read it: q=0 refuses, * allows, and a client cannot grow the parsed-header memory.
import { describe, expect, it } from "vitest";
import { acceptedEncodings, MAX_REMEMBERED_ACCEPT_ENCODINGS, rememberedAcceptEncodingCount } from "./accept-encoding.ts";

describe("acceptedEncodings", () => {
  it("reads what a browser sends, a refusal, a wildcard and nothing", () => {
    expect([...acceptedEncodings("gzip, deflate, br, zstd")].sort()).toEqual(["br", "gzip"]);
    expect([...acceptedEncodings("gzip, br;q=0")]).toEqual(["gzip"]);
    expect([...acceptedEncodings("*, gzip;q=0")]).toEqual(["br"]);
    expect([...acceptedEncodings(undefined)]).toEqual([]);
    expect([...acceptedEncodings(`${"x".repeat(1025)}, br`)]).toEqual([]);
  });

  it("answers the same for a header seen before, and remembers at most a bounded number of distinct headers", () => {
    expect([...acceptedEncodings("br")]).toEqual(["br"]);
    expect([...acceptedEncodings("br")]).toEqual(["br"]);
    // An attacker sending a new value on every request: each is still answered correctly, none past the bound is kept.
    for (let n = 0; n < MAX_REMEMBERED_ACCEPT_ENCODINGS * 4; n++) {
      expect([...acceptedEncodings(`gzip, x-${n}`)]).toEqual(["gzip"]);
    }
    expect(rememberedAcceptEncodingCount()).toBe(MAX_REMEMBERED_ACCEPT_ENCODINGS);
  });
});
