import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { body, sign, verify } from "./order-webhook.ts";

const event = {
  id: "0b7f6a5e-2f43-4c0e-9f59-3a0e2a1f7b11",
  type: "order.placed" as const,
  aggregateId: "order-1",
  payload: { orderId: "order-1", number: "100001", total: 4200 },
  createdAt: new Date("2026-11-24T10:00:00.900Z"),
};

describe("body", () => {
  it("carries id, type, created in unix seconds and the payload as data", () => {
    expect(JSON.parse(body(event))).toEqual({ id: event.id, type: "order.placed", created: 1795514400, data: event.payload });
  });

  it("is byte-identical every time, so a retry re-sends the same body", () => {
    expect(body(event)).toBe(body({ ...event, payload: { ...event.payload } }));
  });
});

describe("sign", () => {
  it("is t=<unix>,v1=<hex HMAC-SHA256(secret, '<t>.<body>')>", () => {
    const payload = body(event);
    const expected = createHmac("sha256", "whsec_test_secret_1234").update(`1795514400.${payload}`).digest("hex");
    expect(sign({ secret: "whsec_test_secret_1234", body: payload, timestamp: 1795514400 })).toBe(`t=1795514400,v1=${expected}`);
  });
});

describe("verify", () => {
  const secret = "whsec_test_secret_1234";
  const payload = body(event);
  const now = new Date(1795514400 * 1000);
  const header = sign({ secret, body: payload, timestamp: 1795514400 });

  it("accepts a fresh, correct signature", () => {
    expect(verify({ secret, body: payload, header, now })).toBe(true);
  });

  it("refuses a changed body, another secret, a stale timestamp or a malformed header", () => {
    expect(verify({ secret, body: payload.replace("4200", "1"), header, now })).toBe(false);
    expect(verify({ secret: "another_secret_5678", body: payload, header, now })).toBe(false);
    expect(verify({ secret, body: payload, header, now: new Date(now.getTime() + 301_000) })).toBe(false);
    expect(verify({ secret, body: payload, header: "v1=abc", now })).toBe(false);
    expect(verify({ secret, body: payload, header: "t=1795514400,v1=zz", now })).toBe(false);
  });
});
