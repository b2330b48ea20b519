// The one request-body reader: a size limit (declared and actual), and a deadline for the whole body, so
// a client that trickles bytes is answered 408 and cut off instead of holding anything of ours.
import type http from "node:http";
import { EdgeError } from "./edge-error.ts";

export interface BodyLimits {
  maxBytes: number;
  /** From the moment the handler starts reading; the body must be complete by then. */
  timeoutMs: number;
}

/** Whether the request says it has a body (so refusing it unread leaves bytes on the connection). */
export function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}

function tooLarge(maxBytes: number): EdgeError {
  return new EdgeError("PAYLOAD_TOO_LARGE", `The request body is larger than ${maxBytes} bytes`, { closeConnection: true, details: { maxBytes } });
}

/** Reads a body only to be rid of it; whether it all arrived within `limits` (the connection can then carry another request). */
export async function discardBody(req: http.IncomingMessage, limits: BodyLimits): Promise<boolean> {
  try {
    await readRawBody(req, limits);
    return true;
  } catch {
    return false;
  }
}

/** The body as text (UTF-8). */
export async function readBody(req: http.IncomingMessage, limits: BodyLimits): Promise<string> {
  return (await readRawBody(req, limits)).toString("utf8");
}

/** The body's bytes, exactly as sent (a webhook signature is computed over them). */
export function readRawBody(req: http.IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > limits.maxBytes) {
      reject(tooLarge(limits.maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let isSettled = false;
    const finish = (error: EdgeError | Error | null, body?: Buffer) => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
      if (error) reject(error);
      else resolve(body ?? Buffer.alloc(0));
    };
    const timer = setTimeout(() => {
      finish(
        new EdgeError("REQUEST_TIMEOUT", `The request body did not arrive within ${limits.timeoutMs} ms`, {
          closeConnection: true,
          details: { timeoutMs: limits.timeoutMs },
        }),
      );
    }, limits.timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) {
        finish(tooLarge(limits.maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(null, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    const onError = (error: Error) => finish(error);
    const onAborted = () => finish(new Error("The client closed the connection before its body was complete"));
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
    req.once("aborted", onAborted);
  });
}
