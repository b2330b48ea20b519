// The processor's webhook signature, both ends of it: `Sandbox-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret,
// "<t>.<raw body>")>`, made by the payment sandbox and checked by the API.
import { createHmac, timingSafeEqual } from "node:crypto";

/** The header's name as Node presents incoming headers (lower case); HTTP header names are case-insensitive. */
export const SIGNATURE_HEADER = "sandbox-signature";

/** The value of the Sandbox-Signature header for `body` sent at `timestamp` (unix seconds). */
export function signWebhook(input: { secret: string; timestamp: number; body: string }): string {
  return `t=${input.timestamp},v1=${hmac(input.secret, input.timestamp, Buffer.from(input.body, "utf8")).toString("hex")}`;
}

function hmac(secret: string, timestamp: number, body: Buffer): Buffer {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

const TIMESTAMP = /^\d{1,12}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

function parseHeader(header: string): { timestamp: number; signatures: Buffer[] } | null {
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const part of header.split(",")) {
    const separator = part.indexOf("=");
    if (separator === -1) return null;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === "t") {
      if (timestamp !== null || !TIMESTAMP.test(value)) return null;
      timestamp = Number(value);
    } else if (key === "v1") {
      if (!HEX_SHA256.test(value)) return null;
      signatures.push(Buffer.from(value, "hex"));
    }
    // Other schemes (v0, a future v2) are ignored, as providers document.
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}

/**
 * Verifies the signature over the exact bytes received, in constant time, and that it was made
 * within `toleranceSeconds` of now (so a captured request cannot be replayed later). Several v1
 * entries are allowed, for secret rotation: one match is enough.
 */
export function verifyWebhookSignature(input: {
  header: string | string[] | undefined;
  rawBody: Buffer;
  secret: string;
  toleranceSeconds: number;
  nowSeconds: number;
}): SignatureCheck {
  if (typeof input.header !== "string" || input.header === "") return { ok: false, reason: "The Sandbox-Signature header is missing" };
  const parsed = parseHeader(input.header);
  if (!parsed) return { ok: false, reason: "The Sandbox-Signature header is malformed; expected t=<unix seconds>,v1=<hex>" };
  if (Math.abs(input.nowSeconds - parsed.timestamp) > input.toleranceSeconds) {
    return { ok: false, reason: `The signature timestamp is more than ${input.toleranceSeconds} s away from now` };
  }
  const expected = hmac(input.secret, parsed.timestamp, input.rawBody);
  const isMatch = parsed.signatures.some((signature) => timingSafeEqual(signature, expected));
  return isMatch ? { ok: true, timestamp: parsed.timestamp } : { ok: false, reason: "The signature does not match the body" };
}
