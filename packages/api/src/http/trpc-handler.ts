// A lean path for single tRPC calls over node:http, speaking tRPC's HTTP wire format directly
// (GET ?input= for queries, a JSON body for mutations, {"result":{"data"}} / {"error"} replies).
// The standalone adapter converts every Node request into a Fetch Request and back; the profile in
// docs/BENCHMARKS.md showed that as a large share of each call. Anything this path does not handle
// (batches, streaming, unknown paths, wrong methods) goes to the standard adapter unchanged.
import type http from "node:http";
import {
  callTRPCProcedure,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  TRPCError,
  type AnyTRPCProcedure,
  type AnyTRPCRouter,
} from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { Kysely } from "kysely";
import { AppError, Idempotency, isAppError, type Database } from "@checkout/core";
import { transportCodeOf } from "../trpc.ts";
import { DATABASE_RETRY_AFTER_SECONDS, databaseUnavailableError, isDatabaseUnavailable } from "./database-unavailable.ts";

export interface TrpcHandlerOptions<TContext> {
  router: AnyTRPCRouter;
  maxBodyBytes: number;
  createContext(req: http.IncomingMessage): TContext;
  onError(input: { error: TRPCError; path: string; req: http.IncomingMessage }): void;
  /** The standard adapter, for every request this path does not take. */
  fallback: http.RequestListener;
  /**
   * Procedures that require an Idempotency-Key header, each with how to scope its keys from its
   * input (null: the input is invalid, so the procedure's own validation answers).
   */
  idempotent: { db: Kysely<Database>; scopes: Record<string, (input: unknown) => string | null> };
}

/** Outcomes a retry with the same key should run again rather than replay. */
const TRANSIENT_APP_CODES = new Set(["CHECKOUT_IN_PROGRESS", "PAYMENT_UNAVAILABLE", "INTERNAL"]);

function toTrpcError(cause: unknown): TRPCError {
  if (isAppError(cause)) return new TRPCError({ code: transportCodeOf(cause.code), message: cause.message, cause });
  if (isDatabaseUnavailable(cause)) return databaseUnavailableError(cause);
  return getTRPCErrorFromUnknown(cause);
}

function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > maxBytes) {
      reject(new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `The request body is larger than ${maxBytes} bytes` }));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners("data");
        reject(new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `The request body is larger than ${maxBytes} bytes` }));
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
  });
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new TRPCError({ code: "PARSE_ERROR", message: "The request body is not valid JSON", cause });
  }
}

function queryInput(search: string): unknown {
  if (search === "") return undefined;
  const raw = new URLSearchParams(search).get("input");
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw);
  } catch (cause) {
    throw new TRPCError({ code: "PARSE_ERROR", message: "The input query parameter is not valid JSON", cause });
  }
}

export function createTrpcHandler<TContext>(options: TrpcHandlerOptions<TContext>) {
  const { router, fallback } = options;
  const procedures = router._def.procedures as Record<string, AnyTRPCProcedure | undefined>;
  const config = router._def._config;
  const serialize = (value: unknown) => config.transformer.output.serialize(value) as unknown;

  function send(res: http.ServerResponse, status: number, body: unknown): void {
    sendText(res, status, JSON.stringify(body));
  }

  function sendText(res: http.ServerResponse, status: number, payload: string): void {
    // Every 503 here is transient (database or payment processor unreachable): tell the client when to retry.
    if (status === 503 && !res.hasHeader("retry-after")) res.setHeader("retry-after", String(DATABASE_RETRY_AFTER_SECONDS));
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), vary: "trpc-accept" });
    res.end(payload);
  }

  /** Runs the procedure and renders its wire response, success or error, without sending it. */
  async function render(req: http.IncomingMessage, path: string, type: "query" | "mutation", input: unknown, ctx: TContext) {
    try {
      const data = await callTRPCProcedure({ router, path, getRawInput: async () => input, ctx, type, signal: undefined, batchIndex: 0 });
      return { status: 200, body: JSON.stringify({ result: { data: serialize(data) } }), appCode: null as string | null };
    } catch (cause) {
      const error = toTrpcError(cause);
      options.onError({ error, path, req });
      const shape = getTRPCErrorShape({ config, error, type, path, input, ctx }) as { data?: { appCode?: string } };
      return { status: getHTTPStatusCodeFromError(error), body: JSON.stringify({ error: serialize(shape) }), appCode: shape.data?.appCode ?? null };
    }
  }

  async function runIdempotent(req: http.IncomingMessage, res: http.ServerResponse, path: string, input: unknown, ctx: TContext, scope: string) {
    const key = req.headers["idempotency-key"];
    if (typeof key !== "string" || key === "") {
      throw new AppError("IDEMPOTENCY_KEY_REQUIRED", `${path} needs an Idempotency-Key header: a new random value (e.g. a UUID) per attempt, reused when retrying that attempt`);
    }
    let isTransient = false;
    const response = await Idempotency.run({
      db: options.idempotent.db,
      scope,
      key,
      fingerprint: Idempotency.fingerprint(path, input),
      execute: async () => {
        const rendered = await render(req, path, "mutation", input, ctx);
        isTransient = rendered.status >= 500 || (rendered.appCode !== null && TRANSIENT_APP_CODES.has(rendered.appCode));
        return { status: rendered.status, body: rendered.body };
      },
      shouldStore: () => !isTransient,
    });
    if (response.isReplay) res.setHeader("idempotent-replayed", "true");
    sendText(res, response.status, response.body);
  }

  /** `path` is the procedure path after /trpc/, `search` the query string without its `?`. */
  return function handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, search: string): void {
    const procedure = procedures[path];
    const type = procedure?._def.type;
    const isLeanCall =
      procedure !== undefined &&
      ((type === "query" && req.method === "GET") || (type === "mutation" && req.method === "POST")) &&
      !search.includes("batch=") &&
      req.headers["trpc-accept"] === undefined;
    if (!isLeanCall || !type) {
      if (path.split(",").some((name) => name in options.idempotent.scopes) && search.includes("batch=")) {
        send(res, 400, { error: { message: "Idempotent procedures cannot be batched; send them as single calls", code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400, appCode: "BAD_INPUT", path } } });
        return;
      }
      fallback(req, res);
      return;
    }
    let input: unknown;
    let ctx: TContext | undefined;
    void (async () => {
      try {
        input = type === "query" ? queryInput(search) : parseJson(await readBody(req, options.maxBodyBytes));
        ctx = options.createContext(req);
        const scopeOf = options.idempotent.scopes[path];
        const scope = scopeOf ? scopeOf(input) : null;
        if (scopeOf && scope !== null && type === "mutation") {
          await runIdempotent(req, res, path, input, ctx, scope);
          return;
        }
        const rendered = await render(req, path, type, input, ctx);
        sendText(res, rendered.status, rendered.body);
      } catch (cause) {
        const error = toTrpcError(cause);
        options.onError({ error, path, req });
        const shape = getTRPCErrorShape({ config, error, type, path, input, ctx });
        if (error.code === "PAYLOAD_TOO_LARGE") res.setHeader("connection", "close");
        if (isAppError(cause) && cause.code === "IDEMPOTENCY_IN_PROGRESS") res.setHeader("retry-after", "1");
        send(res, getHTTPStatusCodeFromError(error), { error: serialize(shape) });
      }
    })();
  };
}
