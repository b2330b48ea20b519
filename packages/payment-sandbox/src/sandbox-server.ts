// The payment sandbox: a local card processor with a hosted card field, tokens, a Stripe-like API,
// 3-D Secure challenges and signed webhooks.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkCard } from "./card-rules.ts";
import { challengeContentSecurityPolicy, renderChallengePage } from "./challenge-page.ts";
import { fieldContentSecurityPolicy, renderFieldPage } from "./field-page.ts";
import { authorizationView, createApiRoutes, errorBody, invalidRequest, isJsonObject, type ApiHooks, type JsonObject, type Reply } from "./sandbox-api.ts";
import { SandboxStore, type SandboxStateSnapshot } from "./sandbox-store.ts";
import { createWallet, WALLET_PREFIX } from "./wallet.ts";
import { WebhookSender } from "./webhook-sender.ts";

export interface PaymentSandboxOptions {
  port: number;
  host?: string;
  secretKey: string;
  allowedParentOrigins: string[];
  /** Milliseconds since the epoch; tests move it to expire tokens. */
  now?: () => number;
  /** The origin browsers reach the sandbox at (for 3-D Secure URLs); default: the listening URL. */
  publicUrl?: string | ((listeningUrl: string) => string);
  /** How long the slow test card's answer is held back; longer than a client's timeout. Default 15 s. */
  slowCardDelayMs?: number;
  /** Where events are POSTed, signed with `webhookSecret`; both can also be set later with setWebhookTarget. */
  webhookUrl?: string;
  webhookSecret?: string;
  /** Waits between webhook attempts; default [500, 2500] (three attempts). */
  webhookRetryDelaysMs?: readonly number[];
  /** The key card fingerprints are HMACs under; default: derived from `secretKey`, so one sandbox account sees one fingerprint per card. */
  fingerprintKey?: string;
}

export interface PaymentSandbox {
  url: string;
  /** The origin browsers use: the card field and 3-D Secure pages live here. */
  publicUrl: string;
  port: number;
  /** Starts (or, with null, stops) sending signed webhook events to `url`. */
  setWebhookTarget(url: string | null, secret?: string): void;
  close(): Promise<void>;
  /** A copy of everything the sandbox holds in memory, for tests that prove what it never keeps. */
  debugDump(): SandboxStateSnapshot;
}

const MAX_BODY_BYTES = 8 * 1024;
const MAX_DRAINED_BYTES = 1024 * 1024;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const JSON_TYPE = "application/json; charset=utf-8";
const DEFAULT_SLOW_CARD_DELAY_MS = 15_000;
const CHALLENGE_PATH = /^\/3ds\/([\w-]+)$/;

const baseHeaders = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

type JsonRead = { ok: true; body: JsonObject } | { ok: false; reply: Reply };

class BodyTooLargeError extends Error {}

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

async function readJsonObject(request: IncomingMessage): Promise<JsonRead> {
  let text: string;
  try {
    text = await readBody(request);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    const message = `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`;
    return { ok: false, reply: { status: 413, body: errorBody("invalid_request_error", "body_too_large", message) } };
  }
  if (text.trim() === "") return { ok: true, body: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reply: invalidRequest("invalid_request", "The request body is not valid JSON.") };
  }
  if (!isJsonObject(parsed)) {
    return { ok: false, reply: invalidRequest("invalid_request", "The request body must be a JSON object.") };
  }
  return { ok: true, body: parsed };
}

function sendText(response: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    ...baseHeaders,
    "Content-Type": contentType,
    "Content-Length": String(Buffer.byteLength(body)),
    ...headers,
  });
  response.end(body);
}

function sendReply(response: ServerResponse, reply: Reply): void {
  sendText(response, reply.status, JSON_TYPE, JSON.stringify(reply.body), reply.headers);
}

function notFound(description: string): Reply {
  return { status: 404, body: errorBody("invalid_request_error", "route_not_found", `No route for ${description}.`) };
}

export async function startPaymentSandbox(options: PaymentSandboxOptions): Promise<PaymentSandbox> {
  if (options.secretKey === "") throw new Error("startPaymentSandbox: secretKey must not be empty");
  const allowedOrigins = new Set(options.allowedParentOrigins.map(normalizeOrigin));
  const secretDigest = sha256(`Bearer ${options.secretKey}`);
  const fingerprintKey = options.fingerprintKey ?? createHmac("sha256", options.secretKey).update("card-fingerprint").digest("hex");
  const store = new SandboxStore(options.now);
  const webhooks = new WebhookSender({ now: () => store.now(), retryDelaysMs: options.webhookRetryDelaysMs });
  if (options.webhookUrl) webhooks.setTarget({ url: options.webhookUrl, secret: options.webhookSecret ?? "" });
  let publicUrl = "";
  const hooks: ApiHooks = {
    challengeUrl: (authorizationId) => `${publicUrl}/3ds/${authorizationId}`,
    notify: (type, data) => void webhooks.send(type, data),
    slowCardDelayMs: options.slowCardDelayMs ?? DEFAULT_SLOW_CARD_DELAY_MS,
  };
  const apiRoutes = createApiRoutes(store, hooks);
  const wallet = createWallet({ publicUrl: () => publicUrl, allowedOrigins, store, fingerprintKey });
  const host = options.host ?? "127.0.0.1";
  const heldAnswers = new Set<() => void>();

  /** Waits `ms`, or less if the caller hangs up or the sandbox closes; true when the caller is still there. */
  function holdAnswer(response: ServerResponse, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer);
        heldAnswers.delete(release);
        response.off("close", release);
        resolve(!response.destroyed);
      };
      const timer = setTimeout(release, ms);
      heldAnswers.add(release);
      response.once("close", release);
    });
  }

  function isAuthorized(request: IncomingMessage): boolean {
    return timingSafeEqual(sha256(request.headers.authorization ?? ""), secretDigest);
  }

  function serveField(response: ServerResponse, query: URLSearchParams): void {
    const parentOrigin = query.get("origin") ?? "";
    if (!allowedOrigins.has(parentOrigin)) {
      const message = "The origin parameter must name an origin this sandbox is configured to trust.";
      sendReply(response, invalidRequest("origin_not_allowed", message));
      return;
    }
    const nonce = randomBytes(16).toString("base64");
    sendText(response, 200, "text/html; charset=utf-8", renderFieldPage({ nonce, parentOrigin }), {
      "Content-Security-Policy": fieldContentSecurityPolicy({ nonce, parentOrigin }),
    });
  }

  function serveChallenge(response: ServerResponse, authorizationId: string, query: URLSearchParams): void {
    const parentOrigin = query.get("origin") ?? "";
    if (!allowedOrigins.has(parentOrigin)) {
      const message = "The origin parameter must name an origin this sandbox is configured to trust.";
      sendReply(response, invalidRequest("origin_not_allowed", message));
      return;
    }
    const authorization = store.getAuthorization(authorizationId);
    if (!authorization) {
      sendReply(response, notFound(`3-D Secure challenge '${authorizationId}'`));
      return;
    }
    const nonce = randomBytes(16).toString("base64");
    sendText(response, 200, "text/html; charset=utf-8", renderChallengePage({ nonce, parentOrigin, authorization }), {
      "Content-Security-Policy": challengeContentSecurityPolicy({ nonce, parentOrigin }),
    });
  }

  /** The challenge page's answer. The unguessable authorisation id in the URL is the credential, as with a bank's page. */
  async function answerChallenge(request: IncomingMessage, authorizationId: string): Promise<Reply> {
    // A JSON body cannot be sent cross-site without a CORS preflight, which this server never grants.
    if (!(request.headers["content-type"] ?? "").startsWith("application/json")) {
      return { status: 415, body: errorBody("invalid_request_error", "unsupported_media_type", "Send the answer as application/json.") };
    }
    const read = await readJsonObject(request);
    if (!read.ok) return read.reply;
    const { result } = read.body;
    if (result !== "authenticated" && result !== "failed") {
      return invalidRequest("parameter_invalid", "result must be 'authenticated' or 'failed'.", { param: "result" });
    }
    const outcome = store.completeChallenge(authorizationId, result);
    if (outcome.kind === "not_found") return notFound(`3-D Secure challenge '${authorizationId}'`);
    const view = authorizationView(outcome.authorization, hooks);
    if (outcome.kind === "completed") {
      webhooks.send(outcome.authorization.status === "authorized" ? "authorization.succeeded" : "authorization.failed", { authorization: view });
    }
    return { status: 200, body: view };
  }

  async function createToken(request: IncomingMessage): Promise<Reply> {
    const read = await readJsonObject(request);
    if (!read.ok) return read.reply;
    const check = checkCard(read.body, new Date(store.now()), fingerprintKey);
    if (!check.ok) return { status: 400, body: errorBody("invalid_request_error", check.code, check.message) };
    const token = store.createToken(check.card, check.behaviour);
    return { status: 201, body: { id: token.id, card: token.card } };
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const pathMatches = apiRoutes.filter((candidate) => candidate.pattern.test(path));
    if (pathMatches.length === 0) return sendReply(response, notFound(path));
    if (!isAuthorized(request)) {
      const message = "Send the sandbox secret key as 'Authorization: Bearer <key>'.";
      return sendReply(response, {
        status: 401,
        body: errorBody("authentication_error", "unauthorized", message),
        headers: { "WWW-Authenticate": 'Bearer realm="payment-sandbox"' },
      });
    }
    const route = pathMatches.find((candidate) => candidate.method === request.method);
    if (!route) {
      const message = `${request.method} is not allowed on ${path}.`;
      return sendReply(response, {
        status: 405,
        body: errorBody("invalid_request_error", "method_not_allowed", message),
        headers: { Allow: pathMatches.map((candidate) => candidate.method).join(", ") },
      });
    }
    const params = route.pattern.exec(path)?.slice(1) ?? [];
    if (route.method === "GET") return sendReply(response, route.handle({ params, query, body: {} }));

    const key = request.headers["idempotency-key"];
    if (typeof key !== "string" || key === "" || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      const message = `POST requests need an Idempotency-Key header of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters.`;
      return sendReply(response, invalidRequest("idempotency_key_missing", message));
    }
    const read = await readJsonObject(request);
    if (!read.ok) return sendReply(response, read.reply);

    // Nothing below awaits, so two requests with one key cannot both miss the stored response.
    const fingerprint = sha256(canonicalJson(read.body)).toString("hex");
    const stored = store.findIdempotentResponse(path, key);
    if (stored && stored.fingerprint !== fingerprint) {
      const message = "This Idempotency-Key was already used with different parameters on this endpoint.";
      const body = errorBody("idempotency_error", "idempotency_key_reused", message);
      return sendReply(response, { status: 422, body });
    }
    if (stored) return sendText(response, stored.status, JSON_TYPE, stored.body, { "Idempotent-Replayed": "true" });

    const reply = route.handle({ params, query, body: read.body });
    const serialized = JSON.stringify(reply.body);
    if ("isExecuted" in reply) {
      store.rememberIdempotentResponse(path, key, fingerprint, { status: reply.status, body: serialized });
    }
    // The work is done and remembered; only the answer is late (a replay of the key answers at once).
    if (reply.delayMs !== undefined && !(await holdAnswer(response, reply.delayMs))) return;
    sendText(response, reply.status, JSON_TYPE, serialized, reply.headers);
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
    } else if (CHALLENGE_PATH.test(path) && request.method === "GET") {
      serveChallenge(response, CHALLENGE_PATH.exec(path)?.[1] ?? "", query);
    } else if (CHALLENGE_PATH.test(path) && request.method === "POST") {
      sendReply(response, await answerChallenge(request, CHALLENGE_PATH.exec(path)?.[1] ?? ""));
    } else if (path.startsWith(WALLET_PREFIX)) {
      const readJson = async () => {
        const read = await readJsonObject(request);
        return read.ok ? read : { ok: false as const, status: read.reply.status, body: read.reply.body };
      };
      const header = (name: string) => String(request.headers[name] ?? "");
      const reply = await wallet.handle({ method: request.method ?? "", path, query, contentType: header("content-type"), origin: header("origin"), readJson });
      sendText(response, reply.status, reply.contentType, reply.body, reply.headers);
    } else if (path.startsWith("/v1/") && path !== "/v1/tokens") {
      await handleApi(request, response, path, query);
    } else {
      sendReply(response, notFound(`${request.method} ${path}`));
    }
  }

  const server = createServer((request, response) => {
    route(request, response).catch(() => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const message = "The sandbox hit an unexpected error.";
      sendReply(response, { status: 500, body: errorBody("api_error", "internal_error", message) });
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
  const url = `http://${urlHost}:${port}`;
  const configuredPublicUrl = typeof options.publicUrl === "function" ? options.publicUrl(url) : (options.publicUrl ?? url);
  publicUrl = new URL(configuredPublicUrl).origin;
  let closing: Promise<void> | undefined;

  return {
    url,
    publicUrl,
    port,
    setWebhookTarget: (target, secret = "") => webhooks.setTarget(target === null ? null : { url: target, secret }),
    debugDump: () => store.snapshot(),
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        webhooks.close();
        for (const release of [...heldAnswers]) release();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      })),
  };
}
