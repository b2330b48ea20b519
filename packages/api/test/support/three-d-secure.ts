// 3-D Secure from the shopper's side: an order placed with the challenge card, the challenge answered at the sandbox
// as its page's buttons answer it, and the sandbox's own webhooks held off while a test sends events of its own.
import { expect } from "vitest";
import { CARDS, type TestApp } from "./app.ts";
import { placeOrder } from "./orders.ts";
import { sandboxOf } from "./sandbox.ts";

/** The authorisation id a challenge URL ends with (…/3ds/auth_…); "" when there is no URL. */
export function authorizationIdOf(nextActionUrl: string): string {
  return nextActionUrl ? (new URL(nextActionUrl).pathname.split("/").pop() ?? "") : "";
}

/** Places an order with the 3-D Secure card (default lines: 2 × TEE-BLA-M): it waits, pending, on the challenge. */
export async function placeThreeDSecureOrder(t: TestApp, lines?: { sku: string; quantity: number }[]) {
  const { cartId, order } = await placeOrder(t, { lines, card: CARDS.threeDSecure });
  const nextActionUrl = order.payment?.nextActionUrl ?? "";
  return { cartId, order, nextActionUrl, authorizationId: authorizationIdOf(nextActionUrl) };
}

/** POSTs the shopper's answer to the challenge, on the sandbox's origin; the authorisation as the sandbox then holds it. */
export async function answerChallenge(t: TestApp, nextActionUrl: string, result: "authenticated" | "failed") {
  const response = await fetch(new URL(new URL(nextActionUrl).pathname, t.app.paymentUrl), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ result }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { id: string; status: string } & Record<string, unknown>;
}

/** Runs `run` with the sandbox's webhooks off, then points them at the app's endpoint again, signed with `secret`. */
export async function withoutSandboxWebhooks(t: TestApp, secret: string, run: () => Promise<void>): Promise<void> {
  sandboxOf(t).setWebhookTarget(null);
  try {
    await run();
  } finally {
    sandboxOf(t).setWebhookTarget(`${t.app.url}/webhooks/payments`, secret);
  }
}
