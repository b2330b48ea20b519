// Integration tests for the sandbox's real-world card states over HTTP: 3-D Secure challenges, the slow card, lookup by reference.
import { Script } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPaymentSandbox, type PaymentSandbox } from "./sandbox-server.ts";

const SECRET = "sk_test_three_d_secure";
const SHOP_ORIGIN = "http://localhost:5173";
const THREE_D_SECURE_CARD = "4000002760003184";
const SLOW_CARD = "4000000000000259";
const SLOW_CARD_DELAY_MS = 400;

let sandbox: PaymentSandbox;
let counter = 0;

beforeAll(async () => {
  sandbox = await startPaymentSandbox({
    port: 0,
    secretKey: SECRET,
    allowedParentOrigins: [SHOP_ORIGIN],
    slowCardDelayMs: SLOW_CARD_DELAY_MS,
    publicUrl: (listeningUrl) => listeningUrl.replace("127.0.0.1", "localhost"),
  });
});

afterAll(async () => {
  await sandbox.close();
});

/** Response bodies in these tests are checked field by field, so they are read loosely typed. */
async function readJson(response: Response): Promise<any> {
  return response.json();
}

function uniqueReference(): string {
  counter += 1;
  return `order_3ds_${counter}_${Math.random().toString(36).slice(2)}`;
}

async function tokenFor(number: string): Promise<string> {
  const response = await fetch(`${sandbox.url}/v1/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ number, expMonth: 12, expYear: new Date().getUTCFullYear() + 2, cvc: "123" }),
  });
  return (await readJson(response)).id as string;
}

async function authorize(number: string, options: { reference?: string; idempotencyKey?: string; signal?: AbortSignal } = {}) {
  const response = await fetch(`${sandbox.url}/v1/authorizations`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${SECRET}`,
      "Content-Type": "application/json",
      "Idempotency-Key": options.idempotencyKey ?? `key_${uniqueReference()}`,
    },
    body: JSON.stringify({ token: await tokenFor(number), amount: 2500, currency: "USD", reference: options.reference ?? uniqueReference() }),
    signal: options.signal,
  });
  return { status: response.status, body: await readJson(response) };
}

function answerChallenge(id: string, body: unknown, contentType = "application/json") {
  return fetch(`${sandbox.url}/3ds/${id}`, { method: "POST", headers: { "Content-Type": contentType }, body: JSON.stringify(body) });
}

async function lookUp(reference: string | null, secret = SECRET) {
  const query = reference === null ? "" : `?reference=${encodeURIComponent(reference)}`;
  const response = await fetch(`${sandbox.url}/v1/authorizations${query}`, { headers: { Authorization: `Bearer ${secret}` } });
  return { status: response.status, body: await readJson(response) };
}

describe("POST /v1/authorizations with the 3-D Secure card", () => {
  it("answers 201 requires_action with a three_d_secure next action on the sandbox's public origin", async () => {
    const { status, body } = await authorize(THREE_D_SECURE_CARD);
    expect(status).toBe(201);
    expect(body).toMatchObject({ status: "requires_action", amount: 2500, currency: "USD", card: { brand: "visa", last4: "3184" } });
    expect(body.id).toMatch(/^auth_[0-9a-f]{24}$/);
    expect(body.next_action).toEqual({ type: "three_d_secure", url: `${sandbox.publicUrl}/3ds/${body.id}` });
    expect(sandbox.publicUrl).toBe(sandbox.url.replace("127.0.0.1", "localhost"));
  });

  it("refuses to capture an authorisation still waiting for its challenge", async () => {
    const { body } = await authorize(THREE_D_SECURE_CARD);
    const response = await fetch(`${sandbox.url}/v1/authorizations/${body.id}/capture`, {
      method: "POST",
      headers: { Authorization: `Bearer ${SECRET}`, "Content-Type": "application/json", "Idempotency-Key": `cap_${body.id}` },
      body: "{}",
    });
    expect(response.status).toBe(409);
    expect((await readJson(response)).error.code).toBe("authorization_requires_action");
  });
});

describe("POST /v1/authorizations with the slow card", () => {
  it("creates the authorisation at once but answers only after the slow-card delay", async () => {
    const reference = uniqueReference();
    const started = Date.now();
    const { status, body } = await authorize(SLOW_CARD, { reference });
    expect(Date.now() - started).toBeGreaterThanOrEqual(SLOW_CARD_DELAY_MS - 20);
    expect(status).toBe(201);
    expect(body).toMatchObject({ status: "authorized", card: { last4: "0259" } });
  });

  it("keeps the authorisation when the caller gives up, and replays the key at once", async () => {
    const reference = uniqueReference();
    const idempotencyKey = `key_${reference}`;
    const token = await tokenFor(SLOW_CARD);
    const send = (signal?: AbortSignal) =>
      fetch(`${sandbox.url}/v1/authorizations`, {
        method: "POST",
        headers: { Authorization: `Bearer ${SECRET}`, "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
        body: JSON.stringify({ token, amount: 2500, currency: "USD", reference }),
        signal,
      });
    await expect(send(AbortSignal.timeout(50))).rejects.toThrow();
    const found = await lookUp(reference);
    expect(found).toMatchObject({ status: 200, body: { status: "authorized", reference } });

    const started = Date.now();
    const replay = await send();
    expect(Date.now() - started).toBeLessThan(SLOW_CARD_DELAY_MS);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await readJson(replay)).id).toBe(found.body.id);
    expect(sandbox.debugDump().authorizations.filter((entry) => entry.reference === reference)).toHaveLength(1);
  });
});

describe("GET /v1/authorizations?reference=", () => {
  it("returns the latest authorisation made for the reference", async () => {
    const reference = uniqueReference();
    await authorize("4242424242424242", { reference });
    const { body: latest } = await authorize(THREE_D_SECURE_CARD, { reference });
    const { status, body } = await lookUp(reference);
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: latest.id, status: "requires_action", reference, failureCode: null });
    expect(body.next_action.url).toBe(latest.next_action.url);
  });

  it("answers 404 resource_missing for a reference it never saw", async () => {
    const { status, body } = await lookUp("order_unknown_reference");
    expect(status).toBe(404);
    expect(body.error.code).toBe("resource_missing");
  });

  it("requires the reference and the secret key", async () => {
    expect((await lookUp(null)).body.error.code).toBe("parameter_missing");
    expect((await lookUp("order_x", "sk_wrong")).status).toBe(401);
  });
});

describe("GET /3ds/:id", () => {
  it("refuses to render for an origin that is not allowed", async () => {
    const { body } = await authorize(THREE_D_SECURE_CARD);
    for (const query of ["", "?origin=https%3A%2F%2Fevil.example"]) {
      const response = await fetch(`${sandbox.url}/3ds/${body.id}${query}`);
      expect(response.status).toBe(400);
      expect((await readJson(response)).error.code).toBe("origin_not_allowed");
    }
  });

  it("answers 404 for an unknown challenge", async () => {
    const response = await fetch(`${sandbox.url}/3ds/auth_000000000000000000000000?origin=${encodeURIComponent(SHOP_ORIGIN)}`);
    expect(response.status).toBe(404);
  });

  it("serves the challenge with both answers, framable only by the parent origin", async () => {
    const { body } = await authorize(THREE_D_SECURE_CARD);
    const response = await fetch(`${body.next_action.url}?origin=${encodeURIComponent(SHOP_ORIGIN)}`.replace("localhost", "127.0.0.1"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const policy = response.headers.get("content-security-policy") ?? "";
    const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
    expect(policy).toContain(`frame-ancestors ${SHOP_ORIGIN}`);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html).toContain(">Complete authentication</button>");
    expect(html).toContain(">Fail authentication</button>");
    expect(html).toContain("25.00 USD");
    expect(html).toContain(`<script nonce="${nonce}">`);
    const script = /<script nonce="[^"]+">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
    expect(() => new Script(script)).not.toThrow();
    expect(script).toContain('type: "sandbox:3ds-complete"');
    expect(script).toContain("parentOrigin);");
    expect(script).not.toContain('"*"');
  });
});

describe("POST /3ds/:id", () => {
  it("authorises on a completed challenge, and the first answer stands", async () => {
    const { body } = await authorize(THREE_D_SECURE_CARD);
    const completed = await answerChallenge(body.id, { result: "authenticated" });
    expect(completed.status).toBe(200);
    expect(await readJson(completed)).toMatchObject({ id: body.id, status: "authorized", next_action: null });
    const again = await answerChallenge(body.id, { result: "failed" });
    expect((await readJson(again)).status).toBe("authorized");
    expect(sandbox.debugDump().authorizations.find((entry) => entry.id === body.id)?.status).toBe("authorized");
  });

  it("fails the authorisation with authentication_failed on a failed challenge", async () => {
    const { body } = await authorize(THREE_D_SECURE_CARD);
    const failed = await answerChallenge(body.id, { result: "failed" });
    expect(await readJson(failed)).toMatchObject({ status: "failed", failureCode: "authentication_failed" });
  });

  it("accepts only a JSON answer naming a known result", async () => {
    const { body } = await authorize(THREE_D_SECURE_CARD);
    expect((await answerChallenge(body.id, { result: "authenticated" }, "text/plain")).status).toBe(415);
    expect((await answerChallenge(body.id, { result: "maybe" })).status).toBe(400);
    expect((await answerChallenge("auth_000000000000000000000000", { result: "failed" })).status).toBe(404);
    expect(sandbox.debugDump().authorizations.find((entry) => entry.id === body.id)?.status).toBe("requires_action");
  });
});
