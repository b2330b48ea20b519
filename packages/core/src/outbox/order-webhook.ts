// Order webhooks as receivers see them: the JSON body and the `Checkout-Signature` header,
// t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>. Receivers dedupe by event id.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { OutboxEvent } from "./outbox.repository.ts";

export const SIGNATURE_HEADER = "Checkout-Signature";
export const EVENT_ID_HEADER = "Checkout-Event-Id";

/** The body every receiver gets for an event; identical on every retry. */
export function body(event: OutboxEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    created: Math.floor(event.createdAt.getTime() / 1000),
    data: event.payload,
  });
}

function hmac(secret: string, timestamp: number, payload: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${payload}`).digest("hex");
}

export function sign(input: { secret: string; body: string; timestamp: number }): string {
  return `t=${input.timestamp},v1=${hmac(input.secret, input.timestamp, input.body)}`;
}

/**
 * What a receiver runs: true when some v1 signature in the header matches and its timestamp is
 * within `toleranceSeconds` of now (a replayed old request is refused).
 */
export function verify(input: { secret: string; body: string; header: string; toleranceSeconds?: number; now?: Date }): boolean {
  const parts = input.header.split(",").map((part) => part.trim().split("=", 2) as [string, string?]);
  const timestamp = Number(parts.find(([key]) => key === "t")?.[1]);
  if (!Number.isSafeInteger(timestamp)) return false;
  const nowSeconds = Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - timestamp) > (input.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(hmac(input.secret, timestamp, input.body), "hex");
  return parts.some(([key, value]) => {
    if (key !== "v1" || !value || !/^[0-9a-f]+$/i.test(value)) return false;
    const given = Buffer.from(value, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
