// The one request pipeline for /trpc/<procedure>, speaking tRPC's HTTP wire format directly (GET ?input=
// or a JSON body in; {"result":{"data"}} / {"error"} out). Every way into a procedure passes the same steps,
// driven by the policy the procedure declares in its `.meta()` (packages/api/src/trpc.ts):
//
//   route → no batching → method → media type → Idempotency-Key present → body read to the end (size, deadline)
//   → JSON bounds (depth, string length) → per-client rate class and in-flight cap → admission (by class) → idempotency
//   → the procedure → one error mapper → one responder.
//
// Nothing recursive touches the input before its bounds are checked, and no admission slot is held by a
// client whose request has not fully arrived.
import type http from "node:http";
import { getTRPCErrorShape, type AnyTRPCProcedure, type AnyTRPCRouter, type TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { Kysely } from "kysely";
import { Idempotency, isAppError, type Database } from "@checkout/core";
import { toTransportError, type ProcedureMeta } from "../trpc.ts";
import type { Admission } from "./admission.ts";
import { discardBody, hasBody, readBody, type BodyLimits } from "./body-reader.ts";
import { parseBoundedJson, type JsonBounds } from "./bounded-json.ts";
import type { ClientLimits } from "./client-limits.ts";
import { limitKeyOf } from "./client-address.ts";
import { DATABASE_RETRY_AFTER_SECONDS } from "./database-unavailable.ts";
import { EdgeError, isEdgeError } from "./edge-error.ts";
import { createReadyBodies, type ContentEncoding } from "./ready-bodies.ts";
import { callProcedure } from "./procedure-call.ts";

export interface TrpcHandlerOptions<TContext> {
  router: AnyTRPCRouter;
  body: BodyLimits;
  json: JsonBounds;
  admission: Admission;
  clientLimits: ClientLimits;
  /** The client's address (socket, trusted proxy hop or viewer-address header). */
  clientAddressOf(req: http.IncomingMessage): string;
  /** The procedure's context, given the client address the pipeline resolved for its limits. */
  createContext(req: http.IncomingMessage, clientAddress: string): TContext;
  onError(input: { error: TRPCError; path: string; req: http.IncomingMessage }): void;
  /** Where idempotency records live (the writer). */
  db: Kysely<Database>;
}

/** Outcomes a retry with the same key should run again rather than replay. */
const TRANSIENT_APP_CODES = new Set(["CHECKOUT_IN_PROGRESS", "PAYMENT_UNAVAILABLE", "INTERNAL", "PAYMENT_ATTEMPTS_LOCKED", "RATE_LIMITED"]);
const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

interface Rendered {
  status: number;
  /** A string, or the shared bytes of a frozen result (ready-bodies.ts). */
  body: string | Buffer;
  /** Set when the body is compressed (ready-bodies.ts). */
  encoding?: ContentEncoding;
  appCode: string | null;
  headers: http.OutgoingHttpHeaders;
}

/** The procedure a path names, as an own property only (never `__proto__`, `constructor` …). */
function procedureAt(procedures: Record<string, AnyTRPCProcedure>, path: string): AnyTRPCProcedure | null {
  return Object.hasOwn(procedures, path) ? (procedures[path] ?? null) : null;
}

export function createTrpcHandler<TContext>(options: TrpcHandlerOptions<TContext>) {
  const { router } = options;
  const procedures = router._def.procedures as Record<string, AnyTRPCProcedure>;
  const config = router._def._config;
  const serialize = (value: unknown) => config.transformer.output.serialize(value) as unknown;
  const readyBodies = createReadyBodies(serialize);

  /** The one error responder's content: the error formatter's shape, the status, and the headers the error implies. */
  function renderError(req: http.IncomingMessage, path: string, type: "query" | "mutation" | "unknown", input: unknown, ctx: TContext | undefined, cause: unknown): Rendered {
    const error = toTransportError(cause);
    options.onError({ error, path, req });
    const shape = getTRPCErrorShape({ config, error, type, path, input, ctx }) as { data?: { appCode?: string; details?: { retryAfterSeconds?: unknown } | null } };
    const status = getHTTPStatusCodeFromError(error);
    const headers: http.OutgoingHttpHeaders = {};
    const edge = isEdgeError(error.cause) ? error.cause : null;
    const retryAfter = edge?.options.retryAfterSeconds ?? shape.data?.details?.retryAfterSeconds;
    if (typeof retryAfter === "number") headers["retry-after"] = String(retryAfter);
    else if (status === 503) headers["retry-after"] = String(DATABASE_RETRY_AFTER_SECONDS);
    else if (isAppError(error.cause) && error.cause.code === "IDEMPOTENCY_IN_PROGRESS") headers["retry-after"] = "1";
    if (edge?.options.allow) headers.allow = edge.options.allow;
    if (edge?.options.closeConnection) headers.connection = "close";
    return { status, body: JSON.stringify({ error: serialize(shape) }), appCode: shape.data?.appCode ?? null, headers };
  }

  function send(res: http.ServerResponse, rendered: Rendered): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(rendered.status, {
      ...rendered.headers,
      ...(rendered.encoding ? { "content-encoding": rendered.encoding, vary: "accept-encoding" } : {}),
      "content-type": "application/json",
      "content-length": Buffer.byteLength(rendered.body),
      "cache-control": "no-store",
    });
    res.end(rendered.body);
  }

  /** Runs the procedure and renders its wire response, success or error, without sending it. */
  async function render(req: http.IncomingMessage, procedure: AnyTRPCProcedure, path: string, type: "query" | "mutation", input: unknown, ctx: TContext): Promise<Rendered> {
    try {
      const data = await callProcedure(procedure, { ctx, type, path, rawInput: input });
      // Only a query's answer is compressed: a mutation's may be stored for idempotent replay, as text.
      return { status: 200, ...readyBodies.success(data, type === "query" ? req.headers["accept-encoding"] : undefined), appCode: null, headers: {} };
    } catch (cause) {
      return renderError(req, path, type, input, ctx, cause);
    }
  }

  async function renderIdempotent(
    req: http.IncomingMessage,
    procedure: AnyTRPCProcedure,
    path: string,
    input: unknown,
    ctx: TContext,
    scope: string,
    key: string,
  ): Promise<Rendered> {
    let isTransient = false;
    let headers: http.OutgoingHttpHeaders = {};
    const response = await Idempotency.run({
      db: options.db,
      scope,
      key,
      fingerprint: Idempotency.fingerprint(path, input),
      execute: async () => {
        const rendered = await render(req, procedure, path, "mutation", input, ctx);
        headers = rendered.headers;
        isTransient = rendered.status >= 500 || (rendered.appCode !== null && TRANSIENT_APP_CODES.has(rendered.appCode));
        return { status: rendered.status, body: rendered.body.toString() };
      },
      shouldStore: () => !isTransient,
    });
    return { status: response.status, body: response.body, appCode: null, headers: response.isReplay ? { "idempotent-replayed": "true" } : headers };
  }

  /** The checks that need no body: which procedure, how it was asked for, and what it requires up front. */
  function checkRequest(req: http.IncomingMessage, path: string, params: URLSearchParams): { procedure: AnyTRPCProcedure; type: "query" | "mutation"; meta: ProcedureMeta } {
    const unread = hasBody(req);
    for (const name of params.keys()) {
      if (name.toLowerCase() === "batch")
        throw new EdgeError("BATCHING_DISABLED", "Batched calls are not accepted; send each procedure as its own request", { closeConnection: unread });
    }
    if (path.includes(",")) throw new EdgeError("BATCHING_DISABLED", "Batched calls are not accepted; send each procedure as its own request", { closeConnection: unread });
    const procedure = procedureAt(procedures, path);
    const type = procedure?._def.type;
    if (!procedure || (type !== "query" && type !== "mutation")) throw new EdgeError("NOT_FOUND", `No procedure at /trpc/${path}`, { closeConnection: unread });
    const meta = (procedure._def.meta ?? { rateClass: "cart" }) as ProcedureMeta;
    const method = req.method ?? "GET";
    if (type === "mutation" && method !== "POST") {
      throw new EdgeError("METHOD_NOT_ALLOWED", `${path} is a mutation: send it as POST with its input as the JSON body`, { allow: "POST", closeConnection: unread });
    }
    if (type === "query" && method !== "GET" && method !== "POST") {
      throw new EdgeError("METHOD_NOT_ALLOWED", `${path} is a query: send it as POST with its input as the JSON body, or GET ?input=`, {
        allow: "GET, POST",
        closeConnection: unread,
      });
    }
    if (type === "query" && method === "GET" && meta.carriesCapability) {
      throw new EdgeError("METHOD_NOT_ALLOWED", `${path} carries a cart or order id, which must not travel in a URL: send it as POST with its input as the JSON body`, {
        allow: "POST",
        closeConnection: unread,
      });
    }
    if (method === "POST" && unread && !JSON_MEDIA_TYPE.test(req.headers["content-type"] ?? "")) {
      throw new EdgeError("UNSUPPORTED_MEDIA_TYPE", "Send the input as a JSON body with Content-Type: application/json", { closeConnection: true });
    }
    if (meta.idempotency && !validKeyOf(req)) {
      throw new EdgeError("IDEMPOTENCY_KEY_REQUIRED", `${path} needs an Idempotency-Key header: a new random value (e.g. a UUID) per attempt, reused when retrying that attempt`, {
        closeConnection: unread,
      });
    }
    return { procedure, type, meta };
  }

  async function readInput(req: http.IncomingMessage, params: URLSearchParams): Promise<unknown> {
    if (req.method === "GET") {
      const inputs = params.getAll("input");
      if (inputs.length > 1) throw new EdgeError("BAD_INPUT", "Give the input query parameter once");
      return inputs.length === 0 ? undefined : parseBoundedJson(inputs[0]!, options.json, "The input query parameter");
    }
    return parseBoundedJson(await readBody(req, options.body), options.json, "The request body");
  }

  /** `path` is the procedure path after /trpc/, `search` the query string without its `?`. */
  function handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, search: string): void {
    let type: "query" | "mutation" | "unknown" = "unknown";
    let input: unknown;
    // Only a POST's body is read; one announced with any other method is never read, so the connection closes after the answer.
    if (req.method !== "POST" && hasBody(req)) res.setHeader("connection", "close");
    let isBodyTouched = false;
    void (async () => {
      try {
        const params = new URLSearchParams(search);
        const checked = checkRequest(req, path, params);
        type = checked.type;
        isBodyTouched = true;
        input = await readInput(req, params);
        const address = options.clientAddressOf(req);
        const client = limitKeyOf(address);
        options.clientLimits.takeRate(client, checked.meta.rateClass);
        const release = options.clientLimits.enter(client);
        res.once("close", release);
        options.admission.admit(
          req,
          res,
          path,
          () => void execute(req, res, path, checked, input, address).catch((cause: unknown) => send(res, renderError(req, path, checked.type, input, undefined, cause))),
          checked.meta.admission ?? "shopper",
        );
      } catch (cause) {
        const rendered = renderError(req, path, type, input, undefined, cause);
        // Refused before its body was read: take the body in (within the same size and time limits) so the client
        // reads our answer rather than a reset from closing on its unread bytes; only a body that does not arrive
        // in time, or is too large, still closes the connection.
        if (rendered.headers.connection === "close" && !isBodyTouched && (await discardBody(req, options.body))) {
          delete rendered.headers.connection;
        }
        send(res, rendered);
      }
    })();
  }

  /** Answers with the one error responder: for refusals made outside the pipeline's own steps (admission's 503s). */
  function respondError(req: http.IncomingMessage, res: http.ServerResponse, path: string, cause: unknown): void {
    send(res, renderError(req, path, "unknown", undefined, undefined, cause));
  }

  return { handle, respondError };

  async function execute(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
    checked: ReturnType<typeof checkRequest>,
    input: unknown,
    address: string,
  ): Promise<void> {
    const ctx = options.createContext(req, address);
    try {
      const scope = checked.meta.idempotency?.scopeOf(input) ?? null;
      const key = validKeyOf(req);
      // As Stripe does: input that fails validation never ran, so it claims no key and stores nothing; the
      // procedure answers it with its usual 400, and the same key can carry the corrected request.
      const rendered =
        checked.meta.idempotency && scope !== null && key !== null && isValidInput(checked.procedure, input)
          ? await renderIdempotent(req, checked.procedure, path, input, ctx, scope, key)
          : await render(req, checked.procedure, path, checked.type, input, ctx);
      send(res, rendered);
    } catch (cause) {
      send(res, renderError(req, path, checked.type, input, ctx, cause));
    }
  }
}

/** Whether every input parser of the procedure accepts `input` (zod schemas; anything else is left to the procedure). */
function isValidInput(procedure: AnyTRPCProcedure, input: unknown): boolean {
  const parsers = (procedure._def as { inputs?: unknown[] }).inputs ?? [];
  return parsers.every((parser) => (parser as { safeParse?: (value: unknown) => { success: boolean } }).safeParse?.(input).success !== false);
}

function validKeyOf(req: http.IncomingMessage): string | null {
  const key = req.headers["idempotency-key"];
  return typeof key === "string" && key !== "" ? key : null;
}
