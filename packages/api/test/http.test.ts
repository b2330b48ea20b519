// The plain HTTP endpoints beside tRPC: liveness, readiness, metrics, request ids and the web app.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync } from "node:zlib";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentSecurityPolicy } from "../../../stacks/web-security-headers.ts";
import { createAppServer } from "../src/http/server.ts";
import { createReadinessProbe } from "../src/http/readiness.ts";
import { createLogger } from "../src/logger.ts";
import { loadEnv } from "../src/env.ts";
import { edgeLimitsOf } from "../src/jobs/policies.ts";
import { createDb } from "@checkout/core";
import type { AddressInfo } from "node:net";
import { startTestApp, type TestApp } from "./support/app.ts";
import { waitUntil } from "./support/wait.ts";

let t: TestApp;
let webRoot: string;
const BIG_SCRIPT = Array.from({ length: 200 }, (_, at) => `export const line${at} = "the shop's script, line ${at}";`).join("\n");
const BUILT_BROTLI = brotliCompressSync(BIG_SCRIPT, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });

/** A GET with exactly these headers (fetch adds its own Accept-Encoding and decompresses), and the bytes as sent. */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}
beforeAll(async () => {
  webRoot = mkdtempSync(path.join(os.tmpdir(), "checkout-web-"));
  mkdirSync(path.join(webRoot, "assets"));
  writeFileSync(
    path.join(webRoot, "index.html"),
    `<!doctype html><meta name="checkout:payment-sandbox-url" content="http://localhost:3001"><div id="root"></div><!-- ${"prerendered shop ".repeat(80)} -->`,
  );
  writeFileSync(path.join(webRoot, "assets", "app-abc123.js"), "console.log('app')");
  // A build's larger script, its precompressed brotli copy (at a low quality, so it differs from what the server would
  // make itself), and its source map.
  writeFileSync(path.join(webRoot, "assets", "shop-def456.js"), BIG_SCRIPT);
  writeFileSync(path.join(webRoot, "assets", "shop-def456.js.br"), BUILT_BROTLI);
  writeFileSync(path.join(webRoot, "assets", "shop-def456.js.map"), '{"version":3,"sources":["secret.ts"]}');
  t = await startTestApp({ WEB_DIST: webRoot, PAYMENT_PROVIDER_PUBLIC_URL: "https://pay.example.test" });
});
afterAll(async () => {
  await t?.close();
});

/** An app server of its own on a free port, with the test app's services, a silent log and `options` on top. */
async function startServer(options: Partial<Parameters<typeof createAppServer>[0]>): Promise<{ url: string; close(): void }> {
  const { server } = createAppServer({
    services: t.app.services,
    log: createLogger({ level: "silent" }),
    webRoot: "/nonexistent",
    paymentFieldUrl: "http://localhost:3001",
    keepAliveTimeoutMs: 5000,
    // The limits a test run starts with (its loopback clients exempt from the per-client caps).
    edge: edgeLimitsOf(loadEnv({ NODE_ENV: "test" })),
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe("GET /health", () => {
  it("answers 200 {status: ok}", async () => {
    const response = await fetch(`${t.app.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});

describe("GET /ready", () => {
  it("answers 200 when the database answers", async () => {
    const response = await fetch(`${t.app.url}/ready`);
    expect(response.status).toBe(200);
  });

  it("answers 503 when the database does not", async () => {
    const deadDb = createDb({ connectionString: "postgres://nobody@127.0.0.1:1/none" });
    const server = await startServer({ services: { ...t.app.services, db: deadDb, readDb: deadDb, log: createLogger({ level: "silent" }) } });
    try {
      const response = await fetch(`${server.url}/ready`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: "unavailable", reason: "database" });
    } finally {
      server.close();
      await deadDb.destroy();
    }
  });

  it("answers a flood from its cache, on its own connection: a few database checks for hundreds of calls", async () => {
    const readiness = createReadinessProbe({ db: t.app.services.db, cacheMs: 60_000 });
    const server = await startServer({
      readiness,
    });
    try {
      const url = `${server.url}/ready`;
      const statuses = await Promise.all(Array.from({ length: 300 }, async () => (await fetch(url)).status));
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect(readiness.checksRun).toBe(1);
    } finally {
      server.close();
    }
  });
});

describe("who may read /metrics", () => {
  async function serve(metricsAccess: { token?: string; allowLoopback: boolean }) {
    const server = await startServer({ metricsAccess });
    return { url: `${server.url}/metrics`, close: server.close };
  }

  it("with METRICS_TOKEN, only its bearer, even from loopback", async () => {
    const token = "m".repeat(40);
    const metrics = await serve({ token, allowLoopback: true });
    try {
      expect((await fetch(metrics.url)).status).toBe(404);
      expect((await fetch(metrics.url, { headers: { authorization: `Bearer ${"x".repeat(40)}` } })).status).toBe(404);
      const allowed = await fetch(metrics.url, { headers: { authorization: `Bearer ${token}` } });
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain("http_requests_total");
    } finally {
      metrics.close();
    }
  });

  it("without a token, nobody where loopback is not allowed (production)", async () => {
    const metrics = await serve({ allowLoopback: false });
    try {
      expect((await fetch(metrics.url)).status).toBe(404);
    } finally {
      metrics.close();
    }
  });
});

describe("GET /metrics", () => {
  it("reports request counts, duration histograms and errors by procedure in Prometheus text", async () => {
    await t.client.catalog.list.query();
    await fetch(`${t.app.url}/trpc/cart.get`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ cartId: "nope" }) });
    const response = await fetch(`${t.app.url}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/http_requests_total\{route="catalog.list",method="POST",status="200"\} [1-9]/);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{route="catalog.list",le="\+Inf"\} [1-9]/);
    expect(text).toMatch(/http_request_errors_total\{route="cart.get",class="4xx"\} [1-9]/);
  });

  it("never turns a made-up path into a metric label", async () => {
    await fetch(`${t.app.url}/trpc/${"a".repeat(50)}`);
    const text = await (await fetch(`${t.app.url}/metrics`)).text();
    expect(text).not.toContain("a".repeat(50));
    expect(text).toContain('route="trpc:unknown"');
  });
});

describe("request ids and logs", () => {
  it("echoes a well-formed x-request-id and logs JSON lines carrying it", async () => {
    const response = await fetch(`${t.app.url}/trpc/catalog.list`, { headers: { "x-request-id": "req-test-123" } });
    expect(response.headers.get("x-request-id")).toBe("req-test-123");
    const line = await waitUntil("the request's log line", () => t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === "req-test-123"));
    expect(line).toMatchObject({ level: "info", route: "catalog.list", status: 200 });
  });

  it("replaces a malformed request id with its own", async () => {
    const response = await fetch(`${t.app.url}/health`, { headers: { "x-request-id": "bad id with spaces" } });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("the web app", () => {
  it("serves index.html for client routes, with a CSP that only frames the payment provider", async () => {
    const response = await fetch(`${t.app.url}/orders/123`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('content="https://pay.example.test"');
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-src https://pay.example.test");
    expect(csp).toContain("script-src 'self'");
    // The policy CloudFront adds in production, word for word: what the browser tests pass under is what ships.
    expect(csp).toBe(contentSecurityPolicy({ paymentFieldUrl: "https://pay.example.test" }));
  });

  it("serves hashed assets as immutable and answers 404 for missing files", async () => {
    const asset = await fetch(`${t.app.url}/assets/app-abc123.js`);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(`${t.app.url}/assets/missing.js`)).status).toBe(404);
  });

  it("sends the build's precompressed copy to a browser that accepts brotli, gzip made once to one that accepts only gzip, and the file to anyone else", async () => {
    const url = `${t.app.url}/assets/shop-def456.js`;
    const br = await rawGet(url, { "accept-encoding": "gzip, deflate, br" });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers.vary).toBe("accept-encoding");
    expect(br.body.equals(BUILT_BROTLI)).toBe(true);
    expect(Number(br.headers["content-length"])).toBe(BUILT_BROTLI.length);

    const gzip = await rawGet(url, { "accept-encoding": "gzip" });
    expect(gzip.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gzip.body).toString()).toBe(BIG_SCRIPT);

    const plain = await rawGet(url, { "accept-encoding": "br;q=0, identity" });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.toString()).toBe(BIG_SCRIPT);
    expect(brotliDecompressSync(br.body).toString()).toBe(BIG_SCRIPT);

    // Each representation has its own validator, and a revalidation is answered for the one the browser holds.
    const etags = new Set([br.headers.etag, gzip.headers.etag, plain.headers.etag]);
    expect(etags.size).toBe(3);
    const revalidated = await rawGet(url, { "accept-encoding": "br", "if-none-match": String(br.headers.etag) });
    expect(revalidated.status).toBe(304);
    expect((await rawGet(url, { "accept-encoding": "gzip", "if-none-match": String(br.headers.etag) })).status).toBe(200);
  });

  it("never serves source maps or the compressed copies under their own names", async () => {
    for (const file of ["shop-def456.js.map", "shop-def456.js.br"]) {
      const response = await rawGet(`${t.app.url}/assets/${file}`);
      expect(response.status, file).toBe(404);
      expect(response.body.toString()).not.toContain("secret.ts");
    }
  });

  it("compresses index.html as served (its sandbox URL written in), not a copy from the build", async () => {
    const response = await rawGet(`${t.app.url}/`, { "accept-encoding": "br" });
    expect(response.headers["content-encoding"]).toBe("br");
    const html = brotliDecompressSync(response.body).toString();
    expect(html).toContain('content="https://pay.example.test"');
    expect(html).not.toContain("localhost:3001");
  });
});
