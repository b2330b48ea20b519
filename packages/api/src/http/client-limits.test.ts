// Per-client limits: the token bucket per rate class, the in-flight cap, the per-peer connection cap and exemptions.
import { EventEmitter } from "node:events";
import type net from "node:net";
import { describe, expect, it } from "vitest";
import { createClientLimits } from "./client-limits.ts";
import { EdgeError } from "./edge-error.ts";

const perMinute = { browse: 60, cart: 6, payment: 2, admin: 6 };

function socketFrom(remoteAddress: string): net.Socket {
  return Object.assign(new EventEmitter(), { remoteAddress }) as unknown as net.Socket;
}

function refusal(fn: () => unknown): EdgeError | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (error instanceof EdgeError) return error;
    throw error;
  }
}

describe("takeRate", () => {
  it("allows a class's budget per minute, then refuses with 429 and when to retry, and refills over time", () => {
    let now = 0;
    const limits = createClientLimits({ maxConnectionsPerPeer: 10, maxInFlightPerClient: 10, perMinute, now: () => now });
    expect(refusal(() => limits.takeRate("10.0.0.1", "payment"))).toBeNull();
    expect(refusal(() => limits.takeRate("10.0.0.1", "payment"))).toBeNull();
    const refused = refusal(() => limits.takeRate("10.0.0.1", "payment"));
    expect(refused?.code).toBe("RATE_LIMITED");
    expect(refused?.options.retryAfterSeconds).toBe(30);
    // Another class and another client have their own buckets.
    expect(refusal(() => limits.takeRate("10.0.0.1", "cart"))).toBeNull();
    expect(refusal(() => limits.takeRate("10.0.0.2", "payment"))).toBeNull();
    now = 30_000;
    expect(refusal(() => limits.takeRate("10.0.0.1", "payment"))).toBeNull();
    expect(refusal(() => limits.takeRate("10.0.0.1", "payment"))?.code).toBe("RATE_LIMITED");
  });

  it("keeps no limit for exempt clients", () => {
    const limits = createClientLimits({ maxConnectionsPerPeer: 1, maxInFlightPerClient: 1, perMinute, exempt: new Set(["127.0.0.1"]) });
    for (let i = 0; i < 100; i++) expect(refusal(() => limits.takeRate("127.0.0.1", "payment"))).toBeNull();
    limits.enter("127.0.0.1");
    expect(refusal(() => limits.enter("127.0.0.1"))).toBeNull();
  });
});

describe("enter", () => {
  it("caps requests in flight per client and frees a slot on release, once", () => {
    const limits = createClientLimits({ maxConnectionsPerPeer: 10, maxInFlightPerClient: 2, perMinute });
    const first = limits.enter("10.0.0.1");
    limits.enter("10.0.0.1");
    expect(refusal(() => limits.enter("10.0.0.1"))?.code).toBe("RATE_LIMITED");
    expect(refusal(() => limits.enter("10.0.0.2"))).toBeNull();
    first();
    first();
    expect(refusal(() => limits.enter("10.0.0.1"))).toBeNull();
    expect(refusal(() => limits.enter("10.0.0.1"))?.code).toBe("RATE_LIMITED");
  });
});

describe("admitConnection", () => {
  it("caps open sockets per peer and counts a closed one out", () => {
    const limits = createClientLimits({ maxConnectionsPerPeer: 2, maxInFlightPerClient: 10, perMinute });
    const sockets = [socketFrom("::ffff:10.0.0.1"), socketFrom("10.0.0.1")];
    for (const socket of sockets) expect(limits.admitConnection(socket)).toBe(true);
    expect(limits.admitConnection(socketFrom("10.0.0.1"))).toBe(false);
    expect(limits.admitConnection(socketFrom("10.0.0.2"))).toBe(true);
    sockets[0]!.emit("close");
    expect(limits.admitConnection(socketFrom("10.0.0.1"))).toBe(true);
    expect(limits.renderMetrics()).toContain('http_client_limit_refusals_total{limit="connections"} 1');
  });

  it("caps nothing behind a proxy (Infinity)", () => {
    const limits = createClientLimits({ maxConnectionsPerPeer: Infinity, maxInFlightPerClient: 10, perMinute });
    for (let i = 0; i < 1000; i++) expect(limits.admitConnection(socketFrom("10.0.0.9"))).toBe(true);
  });
});
