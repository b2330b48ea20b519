// The payment sandbox: a local card processor with a hosted card field, tokens and a Stripe-like API.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkCard } from "./card-rules.ts";
import { fieldContentSecurityPolicy, renderFieldPage } from "./field-page.ts";
import { SandboxStore, type AuthorizationRecord, type SandboxStateSnapshot } from "./sandbox-store.ts";

export interface PaymentSandboxOptions {
  port: number;
  host?: string;
  secretKey: string;
  allowedParentOrigins: string[];
  /** Milliseconds since the epoch; tests move it to expire tokens. */
  now?: () => number;
}

export interface PaymentSandbox {
  url: string;
  port: number;
  close(): Promise<void>;
  /** A copy of everything the sandbox holds in memory, for tests that prove what it never keeps. */
  debugDump(): SandboxStateSnapshot;
}

const MAX_BODY_BYTES = 8 * 1024;
const MAX_DRAINED_BYTES = 1024 * 1024;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const CURRENCIES = ["USD", "EUR"];

type JsonObject = Record<string, unknown>;

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** An outcome the endpoint reached by executing; only these are kept for idempotent replay. */
interface Executed extends Reply {
  isExecuted: true;
}

type ApiHandler = (request: { params: string[]; body: JsonObject }) => Reply | Executed;

interface ApiRoute {
  method: "GET" | "POST";
  pattern: RegExp;
  handle: ApiHandler;
}

class BodyTooLargeError extends Error {}

function errorBody(type: string, code: string, message: string, extra: JsonObject = {}): unknown {
  return { error: { type, code, message, ...extra } };
}

function invalidRequest(code: string, message: string, extra: JsonObject = {}): Reply {
  return { status: 400, body: errorBody("invalid_request_error", code, message, extra) };
}

function executed(status: number, body: unknown): Executed {
  return { status, body, isExecuted: true };
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPositiveAmount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/** Serialises with sorted keys so that the same parameters always fingerprint the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isJsonObject(value)) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function fingerprint(body: JsonObject): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

function normalizeOrigin(origin: string): string {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    throw new Error(`allowedParentOrigins: '${origin}' is not an origin such as https://shop.example`);
  }
  if (parsed.origin === "null") throw new Error(`allowedParentOrigins: '${origin}' has no origin`);
  return parsed.origin;
}

function authorizationView(authorization: AuthorizationRecord): unknown {
  return {
    id: authorization.id,
    status: authorization.status,
    amount: authorization.amount,
    currency: authorization.currency,
    reference: authorization.reference,
    capturedAmount: authorization.capturedAmount,
    refundedAmount: authorization.refundedAmount,
    card: authorization.card,
    created: authorization.createdAt,
  };
}

function noSuchAuthorization(id: string): Executed {
  return executed(404, errorBody("invalid_request_error", "resource_missing", `No such authorization: '${id}'.`));
}

function wrongState(id: string, status: string, action: string): Executed {
  const code = status === "captured" ? "authorization_already_captured" : "authorization_voided";
  return executed(409, errorBody("invalid_request_error", code, `Authorization '${id}' is ${status} and cannot be ${action}.`));
}

function createApiRoutes(store: SandboxStore): ApiRoute[] {
  return [
    {
      method: "POST",
      pattern: /^\/v1\/authorizations$/,
      handle: ({ body }) => {
        const { token, amount, currency, reference } = body;
        if (typeof token !== "string" || token === "") {
          return invalidRequest("parameter_missing", "token is required.", { param: "token" });
        }
        if (!isPositiveAmount(amount)) {
          return invalidRequest("parameter_invalid", "amount must be a positive integer in minor units.", { param: "amount" });
        }
        if (typeof currency !== "string" || !CURRENCIES.includes(currency)) {
          return invalidRequest("parameter_invalid", `currency must be one of ${CURRENCIES.join(", ")}.`, { param: "currency" });
        }
        if (typeof reference !== "string" || reference === "" || reference.length > 255) {
          return invalidRequest("parameter_invalid", "reference must be a string of 1 to 255 characters.", { param: "reference" });
        }
        const outcome = store.authorize({ token, amount, currency, reference });
        switch (outcome.kind) {
          case "authorized": {
            const { authorization } = outcome;
            return executed(201, {
              id: authorization.id,
              status: "authorized",
              amount: authorization.amount,
              currency: authorization.currency,
              card: authorization.card,
            });
          }
          case "declined":
            return executed(402, {
              error: { type: "card_error", code: outcome.code, message: outcome.message, card: outcome.card },
            });
          case "token_invalid":
            return executed(400, errorBody("invalid_request_error", "token_invalid", outcome.message));
        }
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/authorizations\/([\w-]+)$/,
      handle: ({ params: [id = ""] }) => {
        const authorization = store.getAuthorization(id);
        return authorization ? { status: 200, body: authorizationView(authorization) } : noSuchAuthorization(id);
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/authorizations\/([\w-]+)\/capture$/,
      handle: ({ params: [id = ""], body }) => {
        const { amount } = body;
        if (amount !== undefined && !isPositiveAmount(amount)) {
          return invalidRequest("parameter_invalid", "amount must be a positive integer in minor units.", { param: "amount" });
        }
        const outcome = store.capture(id, amount);
        switch (outcome.kind) {
          case "captured":
            return executed(200, {
              id: outcome.capture.id,
              status: "captured",
              amount: outcome.capture.amount,
              authorization: id,
            });
          case "not_found":
            return noSuchAuthorization(id);
          case "illegal_state":
            return wrongState(id, outcome.status, "captured");
          case "amount_too_large":
            return executed(
              400,
              errorBody("invalid_request_error", "amount_too_large", `amount must not exceed the authorised ${outcome.maximum}.`, {
                param: "amount",
              }),
            );
        }
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/authorizations\/([\w-]+)\/void$/,
      handle: ({ params: [id = ""] }) => {
        const outcome = store.void(id);
        switch (outcome.kind) {
          case "voided":
            return executed(200, { id, status: "voided" });
          case "not_found":
            return noSuchAuthorization(id);
          case "illegal_state":
            return wrongState(id, outcome.status, "voided");
        }
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/refunds$/,
      handle: ({ body }) => {
        const { authorization, amount } = body;
        if (typeof authorization !== "string" || authorization === "") {
          return invalidRequest("parameter_missing", "authorization is required.", { param: "authorization" });
        }
        if (!isPositiveAmount(amount)) {
          return invalidRequest("parameter_invalid", "amount must be a positive integer in minor units.", { param: "amount" });
        }
        const outcome = store.refund(authorization, amount);
        switch (outcome.kind) {
          case "refunded":
            return executed(201, { id: outcome.refund.id, amount: outcome.refund.amount, authorization });
          case "not_found":
            return noSuchAuthorization(authorization);
          case "not_captured":
            return executed(
              400,
              errorBody("invalid_request_error", "authorization_not_captured", `Authorization '${authorization}' is ${outcome.status}; only captured money can be refunded.`),
            );
          case "amount_too_large":
            return executed(
              400,
              errorBody("invalid_request_error", "amount_too_large", `amount must not exceed the ${outcome.maximum} captured and not yet refunded.`, {
                param: "amount",
              }),
            );
        }
      },
    },
  ];
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    request.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (received > MAX_DRAINED_BYTES) request.destroy();
    });
    request.on("end", () => {
      if (received > MAX_BODY_BYTES) reject(new BodyTooLargeError());
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
    request.on("error", reject);
  });
}

async function readJsonObject(request: IncomingMessage): Promise<{ ok: true; body: JsonObject } | { ok: false; reply: Reply }> {
  let text: string;
  try {
    text = await readBody(request);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return {
        ok: false,
        reply: {
          status: 413,
          body: errorBody("invalid_request_error", "body_too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`),
        },
      };
    }
    throw error;
  }
  if (text.trim() === "") return { ok: true, body: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reply: invalidRequest("invalid_request", "The request body is not valid JSON.") };
  }
  if (!isJsonObject(parsed)) return { ok: false, reply: invalidRequest("invalid_request", "The request body must be a JSON object.") };
  return { ok: true, body: parsed };
}

const baseHeaders = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

function sendText(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    ...baseHeaders,
    "Content-Type": contentType,
    "Content-Length": String(Buffer.byteLength(body)),
    ...headers,
  });
  response.end(body);
}

function sendReply(response: ServerResponse, reply: Reply): void {
  sendText(response, reply.status, "application/json; charset=utf-8", JSON.stringify(reply.body), reply.headers);
}

export async function startPaymentSandbox(options: PaymentSandboxOptions): Promise<PaymentSandbox> {
  if (options.secretKey === "") throw new Error("startPaymentSandbox: secretKey must not be empty");
  const allowedOrigins = new Set(options.allowedParentOrigins.map(normalizeOrigin));
  const secretDigest = sha256(`Bearer ${options.secretKey}`);
  const store = new SandboxStore(options.now);
  const apiRoutes = createApiRoutes(store);
  const host = options.host ?? "127.0.0.1";

  function isAuthorized(request: IncomingMessage): boolean {
    return timingSafeEqual(sha256(request.headers.authorization ?? ""), secretDigest);
  }

  function serveField(response: ServerResponse, query: URLSearchParams): void {
    const parentOrigin = query.get("origin") ?? "";
    if (!allowedOrigins.has(parentOrigin)) {
      sendReply(response, invalidRequest("origin_not_allowed", "The origin parameter must name an origin this sandbox is configured to trust."));
      return;
    }
    const nonce = randomBytes(16).toString("base64");
    sendText(response, 200, "text/html; charset=utf-8", renderFieldPage({ nonce, parentOrigin }), {
      "Content-Security-Policy": fieldContentSecurityPolicy({ nonce, parentOrigin }),
    });
  }

  async function createToken(request: IncomingMessage): Promise<Reply> {
    const read = await readJsonObject(request);
    if (!read.ok) return read.reply;
    const check = checkCard(read.body, new Date(store.now()));
    if (!check.ok) return { status: 400, body: errorBody("invalid_request_error", check.code, check.message) };
    const token = store.createToken(check.card, check.behaviour);
    return { status: 201, body: { id: token.id, card: token.card } };
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const pathMatches = apiRoutes.filter((route) => route.pattern.test(path));
    if (pathMatches.length === 0) {
      sendReply(response, { status: 404, body: errorBody("invalid_request_error", "route_not_found", `No route for ${path}.`) });
      return;
    }
    if (!isAuthorized(request)) {
      sendReply(response, {
        status: 401,
        body: errorBody("authentication_error", "unauthorized", "Send the sandbox secret key as 'Authorization: Bearer <key>'."),
        headers: { "WWW-Authenticate": 'Bearer realm="payment-sandbox"' },
      });
      return;
    }
    const route = pathMatches.find((candidate) => candidate.method === request.method);
    if (!route) {
      sendReply(response, {
        status: 405,
        body: errorBody("invalid_request_error", "method_not_allowed", `${request.method} is not allowed on ${path}.`),
        headers: { Allow: pathMatches.map((candidate) => candidate.method).join(", ") },
      });
      return;
    }
    const params = route.pattern.exec(path)?.slice(1) ?? [];
    if (route.method === "GET") {
      sendReply(response, route.handle({ params, body: {} }));
      return;
    }

    const idempotencyKey = request.headers["idempotency-key"];
    if (typeof idempotencyKey !== "string" || idempotencyKey === "" || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      sendReply(response, invalidRequest("idempotency_key_missing", `POST requests need an Idempotency-Key header of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters.`));
      return;
    }
    const read = await readJsonObject(request);
    if (!read.ok) {
      sendReply(response, read.reply);
      return;
    }
    // Nothing below awaits, so two requests with one key cannot both miss the stored response.
    const bodyFingerprint = fingerprint(read.body);
    const stored = store.findIdempotentResponse(path, idempotencyKey);
    if (stored) {
      if (stored.fingerprint !== bodyFingerprint) {
        sendReply(response, {
          status: 422,
          body: errorBody(
            "idempotency_error",
            "idempotency_key_reused",
            "This Idempotency-Key was already used with different parameters on this endpoint.",
          ),
        });
        return;
      }
      sendText(response, stored.status, "application/json; charset=utf-8", stored.body, { "Idempotent-Replayed": "true" });
      return;
    }
    const reply = route.handle({ params, body: read.body });
    const serialized = JSON.stringify(reply.body);
    if ("isExecuted" in reply) {
      store.rememberIdempotentResponse(path, idempotencyKey, bodyFingerprint, { status: reply.status, body: serialized });
    }
    sendText(response, reply.status, "application/json; charset=utf-8", serialized, reply.headers);
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = request.url ?? "/";
    const queryStart = target.indexOf("?");
    const path = queryStart === -1 ? target : target.slice(0, queryStart);
    const query = new URLSearchParams(queryStart === -1 ? "" : target.slice(queryStart + 1));

    if (path === "/health" && request.method === "GET") {
      sendReply(response, { status: 200, body: { status: "ok" } });
    } else if (path === "/field" && request.method === "GET") {
      serveField(response, query);
    } else if (path === "/v1/tokens" && request.method === "POST") {
      sendReply(response, await createToken(request));
    } else if (path.startsWith("/v1/") && path !== "/v1/tokens") {
      await handleApi(request, response, path);
    } else {
      sendReply(response, { status: 404, body: errorBody("invalid_request_error", "route_not_found", `No route for ${request.method} ${path}.`) });
    }
  }

  const server = createServer((request, response) => {
    route(request, response).catch(() => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      sendReply(response, { status: 500, body: errorBody("api_error", "internal_error", "The sandbox hit an unexpected error.") });
    });
  });
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    debugDump: () => store.snapshot(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
