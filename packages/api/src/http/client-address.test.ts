// The client's address: the socket, a trusted proxy's X-Forwarded-For hop, or the edge's viewer-address header.
import type http from "node:http";
import { describe, expect, it } from "vitest";
import { clientAddressOf, limitKeyOf, originOf, parseViewerAddress } from "./client-address.ts";

const request = (remoteAddress: string, headers: http.IncomingHttpHeaders) => ({ socket: { remoteAddress }, headers }) as unknown as http.IncomingMessage;

describe("clientAddressOf", () => {
  it("takes the socket address unless proxies are trusted", () => {
    const req = request("::ffff:10.1.2.3", { "x-forwarded-for": "6.6.6.6", "user-agent": "curl/8" });
    expect(originOf(req, clientAddressOf(req, { trustedProxies: 0 }))).toEqual({ ip: "10.1.2.3", userAgent: "curl/8" });
  });

  it("behind trusted proxies takes the hop they added, not what the client wrote further left", () => {
    expect(clientAddressOf(request("10.0.0.9", { "x-forwarded-for": "203.0.113.7" }), { trustedProxies: 1 })).toBe("203.0.113.7");
    expect(clientAddressOf(request("10.0.0.9", { "x-forwarded-for": "6.6.6.6, 203.0.113.7" }), { trustedProxies: 1 })).toBe("203.0.113.7");
    expect(clientAddressOf(request("10.0.0.9", { "x-forwarded-for": "6.6.6.6, 203.0.113.7, 130.176.0.1" }), { trustedProxies: 2 })).toBe("203.0.113.7");
  });

  it("ignores a forwarded hop that is not an address", () => {
    expect(clientAddressOf(request("10.0.0.9", { "x-forwarded-for": "not-an-ip" }), { trustedProxies: 1 })).toBe("10.0.0.9");
  });

  it("takes the viewer-address header before X-Forwarded-For, which a client can write", () => {
    const sources = { trustedProxies: 1, viewerAddressHeader: "cloudfront-viewer-address" };
    expect(clientAddressOf(request("10.0.0.9", { "cloudfront-viewer-address": "198.51.100.10:46532", "x-forwarded-for": "6.6.6.6" }), sources)).toBe("198.51.100.10");
  });

  it("falls back to the socket when the viewer-address header is missing or malformed", () => {
    const sources = { trustedProxies: 0, viewerAddressHeader: "cloudfront-viewer-address" };
    expect(clientAddressOf(request("10.0.0.9", {}), sources)).toBe("10.0.0.9");
    expect(clientAddressOf(request("10.0.0.9", { "cloudfront-viewer-address": "evil" }), sources)).toBe("10.0.0.9");
  });

  it("caps the user agent", () => {
    expect(originOf(request("10.0.0.1", { "user-agent": "x".repeat(1000) }), "10.0.0.1").userAgent).toHaveLength(256);
  });
});

describe("limitKeyOf", () => {
  it("keeps an IPv4 address and counts an IPv6 address by its /64", () => {
    expect(limitKeyOf("203.0.113.9")).toBe("203.0.113.9");
    expect(limitKeyOf("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(limitKeyOf("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(limitKeyOf("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(limitKeyOf("::1")).toBe("0:0:0:0::/64");
  });
});

describe("parseViewerAddress", () => {
  it("reads IPv4 and IPv6 with or without a port", () => {
    expect(parseViewerAddress("198.51.100.10:46532")).toBe("198.51.100.10");
    expect(parseViewerAddress("2001:db8::8a2e:370:7334:46532")).toBe("2001:db8::8a2e:370:7334");
    expect(parseViewerAddress("[2001:db8::1]:443")).toBe("2001:db8::1");
    expect(parseViewerAddress("::ffff:127.0.0.2:5000")).toBe("127.0.0.2");
    expect(parseViewerAddress("203.0.113.9")).toBe("203.0.113.9");
  });

  it("refuses anything that is not an address", () => {
    for (const value of ["", "localhost:80", "1.2.3.4.5:80", "x".repeat(100), "[nope]:1"]) expect(parseViewerAddress(value)).toBeNull();
  });
});
