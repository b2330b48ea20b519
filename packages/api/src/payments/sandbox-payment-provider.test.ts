// Tests for the sandbox PaymentProvider against a real sandbox, and against servers that misbehave.
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PaymentProviderUnavailableError, PaymentTokenRejectedError } from "@checkout/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPaymentSandbox, type PaymentSandbox } from "@checkout/payment-sandbox";
import { readBody } from "../http/body-reader.ts";
import { SandboxPaymentProvider } from "./sandbox-payment-provider.ts";

const SECRET = "sk_test_provider_secret";
const futureYear = new Date().getUTCFullYear() + 2;

let sandbox: PaymentSandbox;
let provider: SandboxPaymentProvider;
let keyCounter = 0;

beforeAll(async () => {
  sandbox = await startPaymentSandbox({ port: 0, secretKey: SECRET, allowedParentOrigins: ["http://localhost:3000"] });
  provider = new SandboxPaymentProvider({ baseUrl: sandbox.url, secretKey: SECRET });
});

afterAll(async () => {
  await sandbox.close();
});

function newKey(): string {
  keyCounter += 1;
  return `provider-test-${keyCounter}-${Math.random().toString(36).slice(2)}`;
}

async function tokenFor(number: string): Promise<string> {
  const response = await fetch(`${sandbox.url}/v1/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ number, expMonth: 6, expYear: futureYear, cvc: "123" }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function authorizationState(id: string): Promise<Record<string, unknown>> {
  const headers = { Authorization: `Bearer ${SECRET}` };
  const response = await fetch(`${sandbox.url}/v1/authorizations/${id}`, { headers });
  return (await response.json()) as Record<string, unknown>;
}

async function authorizedId(amount = 5000): Promise<string> {
  const result = await provider.authorize({
    token: await tokenFor("4242424242424242"),
    amount,
    currency: "USD",
    idempotencyKey: newKey(),
    reference: "order_provider",
  });
  if (result.status !== "authorized") throw new Error("expected an authorisation");
  return result.authorizationId;
}

async function withServer(listener: RequestListener, run: (baseUrl: string) => Promise<void>): Promise<void> {
  const server: Server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function authorizeWith(target: SandboxPaymentProvider, token = "tok_any") {
  return target.authorize({ token, amount: 100, currency: "USD", idempotencyKey: newKey(), reference: "order_x" });
}

describe("SandboxPaymentProvider.retrieveToken", () => {
  it("returns the card behind a token with the fingerprint its authorisation will carry", async () => {
    const token = await tokenFor("4000000000000002");
    const retrieved = await provider.retrieveToken({ token });
    expect(retrieved).toEqual({ card: { brand: "visa", last4: "0002", fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    const result = await authorizeWith(provider, token);
    expect(result.status === "declined" && result.card?.fingerprint).toBe(retrieved?.card.fingerprint);
  });

  it("returns null for a token the sandbox does not know", async () => {
    expect(await provider.retrieveToken({ token: "tok_unknown" })).toBeNull();
  });

  it("throws PaymentProviderUnavailableError when the sandbox cannot be reached", async () => {
    const offline = new SandboxPaymentProvider({ baseUrl: "http://127.0.0.1:9", secretKey: SECRET, timeoutMs: 500 });
    await expect(offline.retrieveToken({ token: "tok_any" })).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
  });
});

describe("SandboxPaymentProvider.authorize", () => {
  it("returns the authorisation and card for a succeeding card", async () => {
    const result = await provider.authorize({
      token: await tokenFor("5555555555554444"),
      amount: 1250,
      currency: "EUR",
      idempotencyKey: newKey(),
      reference: "order_1",
    });
    expect(result).toEqual({
      status: "authorized",
      authorizationId: expect.stringMatching(/^auth_/),
      amount: 1250,
      currency: "EUR",
      card: { brand: "mastercard", last4: "4444", fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
    expect(provider.name).toBe("sandbox");
  });

  it("reports a declined card as a decline, not an error", async () => {
    const result = await authorizeWith(provider, await tokenFor("4000000000000002"));
    expect(result).toEqual({
      status: "declined",
      code: "card_declined",
      message: "Your card was declined.",
      card: { brand: "visa", last4: "0002", fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
  });

  it("gives a declined card the same fingerprint on every attempt, so limits per card can count it", async () => {
    const first = await authorizeWith(provider, await tokenFor("4000000000000002"));
    const second = await authorizeWith(provider, await tokenFor("4000000000000002"));
    const other = await authorizeWith(provider, await tokenFor("4000000000009995"));
    if (first.status !== "declined" || second.status !== "declined" || other.status !== "declined") throw new Error("expected declines");
    expect(first.card?.fingerprint).toBeDefined();
    expect(second.card?.fingerprint).toBe(first.card?.fingerprint);
    expect(other.card?.fingerprint).not.toBe(first.card?.fingerprint);
  });

  it("reports insufficient funds as a decline", async () => {
    const result = await authorizeWith(provider, await tokenFor("4000000000009995"));
    expect(result).toMatchObject({
      status: "declined",
      code: "insufficient_funds",
      message: "Your card has insufficient funds.",
    });
  });

  it("throws PaymentTokenRejectedError for a used or unknown token", async () => {
    const token = await tokenFor("4242424242424242");
    await authorizeWith(provider, token);
    await expect(authorizeWith(provider, token)).rejects.toBeInstanceOf(PaymentTokenRejectedError);
    await expect(authorizeWith(provider, "tok_unknown")).rejects.toBeInstanceOf(PaymentTokenRejectedError);
  });

  it("gets the same authorisation back when retried with the same idempotency key", async () => {
    const input = {
      token: await tokenFor("4242424242424242"),
      amount: 3000,
      currency: "USD" as const,
      idempotencyKey: newKey(),
      reference: "order_retry",
    };
    const first = await provider.authorize(input);
    const retry = await provider.authorize(input);
    expect(retry).toEqual(first);
    const authorizations = sandbox.debugDump().authorizations.filter((entry) => entry.reference === "order_retry");
    expect(authorizations).toHaveLength(1);
  });

  it("throws a plain error for a request the sandbox calls invalid", async () => {
    const wrongKey = new SandboxPaymentProvider({ baseUrl: sandbox.url, secretKey: "sk_wrong" });
    const unauthorized = await authorizeWith(wrongKey).catch((error: unknown) => error);
    expect(unauthorized).toBeInstanceOf(Error);
    expect(unauthorized).not.toBeInstanceOf(PaymentProviderUnavailableError);
    expect(unauthorized).not.toBeInstanceOf(PaymentTokenRejectedError);
    expect((unauthorized as Error).message).toContain("401");

    const input = {
      token: await tokenFor("4242424242424242"),
      amount: 100,
      currency: "USD" as const,
      idempotencyKey: newKey(),
      reference: "order_key_reuse",
    };
    await provider.authorize(input);
    await expect(provider.authorize({ ...input, amount: 200 })).rejects.toThrow(/idempotency_key_reused/);
  });

  it("throws PaymentProviderUnavailableError when the sandbox cannot be reached", async () => {
    const closed = await startPaymentSandbox({ port: 0, secretKey: SECRET, allowedParentOrigins: [] });
    await closed.close();
    const unreachable = new SandboxPaymentProvider({ baseUrl: closed.url, secretKey: SECRET });
    await expect(authorizeWith(unreachable)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
  });

  it("throws PaymentProviderUnavailableError when the sandbox does not answer in time", async () => {
    await withServer(
      () => undefined,
      async (baseUrl) => {
        const slow = new SandboxPaymentProvider({ baseUrl, secretKey: SECRET, timeoutMs: 100 });
        await expect(authorizeWith(slow)).rejects.toThrow(/timed out after 100 ms/);
        await expect(authorizeWith(slow)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
      },
    );
  });

  it("throws PaymentProviderUnavailableError on a server error", async () => {
    await withServer(
      (_request, response) => {
        response.writeHead(503, { "Content-Type": "application/json" }).end('{"error":{"message":"down"}}');
      },
      async (baseUrl) => {
        const failing = new SandboxPaymentProvider({ baseUrl, secretKey: SECRET });
        await expect(authorizeWith(failing)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
      },
    );
  });

  it("throws PaymentProviderUnavailableError on an answer it cannot parse", async () => {
    await withServer(
      (_request, response) => {
        response.writeHead(201, { "Content-Type": "text/html" }).end("<html>proxy page</html>");
      },
      async (baseUrl) => {
        const garbled = new SandboxPaymentProvider({ baseUrl, secretKey: SECRET });
        await expect(authorizeWith(garbled)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
      },
    );
    await withServer(
      (_request, response) => {
        response.writeHead(201, { "Content-Type": "application/json" }).end('{"status":"authorized"}');
      },
      async (baseUrl) => {
        const incomplete = new SandboxPaymentProvider({ baseUrl, secretKey: SECRET });
        await expect(authorizeWith(incomplete)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
      },
    );
  });

  it("sends the idempotency key, the secret key and the JSON body", async () => {
    let seen: { headers: Record<string, unknown>; body: string; url: string | undefined } | undefined;
    await withServer(
      (request, response) => {
        void readBody(request, { maxBytes: 1024 * 1024, timeoutMs: 10_000 }).then((body) => {
          seen = { headers: request.headers, body, url: request.url };
          response.writeHead(201, { "Content-Type": "application/json" });
          const card = { brand: "visa", last4: "4242" };
          response.end(JSON.stringify({ id: "auth_fake", status: "authorized", amount: 1250, currency: "EUR", card }));
        });
      },
      async (baseUrl) => {
        const recording = new SandboxPaymentProvider({ baseUrl: `${baseUrl}/`, secretKey: SECRET });
        await recording.authorize({
          token: "tok_1",
          amount: 99,
          currency: "EUR",
          idempotencyKey: "order-42-authorize",
          reference: "order_42",
        });
      },
    );
    expect(seen?.url).toBe("/v1/authorizations");
    expect(seen?.headers["idempotency-key"]).toBe("order-42-authorize");
    expect(seen?.headers.authorization).toBe(`Bearer ${SECRET}`);
    const sent = JSON.parse(seen?.body ?? "");
    expect(sent).toEqual({ token: "tok_1", amount: 99, currency: "EUR", reference: "order_42" });
  });
});

describe("SandboxPaymentProvider.capture", () => {
  it("captures an authorisation and returns the capture id", async () => {
    const id = await authorizedId(5000);
    const { captureId } = await provider.capture({ authorizationId: id, amount: 4000, idempotencyKey: newKey() });
    expect(captureId).toMatch(/^cap_/);
    expect(await authorizationState(id)).toMatchObject({ status: "captured", capturedAmount: 4000 });
  });

  it("returns the same capture when retried with the same key", async () => {
    const id = await authorizedId();
    const input = { authorizationId: id, amount: 5000, idempotencyKey: newKey() };
    const first = await provider.capture(input);
    expect(await provider.capture(input)).toEqual(first);
  });

  it("throws when capturing more than was authorised", async () => {
    const id = await authorizedId(5000);
    await expect(provider.capture({ authorizationId: id, amount: 5001, idempotencyKey: newKey() })).rejects.toThrow(/amount_too_large/);
  });
});

describe("SandboxPaymentProvider.void", () => {
  it("voids an authorisation that was not captured", async () => {
    const id = await authorizedId();
    await provider.void({ authorizationId: id, idempotencyKey: newKey() });
    expect(await authorizationState(id)).toMatchObject({ status: "voided" });
  });

  it("throws when the authorisation was already captured", async () => {
    const id = await authorizedId();
    await provider.capture({ authorizationId: id, amount: 5000, idempotencyKey: newKey() });
    await expect(provider.void({ authorizationId: id, idempotencyKey: newKey() })).rejects.toThrow(/409/);
  });
});

describe("SandboxPaymentProvider.refund", () => {
  it("refunds captured money and refuses to refund more than that", async () => {
    const id = await authorizedId(5000);
    await provider.capture({ authorizationId: id, amount: 5000, idempotencyKey: newKey() });
    const { refundId } = await provider.refund({ authorizationId: id, amount: 3000, idempotencyKey: newKey() });
    expect(refundId).toMatch(/^re_/);
    await expect(provider.refund({ authorizationId: id, amount: 2001, idempotencyKey: newKey() })).rejects.toThrow(/amount_too_large/);
    expect(await authorizationState(id)).toMatchObject({ refundedAmount: 3000 });
  });
});

describe("SandboxPaymentProvider.authorize with 3-D Secure", () => {
  it("returns requires_action with the challenge URL for the 3-D Secure card", async () => {
    const result = await provider.authorize({
      token: await tokenFor("4000002760003184"),
      amount: 2100,
      currency: "USD",
      idempotencyKey: newKey(),
      reference: "order_3ds_provider",
    });
    if (result.status !== "requires_action") throw new Error(`expected requires_action, got ${result.status}`);
    expect(result.authorizationId).toMatch(/^auth_/);
    expect(result.nextActionUrl).toBe(`${sandbox.publicUrl}/3ds/${result.authorizationId}`);
    expect(result.card).toEqual({ brand: "visa", last4: "3184", fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it("treats requires_action without a usable URL as an unreadable answer", async () => {
    await withServer(
      (_request, response) => {
        const body = { id: "auth_fake", status: "requires_action", amount: 1250, currency: "EUR", card: { brand: "visa", last4: "3184" }, next_action: { type: "redirect" } };
        response.writeHead(201, { "Content-Type": "application/json" }).end(JSON.stringify(body));
      },
      async (baseUrl) => {
        const odd = new SandboxPaymentProvider({ baseUrl, secretKey: SECRET });
        await expect(authorizeWith(odd)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
      },
    );
  });
});

describe("SandboxPaymentProvider.findAuthorization", () => {
  it("returns null when the provider never authorised anything for the reference", async () => {
    expect(await provider.findAuthorization({ reference: "order_never_seen" })).toBeNull();
  });

  it("describes the authorisation made for the reference", async () => {
    const result = await provider.authorize({
      token: await tokenFor("4242424242424242"),
      amount: 4200,
      currency: "EUR",
      idempotencyKey: newKey(),
      reference: "order_lookup 1/2",
    });
    if (result.status !== "authorized") throw new Error("expected an authorisation");
    expect(await provider.findAuthorization({ reference: "order_lookup 1/2" })).toEqual({
      authorizationId: result.authorizationId,
      status: "authorized",
      amount: 4200,
      currency: "EUR",
      capturedAmount: 0,
      refundedAmount: 0,
      card: { brand: "visa", last4: "4242", fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) },
      failureCode: null,
    });
    await provider.capture({ authorizationId: result.authorizationId, amount: 4200, idempotencyKey: newKey() });
    expect(await provider.findAuthorization({ reference: "order_lookup 1/2" })).toMatchObject({ status: "captured", capturedAmount: 4200 });
  });

  it("reports a 3-D Secure authorisation that failed its challenge, with its failure code", async () => {
    const result = await provider.authorize({
      token: await tokenFor("4000002760003184"),
      amount: 900,
      currency: "USD",
      idempotencyKey: newKey(),
      reference: "order_lookup_3ds",
    });
    if (result.status !== "requires_action") throw new Error("expected requires_action");
    expect(await provider.findAuthorization({ reference: "order_lookup_3ds" })).toMatchObject({ status: "requires_action" });
    const answer = await fetch(new URL(`/3ds/${result.authorizationId}`, sandbox.url), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ result: "failed" }),
    });
    expect(answer.status).toBe(200);
    expect(await provider.findAuthorization({ reference: "order_lookup_3ds" })).toMatchObject({
      status: "failed",
      failureCode: "authentication_failed",
    });
  });

  it("throws PaymentProviderUnavailableError when the lookup times out or the sandbox is down", async () => {
    await withServer(
      () => undefined,
      async (baseUrl) => {
        const slow = new SandboxPaymentProvider({ baseUrl, secretKey: SECRET, timeoutMs: 100 });
        await expect(slow.findAuthorization({ reference: "order_x" })).rejects.toThrow(/timed out after 100 ms \(GET/);
      },
    );
    await withServer(
      (_request, response) => {
        response.writeHead(502, { "Content-Type": "text/plain" }).end("bad gateway");
      },
      async (baseUrl) => {
        const failing = new SandboxPaymentProvider({ baseUrl, secretKey: SECRET });
        await expect(failing.findAuthorization({ reference: "order_x" })).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
      },
    );
  });

  it("throws a plain error when the lookup is refused", async () => {
    const wrongKey = new SandboxPaymentProvider({ baseUrl: sandbox.url, secretKey: "sk_wrong" });
    const error = await wrongKey.findAuthorization({ reference: "order_x" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PaymentProviderUnavailableError);
    expect((error as Error).message).toContain("401");
  });
});
