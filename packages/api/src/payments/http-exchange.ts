// One HTTP request and its whole answer as text, over kept-alive connections, with a deadline for the whole exchange.
// The payment provider is called twice per order; `fetch` (undici behind WHATWG streams) cost more CPU per call than
// the rest of the provider client together, and node:http with a keep-alive agent does the same exchange.
import http from "node:http";
import https from "node:https";

const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 64 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/** The exchange did not finish within its deadline (connecting, sending and reading the whole answer). */
export class ExchangeTimeoutError extends Error {
  override readonly name = "TimeoutError";
}

export interface ExchangeRequest {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export function exchange(url: string, request: ExchangeRequest): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const isHttps = target.protocol === "https:";
  if (!isHttps && target.protocol !== "http:") return Promise.reject(new Error(`Unsupported protocol ${target.protocol}`));
  const headers: http.OutgoingHttpHeaders = { ...request.headers };
  if (request.body !== undefined) headers["Content-Length"] = Buffer.byteLength(request.body);
  return new Promise((resolve, reject) => {
    const outgoing = (isHttps ? https : http).request(target, { method: request.method, headers, agent: agents[isHttps ? "https:" : "http:"] }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        clearTimeout(deadline);
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
      });
      response.on("error", fail);
    });
    const deadline = setTimeout(() => outgoing.destroy(new ExchangeTimeoutError(`No whole answer within ${request.timeoutMs} ms`)), request.timeoutMs);
    function fail(error: Error) {
      clearTimeout(deadline);
      reject(error);
    }
    outgoing.on("error", fail);
    outgoing.end(request.body);
  });
}
