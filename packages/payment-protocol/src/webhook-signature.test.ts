// Unit tests for the payment provider's webhook signature: the sandbox's signing, the API's verifying.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhookSignature } from "./webhook-signature.ts";

const SECRET = "whsec_test_0123456789abcdef";
const NOW = 1_800_000_000;
const body = Buffer.from('{"id":"evt_1","type":"authorization.succeeded"}');

function sign(timestamp: number, payload: Buffer = body, secret = SECRET): string {
  return createHmac("sha256", secret)
    .update(`${timestamp}.${payload.toString("utf8")}`)
    .digest("hex");
}

function verify(header: string | string[] | undefined, options: { rawBody?: Buffer; nowSeconds?: number } = {}) {
  return verifyWebhookSignature({ header, rawBody: options.rawBody ?? body, secret: SECRET, toleranceSeconds: 300, nowSeconds: options.nowSeconds ?? NOW });
}

describe("signWebhook", () => {
  it("signs '<t>.<body>' with HMAC-SHA256 as t=<t>,v1=<hex>", () => {
    const text = '{"id":"evt_1"}';
    const expected = createHmac("sha256", SECRET).update(`1700000000.${text}`).digest("hex");
    expect(signWebhook({ secret: SECRET, timestamp: 1700000000, body: text })).toBe(`t=1700000000,v1=${expected}`);
  });

  it("makes a header verifyWebhookSignature accepts for the same bytes", () => {
    expect(verify(signWebhook({ secret: SECRET, timestamp: NOW, body: body.toString("utf8") }))).toEqual({ ok: true, timestamp: NOW });
  });
});

describe("verifyWebhookSignature", () => {
  it("accepts a signature over the exact body made within the tolerance", () => {
    expect(verify(`t=${NOW},v1=${sign(NOW)}`)).toEqual({ ok: true, timestamp: NOW });
    expect(verify(`t=${NOW - 299},v1=${sign(NOW - 299)}`).ok).toBe(true);
  });

  it("accepts any one matching v1 among several, for secret rotation", () => {
    expect(verify(`t=${NOW},v1=${sign(NOW, body, "whsec_old_secret_000000")},v1=${sign(NOW)}`).ok).toBe(true);
  });

  it("rejects a missing or malformed header", () => {
    for (const header of [undefined, "", ["a", "b"], "garbage", `v1=${sign(NOW)}`, `t=${NOW}`, `t=abc,v1=${sign(NOW)}`, `t=${NOW},v1=xyz`]) {
      expect(verify(header).ok).toBe(false);
    }
    expect(verify(undefined)).toEqual({ ok: false, reason: "The Sandbox-Signature header is missing" });
  });

  it("rejects a signature made with another secret or over another body", () => {
    expect(verify(`t=${NOW},v1=${sign(NOW, body, "whsec_someone_else_0000")}`)).toEqual({ ok: false, reason: "The signature does not match the body" });
    expect(verify(`t=${NOW},v1=${sign(NOW)}`, { rawBody: Buffer.from(`${body.toString()} `) }).ok).toBe(false);
  });

  it("rejects a timestamp outside the tolerance, past or future, even with a valid signature", () => {
    expect(verify(`t=${NOW - 301},v1=${sign(NOW - 301)}`)).toMatchObject({ ok: false, reason: expect.stringMatching(/300 s/) });
    expect(verify(`t=${NOW + 301},v1=${sign(NOW + 301)}`).ok).toBe(false);
  });

  it("binds the timestamp into the signature, so it cannot be swapped for a fresh one", () => {
    expect(verify(`t=${NOW},v1=${sign(NOW - 1000)}`).ok).toBe(false);
  });
});
