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

export interface TrpcHandlerOptions<TContext> {
  router: AnyTRPCRouter;
  maxBodyBytes: number;
  createContext(req: http.IncomingMessage): TContext;
  onError(input: { error: TRPCError; path: string; req: http.IncomingMessage }): void;
  /** The standard adapter, for every request this path does not take. */
  fallback: http.RequestListener;
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
    const payload = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), vary: "trpc-accept" });
    res.end(payload);
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
      fallback(req, res);
      return;
    }
    let input: unknown;
    let ctx: TContext | undefined;
    void (async () => {
      try {
        input = type === "query" ? queryInput(search) : parseJson(await readBody(req, options.maxBodyBytes));
        ctx = options.createContext(req);
        const data = await callTRPCProcedure({ router, path, getRawInput: async () => input, ctx, type, signal: undefined, batchIndex: 0 });
        send(res, 200, { result: { data: serialize(data) } });
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        options.onError({ error, path, req });
        const shape = getTRPCErrorShape({ config, error, type, path, input, ctx });
        if (error.code === "PAYLOAD_TOO_LARGE") res.setHeader("connection", "close");
        send(res, getHTTPStatusCodeFromError(error), { error: serialize(shape) });
      }
    })();
  };
}
