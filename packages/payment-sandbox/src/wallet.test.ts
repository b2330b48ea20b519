// The sandbox wallet over real HTTP: its payment method and web app manifests, the service worker, the sheet, and
// tokens for saved cards that authorise like the card field's.
import { Script } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPaymentSandbox, type PaymentSandbox } from "./sandbox-server.ts";
import { WALLET_CARDS } from "./wallet-cards.ts";

const SECRET = "sk_test_wallet_secret";
const SHOP_ORIGIN = "http://localhost:5173";

let sandbox: PaymentSandbox;

beforeAll(async () => {
  sandbox = await startPaymentSandbox({ port: 0, secretKey: SECRET, allowedParentOrigins: [SHOP_ORIGIN] });
});

afterAll(async () => {
  await sandbox.close();
});

/** Response bodies are checked field by field, so they are read loosely typed. */
async function readJson(response: Response): Promise<any> {
  return response.json();
}

function postToken(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${sandbox.url}/wallet/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function sheetUrl(params: Record<string, string>): string {
  return `${sandbox.url}/wallet/sheet?${new URLSearchParams(params)}`;
}

describe("the payment method", () => {
  it("names its payment method manifest in a Link header, for HEAD and GET", async () => {
    for (const method of ["HEAD", "GET"]) {
      const response = await fetch(`${sandbox.url}/wallet/pay`, { method });
      expect(response.status).toBe(200);
      expect(response.headers.get("link")).toBe(`<${sandbox.publicUrl}/wallet/payment-manifest.json>; rel="payment-method-manifest"`);
    }
  });

  it("lists the wallet's web app manifest as the method's only default application", async () => {
    const response = await fetch(`${sandbox.url}/wallet/payment-manifest.json`);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await readJson(response)).toEqual({ default_applications: [`${sandbox.publicUrl}/wallet/manifest.json`], supported_origins: [] });
  });

  it("describes the web app: a name, an inline PNG icon (no shop policy need allow it), and a service worker scoped to /wallet/", async () => {
    const response = await fetch(`${sandbox.url}/wallet/manifest.json`);
    expect(response.headers.get("content-type")).toMatch(/^application\/manifest\+json/);
    const manifest = await readJson(response);
    expect(manifest.name).toBe("Sandbox wallet");
    expect(manifest.serviceworker).toEqual({ src: `${sandbox.publicUrl}/wallet/sw.js`, scope: `${sandbox.publicUrl}/wallet/`, use_cache: false });
    const [icon] = manifest.icons;
    expect(icon.type).toBe("image/png");
    expect(icon.src).toMatch(/^data:image\/png;base64,/);
    const bytes = Buffer.from(icon.src.slice("data:image/png;base64,".length), "base64");
    expect([...bytes.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const served = await fetch(`${sandbox.url}/wallet/icon.png`);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it("serves a service worker that parses, handles payment requests and trusts only the allowed shops", async () => {
    const response = await fetch(`${sandbox.url}/wallet/sw.js`);
    expect(response.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(response.headers.get("service-worker-allowed")).toBe("/wallet/");
    const script = await response.text();
    expect(() => new Script(script)).not.toThrow();
    expect(script).toContain('addEventListener("paymentrequest"');
    expect(script).toContain('addEventListener("canmakepayment"');
    expect(script).toContain(JSON.stringify([SHOP_ORIGIN]));
    expect(script).toContain(`${sandbox.publicUrl}/wallet/pay`);
  });

  it("answers an unknown wallet path with a JSON 404 and a wrong method with 405 and Allow", async () => {
    const missing = await fetch(`${sandbox.url}/wallet/nothing-here`);
    expect(missing.status).toBe(404);
    expect((await readJson(missing)).error.code).toBe("route_not_found");
    const wrong = await fetch(`${sandbox.url}/wallet/payment-manifest.json`, { method: "DELETE" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
  });
});

describe("GET /wallet/sheet", () => {
  it("shows the total, every saved card by its last four digits only, Pay and Cancel, under a strict CSP", async () => {
    const response = await fetch(sheetUrl({ origin: SHOP_ORIGIN, total: "98.66", currency: "USD" }));
    expect(response.status).toBe(200);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
    const html = await response.text();
    expect(html).toContain("$98.66");
    expect(html).toContain("Pay localhost:5173");
    for (const card of WALLET_CARDS) {
      expect(html).toContain(card.label);
      expect(html).not.toContain(card.number);
    }
    expect(html).toMatch(/<button type="submit" id="pay">Pay \$98\.66<\/button>/);
    expect(html).toContain('<button type="button" id="cancel">Cancel</button>');
  });

  it("refuses a shop origin the sandbox does not trust, and a malformed total or currency", async () => {
    const cases = [
      [{ origin: "https://evil.example", total: "1.00", currency: "USD" }, "origin_not_allowed"],
      [{ total: "1.00", currency: "USD" }, "origin_not_allowed"],
      [{ origin: SHOP_ORIGIN, total: "1.00<script>", currency: "USD" }, "parameter_invalid"],
      [{ origin: SHOP_ORIGIN, total: "-5", currency: "USD" }, "parameter_invalid"],
      [{ origin: SHOP_ORIGIN, total: "1.00", currency: "usd" }, "parameter_invalid"],
    ] as const;
    for (const [params, code] of cases) {
      const response = await fetch(sheetUrl(params));
      expect(response.status, JSON.stringify(params)).toBe(400);
      expect((await readJson(response)).error.code).toBe(code);
    }
  });
});

describe("POST /wallet/tokens", () => {
  it("makes a single-use token for a saved card that the processor API authorises like a typed card", async () => {
    const response = await postToken({ card: "visa-4242", origin: SHOP_ORIGIN }, { Origin: sandbox.publicUrl });
    expect(response.status).toBe(201);
    const token = await readJson(response);
    expect(token.id).toMatch(/^tok_/);
    expect(token.card).toMatchObject({ brand: "visa", last4: "4242" });
    expect(JSON.stringify(token)).not.toContain("4242424242424242");

    const authorize = (idempotencyKey: string) =>
      fetch(`${sandbox.url}/v1/authorizations`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${SECRET}`, "Idempotency-Key": idempotencyKey },
        body: JSON.stringify({ token: token.id, amount: 9866, currency: "USD", reference: "order_wallet" }),
      });
    const first = await authorize("wallet-1");
    expect(first.status).toBe(201);
    expect((await readJson(first)).status).toBe("authorized");
    const again = await authorize("wallet-2");
    expect(again.status).toBeGreaterThanOrEqual(400);
  });

  it("gives the declining saved card a token whose authorisation is declined", async () => {
    const response = await postToken({ card: "visa-0002", origin: SHOP_ORIGIN });
    const token = await readJson(response);
    const authorization = await fetch(`${sandbox.url}/v1/authorizations`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${SECRET}`, "Idempotency-Key": "wallet-decline" },
      body: JSON.stringify({ token: token.id, amount: 500, currency: "USD", reference: "order_wallet_decline" }),
    });
    expect(authorization.status).toBe(402);
    expect((await readJson(authorization)).error).toMatchObject({ type: "card_error", code: "card_declined" });
  });

  it("refuses bad input with a typed 4xx, never a token", async () => {
    const before = sandbox.debugDump().tokens.length;
    const cases: [Parameters<typeof postToken>, number, string][] = [
      [[{ card: "visa-4242", origin: "https://evil.example" }], 400, "origin_not_allowed"],
      [[{ card: "visa-4242" }], 400, "origin_not_allowed"],
      [[{ card: "4242424242424242", origin: SHOP_ORIGIN }], 400, "parameter_invalid"],
      [[{ card: ["visa-4242"], origin: SHOP_ORIGIN }], 400, "parameter_invalid"],
      [[{ card: "__proto__", origin: SHOP_ORIGIN }], 400, "parameter_invalid"],
      [["not json"], 400, "invalid_request"],
      [["[1,2]"], 400, "invalid_request"],
      [[{ card: "visa-4242", origin: SHOP_ORIGIN, pad: "x".repeat(9000) }], 413, "body_too_large"],
      [[{ card: "visa-4242", origin: SHOP_ORIGIN }, { Origin: "https://evil.example" }], 403, "origin_not_allowed"],
      [[{ card: "visa-4242", origin: SHOP_ORIGIN }, { "Content-Type": "text/plain" }], 415, "unsupported_media_type"],
    ];
    for (const [args, status, code] of cases) {
      const response = await postToken(...args);
      expect(response.status, JSON.stringify(args).slice(0, 120)).toBe(status);
      expect((await readJson(response)).error.code).toBe(code);
    }
    expect(sandbox.debugDump().tokens.length).toBe(before);
  });

  it("answers GET with 405, as only the sheet's POST makes tokens", async () => {
    const response = await fetch(`${sandbox.url}/wallet/tokens`);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });
});
