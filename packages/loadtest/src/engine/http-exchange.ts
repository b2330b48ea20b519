// One request from dispatch to settlement, how its sender hears the outcome, and the errors the pool raises itself.
import type { Connection } from "./http-connection.ts";
import type { EncodedRequest } from "./http-request.ts";

/** Gets the outcome of a request sent with HttpPool.send: exactly one of the two calls, once. */
export interface ResponseReceiver {
  onResponse(statusCode: number, body: string | undefined): void;
  onError(error: Error): void;
}

export interface HttpResponse {
  statusCode: number;
  /** The body as UTF-8 text, only when asked for. */
  body: string | undefined;
}

/** The errors the pool produces itself carry a code, like the socket errors it passes on (ECONNREFUSED …). */
export class HttpPoolError extends Error {
  override readonly name = "HttpPoolError";
  constructor(
    readonly code: "ETIMEDOUT" | "ECONNRESET" | "EPROTO" | "ECLOSED",
    message: string,
  ) {
    super(message);
  }
}

/** One request from dispatch to settlement; queued, then on a connection. */
export class Exchange {
  connection: Connection | null = null;
  isSettled = false;
  constructor(
    readonly request: EncodedRequest,
    readonly collectBody: boolean,
    readonly deadlineMs: number,
    readonly receiver: ResponseReceiver,
  ) {}
}
