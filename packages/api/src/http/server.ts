// The HTTP server: tRPC at /trpc, /health, /ready, /metrics and the web app, with request ids,
// access logs, metrics and a graceful shutdown that finishes in-flight requests.
import crypto, { randomUUID } from "node:crypto";
import http from "node:http";
import { appRouter } from "../router.ts";
import { createContext, type Services } from "../context.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "./metrics.ts";
import { loadStaticFiles, representationFor, type StaticFile } from "./static-files.ts";
import { createTrpcHandler } from "./trpc-handler.ts";
import { hasBody } from "./body-reader.ts";
import { EdgeError } from "./edge-error.ts";
import { clientAddressOf, limitKeyOf, originOf, socketAddressOf, type ClientAddressSources } from "./client-address.ts";
import { createClientLimits, type RateClass } from "./client-limits.ts";
import { createReadinessProbe, type ReadinessProbe } from "./readiness.ts";
import { createPaymentWebhookHandler, PAYMENT_WEBHOOK_PATH, type PaymentWebhookOptions } from "./payment-webhooks.ts";
import { createAdmission, type AdmissionOptions } from "./admission.ts";

/** Every limit the edge enforces, each a validated setting (packages/api/src/env.ts) with a test of its bypass. */
export interface EdgeLimits {
  /** Request headers must be complete within this (slow headers: 408 and closed). */
  headersTimeoutMs: number;
  /** A request body must be complete within this from the start of reading it (slow bodies: 408 and closed). */
  bodyTimeoutMs: number;
  maxBodyBytes: number;
  maxJsonDepth: number;
  maxJsonStringLength: number;
  /** Open sockets per socket peer when clients connect directly (no trusted proxy configured). */
  maxConnectionsPerClient: number;
  /** API requests in progress per client address. */
  maxInFlightPerClient: number;
  /** Requests per minute per client address, by the rate class a procedure declares. */
  ratePerMinute: Record<RateClass, number>;
  /** Client addresses exempt from the per-client limits (CLIENT_LIMITS_EXEMPT). */
  exemptClients: readonly string[];
}

export interface ServerOptions {
  services: Services;
  log: Logger;
  webRoot: string;
  /** Public origin of the payment provider's card field, allowed to be framed by the checkout page. */
  paymentFieldUrl: string;
  keepAliveTimeoutMs: number;
  /** The edge's limits: `edgeLimitsOf(env)` (packages/api/src/jobs/policies.ts), defaults in env.ts. */
  edge: EdgeLimits;
  /** Where the client's address comes from (socket by default; TRUST_PROXY, VIEWER_ADDRESS_HEADER). */
  clientAddress?: ClientAddressSources;
  /** The database check behind /ready; default: the writer pool, cached for a second. */
  readiness?: ReadinessProbe;
  /** Who may read /metrics: a bearer token (METRICS_TOKEN), and whether loopback peers may without one. */
  metricsAccess?: { token?: string; allowLoopback: boolean };
  /** APP_VERSION, shown by /health so a caller behind a load balancer sees which build answered. */
  version?: string;
  /** Signed events from the payment provider at POST /webhooks/payments; without it that path is a 404. */
  paymentWebhooks?: Omit<PaymentWebhookOptions, "services" | "body">;
  /** Limits on concurrent tRPC requests (MAX_IN_FLIGHT …); without it every request is admitted. */
  admission?: AdmissionOptions;
}

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
    // The provider's wallet for express checkout: the browser's Payment Request reads its manifests under this path.
    `connect-src 'self' ${paymentOrigin}/wallet/`,
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
  const { metrics, tracing } = services;
  const { files, index, shell } = loadStaticFiles(options.webRoot, { paymentFieldUrl: options.paymentFieldUrl });
  const csp = contentSecurityPolicy(options.paymentFieldUrl);
  let isDraining = false;
  let inFlight = 0;
  let onIdle: (() => void) | null = null;
  const openResponses = new Set<http.ServerResponse>();
  const admission = createAdmission({
    ...(options.admission ?? { maxInFlight: Infinity, maxQueue: 0, queueTimeoutMs: 1, retryAfterSeconds: 1 }),
    onShed: (summary) => log.warn(summary, "admission control shed requests (503 OVERLOADED)"),
    respond: (req, res, shed) =>
      trpc.respondError(
        req,
        res,
        shed.path,
        new EdgeError("OVERLOADED", shed.message, {
          retryAfterSeconds: shed.retryAfterSeconds,
          closeConnection: shed.closeConnection,
          details: { retryAfterSeconds: shed.retryAfterSeconds },
        }),
      ),
  });

  const limits = options.edge;
  const addressSources = options.clientAddress ?? { trustedProxies: 0 };
  const isBehindProxy = addressSources.trustedProxies > 0 || addressSources.viewerAddressHeader !== undefined;
  const clientLimits = createClientLimits({
    // Behind a proxy the socket peers are the proxy's few addresses, carrying every shopper: only direct clients are capped per socket.
    maxConnectionsPerPeer: isBehindProxy ? Infinity : limits.maxConnectionsPerClient,
    maxInFlightPerClient: limits.maxInFlightPerClient,
    perMinute: limits.ratePerMinute,
    exempt: new Set(limits.exemptClients.map(limitKeyOf)),
  });
  const readiness = options.readiness ?? createReadinessProbe({ db: services.db, cacheMs: 1000 });
  const metricsToken = options.metricsAccess?.token ? crypto.createHash("sha256").update(options.metricsAccess.token).digest() : null;
  const bodyLimits = { maxBytes: limits.maxBodyBytes, timeoutMs: limits.bodyTimeoutMs };

  const contextOf = (req: http.IncomingMessage, clientAddress: string) => {
    const requestId = (req as RequestWithId).requestId ?? randomUUID();
    const authorization = req.headers.authorization ?? null;
    const origin = originOf(req, clientAddress);
    return createContext(services, { requestId, log: () => log.child({ requestId }), origin, authorization });
  };
  const onError = ({ error, path, req }: { error: { code: string; cause?: unknown }; path?: string; req: http.IncomingMessage }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") {
      log.error({ err: error.cause ?? error, path, requestId: (req as RequestWithId).requestId }, "procedure failed");
    }
  };
  const paymentWebhooks = options.paymentWebhooks ? createPaymentWebhookHandler({ services, body: bodyLimits, ...options.paymentWebhooks }) : null;

  const trpc = createTrpcHandler({
    router: appRouter,
    body: bodyLimits,
    json: { maxDepth: limits.maxJsonDepth, maxStringLength: limits.maxJsonStringLength },
    admission,
    clientLimits,
    clientAddressOf: (req) => clientAddressOf(req, addressSources),
    // With tracing on, a traced request's context leads its procedure's span to the request's.
    createContext: tracing ? (req, clientAddress) => tracing.contextFor(req, contextOf(req, clientAddress)) : contextOf,
    onError,
    db: services.db,
  });

  /** /metrics: with METRICS_TOKEN only for its bearer; without one, only for loopback peers where that is allowed. */
  function mayReadMetrics(req: http.IncomingMessage): boolean {
    if (metricsToken) {
      const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(req.headers.authorization ?? "");
      return match !== null && crypto.timingSafeEqual(crypto.createHash("sha256").update(match[1]!).digest(), metricsToken);
    }
    if (!options.metricsAccess?.allowLoopback) return false;
    const peer = socketAddressOf(req.socket);
    return peer === "::1" || peer.startsWith("127.");
  }

  function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
    const payload = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), "cache-control": "no-store" });
    res.end(payload);
  }

  function sendStatic(req: http.IncomingMessage, res: http.ServerResponse, file: StaticFile, isHtml: boolean): void {
    const sent = representationFor(file, req.headers["accept-encoding"]);
    const headers: http.OutgoingHttpHeaders = {
      "content-type": file.contentType,
      etag: sent.etag,
      "cache-control": file.cacheControl,
      "x-content-type-options": "nosniff",
      "referrer-policy": "strict-origin-when-cross-origin",
    };
    if (sent.encoding) headers["content-encoding"] = sent.encoding;
    if (Object.keys(file.encoded).length > 0) headers.vary = "accept-encoding";
    if (isHtml) {
      headers["content-security-policy"] = csp;
      headers["x-frame-options"] = "DENY";
    }
    if (req.headers["if-none-match"] === sent.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers["content-length"] = sent.body.length;
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : sent.body);
  }

  /** Connections with a request being answered, or whose last answer closes them. */
  const busySockets = new WeakSet<object>();

  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      // A backstop for requests our body reader never sees (a body sent to a static path): Node answers 408 and closes.
      requestTimeout: limits.headersTimeoutMs + limits.bodyTimeoutMs + 5000,
      // How often Node checks those two timeouts (its default, 30 s, would let a slow client hold a socket that long).
      connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    // With tracing on, each request runs inside its span (telemetry/tracing.ts); off, nothing but this check.
    (req, res) => (tracing ? tracing.serveRequest(req, res, routeOf, handleRequest) : handleRequest(req, res)),
  );

  function handleRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    busySockets.add(socket);
    res.once("finish", () => {
      if (!/close/i.test(String(res.getHeader("connection") ?? ""))) busySockets.delete(socket);
    });
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
        log.info({ requestId, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10, traceId: tracing?.traceIdOf(req) }, "request");
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
      trpc.handle(req, res, path, queryAt === -1 ? "" : url.slice(queryAt + 1));
      return;
    }
    // Nothing beyond /trpc and the webhook reads a body: one sent here is never read, so the connection cannot carry another request.
    if (hasBody(req)) res.setHeader("connection", "close");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      sendJson(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: `${req.method} is not allowed on ${pathname}` } });
      return;
    }
    switch (pathname) {
      case "/health":
        // Liveness, what the target groups and the container check: the process alone answers, never the database,
        // so a database failover takes no task out of service (packages/api/test/failover-drill.test.ts).
        sendJson(res, 200, options.version ? { status: "ok", version: options.version } : { status: "ok" });
        return;
      case "/ready":
        if (isDraining) {
          sendJson(res, 503, { status: "draining" });
          return;
        }
        void readiness.isDatabaseReady().then((isReady) => (isReady ? sendJson(res, 200, { status: "ready" }) : sendJson(res, 503, { status: "unavailable", reason: "database" })));
        return;
      case "/metrics": {
        if (!mayReadMetrics(req)) {
          sendJson(res, 404, { error: { code: "NOT_FOUND", message: `No file at ${pathname}` } });
          return;
        }
        const body = metrics.render() + admission.renderMetrics() + clientLimits.renderMetrics() + renderReadinessMetrics(readiness);
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
    // Client-side routes get a prerendered document ("/" the catalogue's, the others the app shell); missing files
    // (with an extension) are 404s.
    if (/\.[a-z0-9]+$/i.test(pathname)) {
      sendJson(res, 404, { error: { code: "NOT_FOUND", message: `No file at ${pathname}` } });
      return;
    }
    sendStatic(req, res, pathname === "/" ? index : shell, true);
  }

  server.on("connection", (socket) => {
    if (!clientLimits.admitConnection(socket)) socket.destroy();
  });
  // What Node refuses before a request exists (headers over its 16 KiB limit, malformed HTTP, a header timeout)
  // gets the same typed JSON error as everything else, then the connection closes.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    // Bytes that arrive while a request is being answered on this connection, or after an answer that closes it
    // (a body sent without framing), are not a new request to answer: the connection just ends.
    if (!socket.writable || busySockets.has(socket) || error.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    const [status, appCode, message] =
      error.code === "HPE_HEADER_OVERFLOW"
        ? ([431, "HEADERS_TOO_LARGE", "The request's URL and headers are larger than the server accepts (16 KiB); send the input as a POST body"] as const)
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? ([408, "REQUEST_TIMEOUT", `The request did not arrive within ${limits.headersTimeoutMs} ms`] as const)
          : ([400, "BAD_REQUEST", "The request is not valid HTTP"] as const);
    const body = JSON.stringify({ error: { code: appCode, message, data: { httpStatus: status, appCode } } });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    // A lingering close: keep reading (and dropping) what the client is still sending for a moment, so closing does
    // not reset the connection under the answer before the client has read it.
    socket.on("data", () => {});
    socket.resume();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
  // Keep idle connections open longer than the load balancer does, so it never reuses a closed one.
  server.keepAliveTimeout = options.keepAliveTimeoutMs;

  async function drain(timeoutMs: number): Promise<{ timedOut: boolean }> {
    isDraining = true;
    // Responses still to be written tell their clients not to reuse the connection.
    for (const res of openResponses) if (!res.headersSent) res.setHeader("connection", "close");
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const idle = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (onIdle = resolve));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([Promise.all([idle, closed]).then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))]);
    clearTimeout(timer);
    if (timedOut) server.closeAllConnections();
    return { timedOut };
  }

  return { server, metrics, drain };
}

type RequestWithId = http.IncomingMessage & { requestId?: string };

/** How long a connection refused by clientError is read from (and dropped) before it is destroyed. */
const LINGER_MS = 2000;

function renderReadinessMetrics(readiness: ReadinessProbe): string {
  return [
    "# HELP ready_database_checks_total Database checks run for /ready (answers in between come from its cache).",
    "# TYPE ready_database_checks_total counter",
    `ready_database_checks_total ${readiness.checksRun}`,
    "",
  ].join("\n");
}
