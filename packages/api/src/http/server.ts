// The HTTP server: tRPC at /trpc, /health, /ready, /metrics and the web app, with request ids,
// access logs, metrics and a graceful shutdown that finishes in-flight requests.
import { randomUUID } from "node:crypto";
import http from "node:http";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { sql } from "kysely";
import { appRouter } from "../router.ts";
import { createContext, type Services } from "../context.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "./metrics.ts";
import { loadStaticFiles, type StaticFile } from "./static-files.ts";
import { createTrpcHandler } from "./trpc-handler.ts";
import { originOf } from "../admin/admin-auth.ts";
import { createPaymentWebhookHandler, PAYMENT_WEBHOOK_PATH, type PaymentWebhookOptions } from "./payment-webhooks.ts";
import { createAdmission, type AdmissionOptions } from "./admission.ts";

export interface ServerOptions {
  services: Services;
  log: Logger;
  webRoot: string;
  /** Public origin of the payment provider's card field, allowed to be framed by the checkout page. */
  paymentFieldUrl: string;
  maxBodyBytes: number;
  keepAliveTimeoutMs: number;
  /** Proxies in front that append to X-Forwarded-For (TRUST_PROXY); 0 takes the client IP from the socket. */
  trustedProxies?: number;
  /** APP_VERSION, shown by /health so a caller behind a load balancer sees which build answered. */
  version?: string;
  /** Signed events from the payment provider at POST /webhooks/payments; without it that path is a 404. */
  paymentWebhooks?: Omit<PaymentWebhookOptions, "services">;
  /** Limits on concurrent tRPC requests (MAX_IN_FLIGHT …); without it every request is admitted. */
  admission?: AdmissionOptions;
}

const QUERY_BY_POST = "/trpc/admin.invariants";
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const procedureNames = new Set(Object.keys(appRouter._def.procedures));

function routeOf(pathname: string): string {
  if (pathname.startsWith("/trpc/")) {
    const name = pathname.slice("/trpc/".length);
    return procedureNames.has(name) ? name : "trpc:unknown";
  }
  if (pathname === "/health" || pathname === "/ready" || pathname === "/metrics" || pathname === PAYMENT_WEBHOOK_PATH) return pathname;
  return "static";
}

function contentSecurityPolicy(paymentFieldUrl: string): string {
  const paymentOrigin = new URL(paymentFieldUrl).origin;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    `frame-src ${paymentOrigin}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}

export interface AppServer {
  server: http.Server;
  metrics: Metrics;
  /** Marks the server not ready, stops accepting connections and resolves once in-flight requests finish. */
  drain(timeoutMs: number): Promise<{ timedOut: boolean }>;
}

export function createAppServer(options: ServerOptions): AppServer {
  const { services, log } = options;
  const metrics = services.metrics;
  const { files, index } = loadStaticFiles(options.webRoot, { paymentFieldUrl: options.paymentFieldUrl });
  const csp = contentSecurityPolicy(options.paymentFieldUrl);
  let isDraining = false;
  let inFlight = 0;
  let onIdle: (() => void) | null = null;
  const openResponses = new Set<http.ServerResponse>();
  const admission = createAdmission({
    ...(options.admission ?? { maxInFlight: Infinity, maxQueue: 0, queueTimeoutMs: 1, retryAfterSeconds: 1 }),
    onShed: (summary) => log.warn(summary, "admission control shed requests (503 OVERLOADED)"),
  });

  const contextOf = (req: http.IncomingMessage) => {
    const requestId = (req as RequestWithId).requestId ?? randomUUID();
    const key = req.headers["idempotency-key"];
    const authorization = req.headers.authorization ?? null;
    const origin = originOf(req, options.trustedProxies ?? 0);
    return createContext(services, { requestId, idempotencyKey: typeof key === "string" ? key : null, log: log.child({ requestId }), origin, authorization });
  };
  const onError = ({ error, path, req }: { error: { code: string; cause?: unknown }; path?: string; req: http.IncomingMessage }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") {
      log.error({ err: error.cause ?? error, path, requestId: (req as RequestWithId).requestId }, "procedure failed");
    }
  };
  const paymentWebhooks = options.paymentWebhooks ? createPaymentWebhookHandler({ services, ...options.paymentWebhooks }) : null;
  const standardHandler = (allowMethodOverride: boolean) =>
    createHTTPHandler({
      router: appRouter,
      basePath: "/trpc/",
      maxBodySize: options.maxBodyBytes,
      allowMethodOverride,
      createContext: ({ req }) => contextOf(req),
      onError,
    });
  const strictHandler = standardHandler(false);
  // The one query that also takes a POST body: admin.invariants with thousands of order numbers would not fit in a URL.
  // Every other query sent as a POST stays a 405.
  const queryByPostHandler = standardHandler(true);

  const trpc = createTrpcHandler({
    router: appRouter,
    maxBodyBytes: options.maxBodyBytes,
    createContext: contextOf,
    onError,
    idempotent: {
      db: services.db,
      // Keys are scoped to the cart: the same key sent for two carts names two requests.
      scopes: { "checkout.placeOrder": (input) => scopeByCart(input) },
    },
    fallback: (req, res) => ((req.method === "POST" && req.url?.split("?")[0] === QUERY_BY_POST ? queryByPostHandler : strictHandler)(req, res)),
  });

  async function isDatabaseReady(): Promise<boolean> {
    try {
      await sql`select 1`.execute(services.db);
      return true;
    } catch {
      return false;
    }
  }

  function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
    const payload = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), "cache-control": "no-store" });
    res.end(payload);
  }

  function sendStatic(req: http.IncomingMessage, res: http.ServerResponse, file: StaticFile, isHtml: boolean): void {
    const headers: http.OutgoingHttpHeaders = {
      "content-type": file.contentType,
      etag: file.etag,
      "cache-control": file.cacheControl,
      "x-content-type-options": "nosniff",
      "referrer-policy": "strict-origin-when-cross-origin",
    };
    if (isHtml) {
      headers["content-security-policy"] = csp;
      headers["x-frame-options"] = "DENY";
    }
    if (req.headers["if-none-match"] === file.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers["content-length"] = file.body.length;
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : file.body);
  }

  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const incomingId = req.headers["x-request-id"];
    const requestId = typeof incomingId === "string" && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    (req as RequestWithId).requestId = requestId;
    res.setHeader("x-request-id", requestId);
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
    const route = routeOf(pathname);
    inFlight += 1;
    openResponses.add(res);
    metrics.requestStarted();
    if (isDraining) res.setHeader("connection", "close");

    res.once("close", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requestFinished(route, req.method ?? "GET", res.statusCode, seconds);
      if (route !== "/health" && route !== "/ready" && route !== "/metrics" && !admission.isShed(res)) {
        log.info({ requestId, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 }, "request");
      }
      inFlight -= 1;
      openResponses.delete(res);
      if (isDraining) server.closeIdleConnections();
      if (inFlight === 0 && onIdle) onIdle();
    });

    if (route === PAYMENT_WEBHOOK_PATH) {
      if (paymentWebhooks) paymentWebhooks(req, res, log.child({ requestId }));
      else sendJson(res, 404, { error: { code: "NOT_FOUND", message: "Payment webhooks are not configured" } });
      return;
    }
    if (route !== "static" && route !== "/health" && route !== "/ready" && route !== "/metrics") {
      const path = pathname.slice("/trpc/".length);
      admission.admit(req, res, route, () => trpc(req, res, path, queryAt === -1 ? "" : url.slice(queryAt + 1)));
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      sendJson(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: `${req.method} is not allowed on ${pathname}` } });
      return;
    }
    switch (pathname) {
      case "/health":
        sendJson(res, 200, options.version ? { status: "ok", version: options.version } : { status: "ok" });
        return;
      case "/ready":
        if (isDraining) {
          sendJson(res, 503, { status: "draining" });
          return;
        }
        void isDatabaseReady().then((isReady) =>
          isReady ? sendJson(res, 200, { status: "ready" }) : sendJson(res, 503, { status: "unavailable", reason: "database" }),
        );
        return;
      case "/metrics": {
        const body = metrics.render() + admission.renderMetrics();
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" });
        res.end(body);
        return;
      }
    }
    if (pathname.startsWith("/trpc")) {
      sendJson(res, 404, { error: { code: "NOT_FOUND", message: `No procedure at ${pathname}` } });
      return;
    }
    const file = files.get(pathname);
    if (file) {
      sendStatic(req, res, file, pathname.endsWith(".html"));
      return;
    }
    // Client-side routes fall back to the app shell; missing files (with an extension) are 404s.
    if (/\.[a-z0-9]+$/i.test(pathname)) {
      sendJson(res, 404, { error: { code: "NOT_FOUND", message: `No file at ${pathname}` } });
      return;
    }
    sendStatic(req, res, index, true);
  });

  // Keep idle connections open longer than the load balancer does, so it never reuses a closed one.
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.headersTimeout = options.keepAliveTimeoutMs + 1000;
  server.requestTimeout = 30_000;

  async function drain(timeoutMs: number): Promise<{ timedOut: boolean }> {
    isDraining = true;
    // Responses still to be written tell their clients not to reuse the connection.
    for (const res of openResponses) if (!res.headersSent) res.setHeader("connection", "close");
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const idle = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (onIdle = resolve));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all([idle, closed]).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) server.closeAllConnections();
    return { timedOut };
  }

  return { server, metrics, drain };
}

type RequestWithId = http.IncomingMessage & { requestId?: string };

function scopeByCart(input: unknown): string | null {
  const cartId = (input as { cartId?: unknown } | null)?.cartId;
  return typeof cartId === "string" && cartId.length <= 64 ? `cart:${cartId}` : null;
}
