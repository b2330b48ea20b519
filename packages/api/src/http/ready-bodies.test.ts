import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { acceptedEncodings } from "./accept-encoding.ts";
import { createReadyBodies } from "./ready-bodies.ts";

const products = Array.from({ length: 15 }, (_, at) => Object.freeze({ id: `product-${at}`, name: `Product ${at}`, description: "A thing a shopper buys", price: 1600 + at }));

describe("ready bodies", () => {
  it("serialises a frozen result once and sends the same bytes again, compressed as the caller accepts", () => {
    let serialised = 0;
    const bodies = createReadyBodies((value) => {
      serialised += 1;
      return value;
    });
    const shared = Object.freeze([...products]);
    const plain = bodies.success(shared, undefined);
    expect(bodies.success(shared, undefined).body).toBe(plain.body);
    expect(plain.encoding).toBeUndefined();
    expect(JSON.parse(plain.body.toString())).toEqual({ result: { data: products } });

    const br = bodies.success(shared, "gzip, deflate, br, zstd");
    const gzip = bodies.success(shared, "gzip");
    expect(br.encoding).toBe("br");
    expect(gzip.encoding).toBe("gzip");
    expect(brotliDecompressSync(br.body as Buffer).equals(plain.body as Buffer)).toBe(true);
    expect(gunzipSync(gzip.body as Buffer).equals(plain.body as Buffer)).toBe(true);
    expect(br.body.length).toBeLessThan(plain.body.length / 3);
    expect(bodies.success(shared, "br;q=0, gzip").encoding).toBe("gzip");
    expect(bodies.success(shared, "identity").encoding).toBeUndefined();
    expect(serialised).toBe(1);
  });

  it("serialises anything not frozen on every call and never compresses it, so a changed object is never answered with old bytes", () => {
    const bodies = createReadyBodies((value) => value);
    const cart = { lines: 1 };
    expect(bodies.success(cart, "br")).toEqual({ body: '{"result":{"data":{"lines":1}}}' });
    cart.lines = 2;
    expect(bodies.success(cart, "br")).toEqual({ body: '{"result":{"data":{"lines":2}}}' });
    expect(bodies.success(null, "br")).toEqual({ body: '{"result":{"data":null}}' });
  });

  it("sends a small frozen result as it is: compression would save nothing", () => {
    const bodies = createReadyBodies((value) => value);
    expect(bodies.success(Object.freeze({ id: "mug" }), "br, gzip").encoding).toBeUndefined();
  });
});

describe("acceptedEncodings", () => {
  it("reads tokens, q-values and the wildcard; anything unknown, refused or absurd is identity", () => {
    expect([...acceptedEncodings("gzip, deflate, br")].sort()).toEqual(["br", "gzip"]);
    expect([...acceptedEncodings("BR;q=0.5")]).toEqual(["br"]);
    expect([...acceptedEncodings("br;q=0, gzip;q=0.0")]).toEqual([]);
    expect([...acceptedEncodings("*;q=0.1, gzip;q=0")]).toEqual(["br"]);
    expect([...acceptedEncodings("deflate, identity")]).toEqual([]);
    expect([...acceptedEncodings(undefined)]).toEqual([]);
    expect([...acceptedEncodings(`gzip, ${"x".repeat(2000)}`)]).toEqual([]);
    expect([...acceptedEncodings("gzip;q=abc")]).toEqual([]);
  });
});
