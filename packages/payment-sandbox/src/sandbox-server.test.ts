// Integration tests for the payment sandbox over real HTTP: tokens, authorisations, idempotency, the card field.
import { Script } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPaymentSandbox, type PaymentSandbox } from "./sandbox-server.ts";
import { TEST_CARDS } from "./test-cards.ts";

const SECRET = "sk_test_sandbox_secret";
const SHOP_ORIGIN = "http://localhost:5173";
const futureYear = new Date().getUTCFullYear() + 3;

let sandbox: PaymentSandbox;
let keyCounter = 0;

beforeAll(async () => {
  sandbox = await startPaymentSandbox({ port: 0, secretKey: SECRET, allowedParentOrigins: [SHOP_ORIGIN], slowCardDelayMs: 20 });
});

afterAll(async () => {
  await sandbox.close();
});

interface TokenAnswer {
  status: number;
  body: any;
}

/** Response bodies in these tests are checked field by field, so they are read loosely typed. */
async function readJson(response: Response): Promise<any> {
  return response.json();
}

function newKey(): string {
  keyCounter += 1;
  return `test-key-${keyCounter}-${Math.random().toString(36).slice(2)}`;
}

async function postToken(target: PaymentSandbox, card: Record<string, unknown>): Promise<TokenAnswer> {
  const response = await fetch(`${target.url}/v1/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ expMonth: 12, expYear: futureYear, cvc: "123", ...card }),
  });
  return { status: response.status, body: await readJson(response) };
}

async function tokenFor(number: string, target: PaymentSandbox = sandbox): Promise<string> {
  const { status, body } = await postToken(target, { number });
  expect(status).toBe(201);
  return body.id as string;
}

interface ApiCall {
  body?: unknown;
  idempotencyKey?: string | null;
  secret?: string | null;
  target?: PaymentSandbox;
}

async function api(method: "GET" | "POST", path: string, call: ApiCall = {}) {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  const secret = call.secret === undefined ? SECRET : call.secret;
  if (secret !== null) headers.Authorization = `Bearer ${secret}`;
  const idempotencyKey = call.idempotencyKey === undefined ? newKey() : call.idempotencyKey;
  if (method === "POST" && idempotencyKey !== null) headers["Idempotency-Key"] = idempotencyKey;
  const response = await fetch(`${(call.target ?? sandbox).url}${path}`, {
    method,
    headers,
    body: method === "POST" ? JSON.stringify(call.body ?? {}) : undefined,
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text), headers: response.headers };
}

async function authorize(number: string, amount = 5000, idempotencyKey?: string) {
  const token = await tokenFor(number);
  return api("POST", "/v1/authorizations", {
    body: { token, amount, currency: "USD", reference: "order_test" },
    ...(idempotencyKey ? { idempotencyKey } : {}),
  });
}

async function authorizedId(amount = 5000): Promise<string> {
  const result = await authorize("4242424242424242", amount);
  expect(result.status).toBe(201);
  return result.body.id as string;
}

describe("startPaymentSandbox", () => {
  it("listens on the real port when asked for port 0", () => {
    expect(sandbox.port).toBeGreaterThan(0);
    expect(sandbox.url).toBe(`http://127.0.0.1:${sandbox.port}`);
  });

  it("answers the health check", async () => {
    const response = await fetch(`${sandbox.url}/health`);
    expect(response.status).toBe(200);
    expect(await readJson(response)).toEqual({ status: "ok" });
  });

  it("answers an unknown route with a JSON 404", async () => {
    const response = await fetch(`${sandbox.url}/nowhere`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect((await readJson(response)).error.code).toBe("route_not_found");
  });

  it("refuses to start with an allowed origin that is not an origin", async () => {
    await expect(startPaymentSandbox({ port: 0, secretKey: SECRET, allowedParentOrigins: ["shop"] })).rejects.toThrow(/allowedParentOrigins/);
  });

  it("keeps serving after malformed requests", async () => {
    const badJson = await fetch(`${sandbox.url}/v1/tokens`, { method: "POST", body: "{not json" });
    expect(badJson.status).toBe(400);
    expect((await readJson(badJson)).error.code).toBe("invalid_request");
    const array = await fetch(`${sandbox.url}/v1/tokens`, { method: "POST", body: "[1,2]" });
    expect(array.status).toBe(400);
    const health = await fetch(`${sandbox.url}/health`);
    expect(health.status).toBe(200);
  });

  it("answers an unexpected exception with a JSON 500 and keeps serving", async () => {
    let isClockBroken = false;
    const fragile = await startPaymentSandbox({
      port: 0,
      secretKey: SECRET,
      allowedParentOrigins: [SHOP_ORIGIN],
      now: () => {
        if (isClockBroken) throw new Error("clock failure");
        return Date.now();
      },
    });
    try {
      isClockBroken = true;
      const broken = await postToken(fragile, { number: "4242424242424242" });
      expect(broken.status).toBe(500);
      expect(broken.body.error).toMatchObject({ type: "api_error", code: "internal_error" });
      expect(JSON.stringify(broken.body)).not.toContain("clock failure");
      isClockBroken = false;
      expect((await postToken(fragile, { number: "4242424242424242" })).status).toBe(201);
    } finally {
      await fragile.close();
    }
  });
});

describe("POST /v1/tokens", () => {
  it("tokenises each documented test card and returns only brand, last four digits and expiry", async () => {
    for (const card of TEST_CARDS) {
      const { status, body } = await postToken(sandbox, { number: card.number });
      expect(status).toBe(201);
      expect(body.id).toMatch(/^tok_[0-9a-f]{24}$/);
      expect(body.card).toEqual({ brand: card.brand, last4: card.number.slice(-4), expMonth: 12, expYear: futureYear, fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect(JSON.stringify(body)).not.toContain(card.number);
    }
  });

  it("detects American Express and leaves other brands unknown", async () => {
    expect((await postToken(sandbox, { number: "378282246310005", cvc: "1234" })).body.card.brand).toBe("amex");
    expect((await postToken(sandbox, { number: "6011111111111117" })).body.card.brand).toBe("unknown");
  });

  it("gives every token of one card number the same fingerprint, and other numbers other ones", async () => {
    const first = await postToken(sandbox, { number: "4000000000000002" });
    const again = await postToken(sandbox, { number: "4000 0000 0000 0002", expMonth: 1, cvc: "999" });
    const other = await postToken(sandbox, { number: "4242424242424242" });
    expect(again.body.id).not.toBe(first.body.id);
    expect(again.body.card.fingerprint).toBe(first.body.card.fingerprint);
    expect(other.body.card.fingerprint).not.toBe(first.body.card.fingerprint);
  });

  it("fingerprints under its own key: another sandbox account sees another fingerprint for the same card", async () => {
    const elsewhere = await startPaymentSandbox({ port: 0, secretKey: "sk_test_another_account", allowedParentOrigins: [SHOP_ORIGIN] });
    try {
      const here = await postToken(sandbox, { number: "4242424242424242" });
      const there = await postToken(elsewhere, { number: "4242424242424242" });
      expect(there.body.card.fingerprint).not.toBe(here.body.card.fingerprint);
    } finally {
      await elsewhere.close();
    }
  });

  it("accepts a number typed with spaces", async () => {
    const { status, body } = await postToken(sandbox, { number: "4242 4242 4242 4242" });
    expect(status).toBe(201);
    expect(body.card.last4).toBe("4242");
  });

  it("rejects a number that fails the Luhn check or has the wrong length", async () => {
    for (const number of ["4242424242424241", "424242424242", "42424242424242424242"]) {
      const { status, body } = await postToken(sandbox, { number });
      expect(status).toBe(400);
      expect(body.error.code).toBe("invalid_number");
    }
  });

  it("rejects an expired or impossible expiry date", async () => {
    const lastYear = new Date().getUTCFullYear() - 1;
    const expired = await postToken(sandbox, { number: "4242424242424242", expYear: lastYear });
    expect(expired.status).toBe(400);
    expect(expired.body.error).toMatchObject({ code: "invalid_expiry", message: "Your card has expired." });
    const badMonth = await postToken(sandbox, { number: "4242424242424242", expMonth: 13 });
    expect(badMonth.body.error.code).toBe("invalid_expiry");
  });

  it("rejects a CVC that is not three or four digits", async () => {
    for (const cvc of ["12", "12345", "12a"]) {
      const { status, body } = await postToken(sandbox, { number: "4242424242424242", cvc });
      expect(status).toBe(400);
      expect(body.error.code).toBe("invalid_cvc");
    }
  });

  it("calls a body with missing fields an invalid request", async () => {
    const body = JSON.stringify({ number: "4242424242424242" });
    const response = await fetch(`${sandbox.url}/v1/tokens`, { method: "POST", body });
    expect(response.status).toBe(400);
    expect((await readJson(response)).error.code).toBe("invalid_request");
  });

  it("refuses a body over 8 KB with 413", async () => {
    const response = await fetch(`${sandbox.url}/v1/tokens`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ number: "4242424242424242", padding: "x".repeat(9000) }),
    });
    expect(response.status).toBe(413);
  });

  it("marks its answers as not to be cached or sniffed", async () => {
    const response = await fetch(`${sandbox.url}/v1/tokens`, {
      method: "POST",
      body: JSON.stringify({ number: "4242424242424242", expMonth: 1, expYear: futureYear, cvc: "123" }),
    });
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("POST /v1/authorizations", () => {
  it("authorises a succeeding card", async () => {
    const { status, body } = await authorize("4242424242424242", 1999);
    expect(status).toBe(201);
    expect(body).toEqual({
      id: expect.stringMatching(/^auth_/),
      status: "authorized",
      amount: 1999,
      currency: "USD",
      card: { brand: "visa", last4: "4242", fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
    expect((await authorize("5555555555554444")).body.card).toEqual({ brand: "mastercard", last4: "4444", fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it("declines the declining test card with 402", async () => {
    const { status, body } = await authorize("4000000000000002");
    expect(status).toBe(402);
    expect(body).toEqual({
      error: {
        type: "card_error",
        code: "card_declined",
        message: "Your card was declined.",
        card: { brand: "visa", last4: "0002", fingerprint: (await postToken(sandbox, { number: "4000000000000002" })).body.card.fingerprint },
      },
    });
  });

  it("declines the insufficient-funds test card with 402", async () => {
    const { status, body } = await authorize("4000000000009995");
    expect(status).toBe(402);
    expect(body.error).toMatchObject({
      type: "card_error",
      code: "insufficient_funds",
      message: "Your card has insufficient funds.",
    });
  });

  it("approves any other Luhn-valid number", async () => {
    expect((await authorize("4000056655665556")).status).toBe(201);
  });

  it("accepts a token only once", async () => {
    const token = await tokenFor("4242424242424242");
    const body = { token, amount: 100, currency: "EUR", reference: "order_once" };
    expect((await api("POST", "/v1/authorizations", { body })).status).toBe(201);
    const second = await api("POST", "/v1/authorizations", { body });
    expect(second.status).toBe(400);
    expect(second.body.error).toMatchObject({ type: "invalid_request_error", code: "token_invalid" });
  });

  it("spends a token on a decline too", async () => {
    const token = await tokenFor("4000000000000002");
    const body = { token, amount: 100, currency: "USD", reference: "order_declined" };
    expect((await api("POST", "/v1/authorizations", { body })).status).toBe(402);
    expect((await api("POST", "/v1/authorizations", { body })).body.error.code).toBe("token_invalid");
  });

  it("rejects an unknown token", async () => {
    const { status, body } = await api("POST", "/v1/authorizations", {
      body: { token: "tok_doesnotexist", amount: 100, currency: "USD", reference: "order_x" },
    });
    expect(status).toBe(400);
    expect(body.error.code).toBe("token_invalid");
  });

  it("rejects a token older than 30 minutes", async () => {
    let now = Date.now();
    const clocked = await startPaymentSandbox({
      port: 0,
      secretKey: SECRET,
      allowedParentOrigins: [SHOP_ORIGIN],
      now: () => now,
    });
    try {
      const fresh = await tokenFor("4242424242424242", clocked);
      const stale = await tokenFor("4242424242424242", clocked);
      now += 29 * 60 * 1000;
      const body = { token: fresh, amount: 100, currency: "USD", reference: "order_clock" };
      expect((await api("POST", "/v1/authorizations", { body, target: clocked })).status).toBe(201);
      now += 2 * 60 * 1000;
      const expired = await api("POST", "/v1/authorizations", { body: { ...body, token: stale }, target: clocked });
      expect(expired.status).toBe(400);
      expect(expired.body.error.code).toBe("token_invalid");
    } finally {
      await clocked.close();
    }
  });

  it("rejects an amount that is not a positive integer and a currency it does not support", async () => {
    for (const amount of [0, -5, 10.5, "100", Number.MAX_SAFE_INTEGER + 1]) {
      const token = await tokenFor("4242424242424242");
      const { status, body } = await api("POST", "/v1/authorizations", {
        body: { token, amount, currency: "USD", reference: "order_amount" },
      });
      expect(status).toBe(400);
      expect(body.error.param).toBe("amount");
    }
    const token = await tokenFor("4242424242424242");
    const { status, body } = await api("POST", "/v1/authorizations", {
      body: { token, amount: 100, currency: "GBP", reference: "order_currency" },
    });
    expect(status).toBe(400);
    expect(body.error.param).toBe("currency");
    const retried = await api("POST", "/v1/authorizations", {
      body: { token, amount: 100, currency: "USD", reference: "order_currency" },
    });
    expect(retried.status).toBe(201);
  });

  it("requires the secret key", async () => {
    const body = { token: "tok_x", amount: 100, currency: "USD", reference: "order_auth" };
    const missing = await api("POST", "/v1/authorizations", { body, secret: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error.type).toBe("authentication_error");
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");
    expect((await api("POST", "/v1/authorizations", { body, secret: "sk_wrong" })).status).toBe(401);
    expect((await api("GET", "/v1/authorizations/auth_x", { secret: null })).status).toBe(401);
  });

  it("requires an Idempotency-Key header", async () => {
    const token = await tokenFor("4242424242424242");
    const { status, body } = await api("POST", "/v1/authorizations", {
      body: { token, amount: 100, currency: "USD", reference: "order_nokey" },
      idempotencyKey: null,
    });
    expect(status).toBe(400);
    expect(body.error.code).toBe("idempotency_key_missing");
  });

  it("replays the stored answer byte for byte for the same key and body without authorising twice", async () => {
    const token = await tokenFor("4242424242424242");
    const idempotencyKey = newKey();
    const body = { token, amount: 2500, currency: "USD", reference: "order_replay" };
    const first = await api("POST", "/v1/authorizations", { body, idempotencyKey });
    const authorizationsBefore = sandbox.debugDump().authorizations.length;
    const replay = await api("POST", "/v1/authorizations", {
      body: { reference: "order_replay", currency: "USD", amount: 2500, token },
      idempotencyKey,
    });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(replay.status).toBe(201);
    expect(replay.text).toBe(first.text);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(sandbox.debugDump().authorizations.length).toBe(authorizationsBefore);
  });

  it("replays a decline rather than reporting the spent token", async () => {
    const idempotencyKey = newKey();
    const token = await tokenFor("4000000000009995");
    const body = { token, amount: 100, currency: "USD", reference: "order_decline_replay" };
    const first = await api("POST", "/v1/authorizations", { body, idempotencyKey });
    const replay = await api("POST", "/v1/authorizations", { body, idempotencyKey });
    expect(first.status).toBe(402);
    expect(replay.status).toBe(402);
    expect(replay.text).toBe(first.text);
  });

  it("authorises once when two requests with one key arrive together", async () => {
    const token = await tokenFor("4242424242424242");
    const idempotencyKey = newKey();
    const body = { token, amount: 800, currency: "USD", reference: "order_concurrent" };
    const [first, second] = await Promise.all([api("POST", "/v1/authorizations", { body, idempotencyKey }), api("POST", "/v1/authorizations", { body, idempotencyKey })]);
    expect(first.status).toBe(201);
    expect(second.text).toBe(first.text);
    const replayed = [first, second].filter((result) => result.headers.get("idempotent-replayed") === "true");
    expect(replayed).toHaveLength(1);
    const matching = sandbox.debugDump().authorizations.filter((entry) => entry.reference === "order_concurrent");
    expect(matching).toHaveLength(1);
  });

  it("refuses a key reused with a different body with 422", async () => {
    const token = await tokenFor("4242424242424242");
    const idempotencyKey = newKey();
    const body = { token, amount: 2500, currency: "USD", reference: "order_reuse" };
    expect((await api("POST", "/v1/authorizations", { body, idempotencyKey })).status).toBe(201);
    const reused = await api("POST", "/v1/authorizations", { body: { ...body, amount: 2600 }, idempotencyKey });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe("idempotency_key_reused");
  });

  it("scopes idempotency keys to the endpoint path", async () => {
    const idempotencyKey = newKey();
    const token = await tokenFor("4242424242424242");
    const created = await api("POST", "/v1/authorizations", {
      body: { token, amount: 700, currency: "USD", reference: "order_scope" },
      idempotencyKey,
    });
    const captured = await api("POST", `/v1/authorizations/${created.body.id}/capture`, { idempotencyKey });
    expect(captured.status).toBe(200);
    expect(captured.headers.get("idempotent-replayed")).toBeNull();
  });
});

describe("POST /v1/authorizations/:id/capture", () => {
  it("captures the full authorised amount by default", async () => {
    const id = await authorizedId(4200);
    const { status, body } = await api("POST", `/v1/authorizations/${id}/capture`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: expect.stringMatching(/^cap_/), status: "captured", amount: 4200 });
  });

  it("captures less than the authorised amount but never more", async () => {
    const id = await authorizedId(4200);
    const tooMuch = await api("POST", `/v1/authorizations/${id}/capture`, { body: { amount: 4201 } });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error.code).toBe("amount_too_large");
    const partial = await api("POST", `/v1/authorizations/${id}/capture`, { body: { amount: 4000 } });
    expect(partial.status).toBe(200);
    expect(partial.body.amount).toBe(4000);
  });

  it("refuses to capture twice or after a void", async () => {
    const captured = await authorizedId();
    expect((await api("POST", `/v1/authorizations/${captured}/capture`)).status).toBe(200);
    const again = await api("POST", `/v1/authorizations/${captured}/capture`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("authorization_already_captured");
    const voided = await authorizedId();
    expect((await api("POST", `/v1/authorizations/${voided}/void`)).status).toBe(200);
    expect((await api("POST", `/v1/authorizations/${voided}/capture`)).status).toBe(409);
  });

  it("answers 404 for an unknown authorisation", async () => {
    const { status, body } = await api("POST", "/v1/authorizations/auth_missing/capture");
    expect(status).toBe(404);
    expect(body.error.code).toBe("resource_missing");
  });
});

describe("POST /v1/authorizations/:id/void", () => {
  it("voids an authorisation that was not captured", async () => {
    const id = await authorizedId();
    const { status, body } = await api("POST", `/v1/authorizations/${id}/void`);
    expect(status).toBe(200);
    expect(body.status).toBe("voided");
  });

  it("refuses to void a captured authorisation with 409", async () => {
    const id = await authorizedId();
    await api("POST", `/v1/authorizations/${id}/capture`);
    const { status, body } = await api("POST", `/v1/authorizations/${id}/void`);
    expect(status).toBe(409);
    expect(body.error.code).toBe("authorization_already_captured");
  });

  it("replays a void retried with the same key", async () => {
    const id = await authorizedId();
    const idempotencyKey = newKey();
    const first = await api("POST", `/v1/authorizations/${id}/void`, { idempotencyKey });
    const replay = await api("POST", `/v1/authorizations/${id}/void`, { idempotencyKey });
    expect(replay.status).toBe(200);
    expect(replay.text).toBe(first.text);
    expect((await api("POST", `/v1/authorizations/${id}/void`)).status).toBe(409);
  });
});

describe("POST /v1/refunds", () => {
  it("refunds in parts but never more than was captured", async () => {
    const id = await authorizedId(5000);
    await api("POST", `/v1/authorizations/${id}/capture`, { body: { amount: 3000 } });
    const first = await api("POST", "/v1/refunds", { body: { authorization: id, amount: 2000 } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ id: expect.stringMatching(/^re_/), amount: 2000 });
    const tooMuch = await api("POST", "/v1/refunds", { body: { authorization: id, amount: 1001 } });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error.code).toBe("amount_too_large");
    expect((await api("POST", "/v1/refunds", { body: { authorization: id, amount: 1000 } })).status).toBe(201);
    expect((await api("POST", "/v1/refunds", { body: { authorization: id, amount: 1 } })).status).toBe(400);
  });

  it("refuses to refund an authorisation that was never captured", async () => {
    const id = await authorizedId();
    const { status, body } = await api("POST", "/v1/refunds", { body: { authorization: id, amount: 100 } });
    expect(status).toBe(400);
    expect(body.error.code).toBe("authorization_not_captured");
  });

  it("does not refund twice when a refund is retried with the same key", async () => {
    const id = await authorizedId(1000);
    await api("POST", `/v1/authorizations/${id}/capture`);
    const idempotencyKey = newKey();
    const first = await api("POST", "/v1/refunds", { body: { authorization: id, amount: 600 }, idempotencyKey });
    const replay = await api("POST", "/v1/refunds", { body: { authorization: id, amount: 600 }, idempotencyKey });
    expect(replay.text).toBe(first.text);
    expect((await api("GET", `/v1/authorizations/${id}`)).body.refundedAmount).toBe(600);
  });
});

describe("GET /v1/authorizations/:id", () => {
  it("reports the status and the captured and refunded amounts", async () => {
    const id = await authorizedId(5000);
    expect((await api("GET", `/v1/authorizations/${id}`)).body).toMatchObject({
      id,
      status: "authorized",
      amount: 5000,
      capturedAmount: 0,
      refundedAmount: 0,
    });
    await api("POST", `/v1/authorizations/${id}/capture`, { body: { amount: 4500 } });
    await api("POST", "/v1/refunds", { body: { authorization: id, amount: 500 } });
    expect((await api("GET", `/v1/authorizations/${id}`)).body).toMatchObject({
      status: "captured",
      capturedAmount: 4500,
      refundedAmount: 500,
      card: { brand: "visa", last4: "4242" },
    });
  });

  it("answers 404 for an unknown authorisation", async () => {
    expect((await api("GET", "/v1/authorizations/auth_nope")).status).toBe(404);
  });
});

describe("GET /field", () => {
  async function fetchField(origin: string | null) {
    const query = origin === null ? "" : `?origin=${encodeURIComponent(origin)}`;
    return fetch(`${sandbox.url}/field${query}`);
  }

  it("refuses to render for an origin that is not allowed", async () => {
    for (const origin of ["https://evil.example", null, `${SHOP_ORIGIN}/`]) {
      const response = await fetchField(origin);
      expect(response.status).toBe(400);
      expect(response.headers.get("content-security-policy")).toBeNull();
    }
  });

  it("limits who may frame it and what it may load with a nonce-based policy", async () => {
    const response = await fetchField(SHOP_ORIGIN);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const policy = response.headers.get("content-security-policy") ?? "";
    const directives = new Map(policy.split(/;\s*/).map((part) => [part.split(" ")[0], part.split(" ").slice(1)]));
    expect(directives.get("frame-ancestors")).toEqual([SHOP_ORIGIN]);
    expect(directives.get("default-src")).toEqual(["'none'"]);
    const nonce = /'nonce-([^']+)'/.exec(directives.get("script-src")?.join(" ") ?? "")?.[1];
    expect(nonce).toBeTruthy();
    expect(directives.get("style-src")).toEqual([`'nonce-${nonce}'`]);

    const html = await response.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html).not.toMatch(/<(script|link|img)[^>]+src=/);
    expect(html).not.toMatch(/\sstyle="/);
  });

  it("uses a fresh nonce for every response", async () => {
    const first = (await fetchField(SHOP_ORIGIN)).headers.get("content-security-policy");
    const second = (await fetchField(SHOP_ORIGIN)).headers.get("content-security-policy");
    expect(first).not.toBe(second);
  });

  it("labels the card inputs and asks browsers to autofill them", async () => {
    const html = await (await fetchField(SHOP_ORIGIN)).text();
    for (const [id, label, autocomplete] of [
      ["card-number", "Card number", "cc-number"],
      ["card-expiry", "Expiry (MM/YY)", "cc-exp"],
      ["card-cvc", "CVC", "cc-csc"],
    ]) {
      expect(html).toContain(`<label for="${id}">${label}</label>`);
      expect(html).toMatch(new RegExp(`<input id="${id}"[^>]*inputmode="numeric"[^>]*autocomplete="${autocomplete}"`));
    }
    expect(html).toMatch(/aria-live="polite"/);
  });

  it("serves a script that parses and posts only to the parent origin it was given", async () => {
    const html = await (await fetchField(SHOP_ORIGIN)).text();
    const script = /<script nonce="[^"]+">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
    expect(() => new Script(script)).not.toThrow();
    expect(script).toContain("postMessage(data, parentOrigin)");
    expect(script).toContain("event.origin !== parentOrigin");
    expect(html).toContain(JSON.stringify({ parentOrigin: SHOP_ORIGIN }));
  });
});

describe("GET /v1/tokens/:id", () => {
  it("shows the merchant a token's card summary and fingerprint, and whether it was used", async () => {
    const { body: token } = await postToken(sandbox, { number: "4000000000000002" });
    const before = await api("GET", `/v1/tokens/${token.id}`);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ id: token.id, card: { brand: "visa", last4: "0002", fingerprint: token.card.fingerprint }, used: false });
    expect(before.text).not.toContain("4000000000000002");
    await api("POST", "/v1/authorizations", { body: { token: token.id, amount: 100, currency: "USD", reference: "order_lookup" } });
    expect((await api("GET", `/v1/tokens/${token.id}`)).body).toMatchObject({ used: true });
  });

  it("needs the secret key and answers 404 for an unknown token", async () => {
    const { body: token } = await postToken(sandbox, { number: "4242424242424242" });
    expect((await api("GET", `/v1/tokens/${token.id}`, { secret: null })).status).toBe(401);
    expect((await api("GET", "/v1/tokens/tok_nope")).status).toBe(404);
  });
});

describe("debugDump", () => {
  it("never holds a full card number or CVC, only brand, last four digits and expiry", async () => {
    const cvc = "7391";
    for (const card of TEST_CARDS) {
      const { body } = await postToken(sandbox, { number: card.number, cvc });
      await api("POST", "/v1/authorizations", {
        body: { token: body.id, amount: 100, currency: "USD", reference: "order_dump" },
      });
    }
    const state = sandbox.debugDump();
    const serialized = JSON.stringify(state);
    for (const card of TEST_CARDS) expect(serialized).not.toContain(card.number);
    expect(serialized).not.toMatch(/"(number|cvc)"/);
    for (const token of state.tokens) {
      expect(Object.keys(token).sort()).toEqual(["behaviour", "card", "createdAt", "expiresAt", "id", "usedAt"]);
      expect(Object.keys(token.card).sort()).toEqual(["brand", "expMonth", "expYear", "fingerprint", "last4"]);
    }
    expect(state.tokens.length).toBeGreaterThan(0);
    expect(state.authorizations.length).toBeGreaterThan(0);
    expect(state.idempotency.length).toBeGreaterThan(0);
  });
});
