// The API client: one plain HTTP POST per call to /trpc/<procedure> with the input as its JSON body (no batching;
// queries too, so a cart or order id never travels in a URL), answered in tRPC's wire format ({"result":{"data"}} or
// {"error"}). Typed by the API router's type only, like @trpc/client's own client, whose runtime (4 to 5 kB of brotli
// with the server helpers it pulls in) the checkout's first load no longer pays for.
import type { TRPCClient } from "@trpc/client";
import type { AppRouter } from "@checkout/api/router";

export type { AppRouter };

/** Per-call context: an idempotency key becomes the `Idempotency-Key` header of that request. */
export interface CallContext extends Record<string, unknown> {
  idempotencyKey?: string;
}

/** A call that failed: `data` is the API's typed error (appCode, details, issues), undefined when no answer came. */
export class ApiError extends Error {
  readonly data: unknown;
  constructor(message: string, data: unknown, cause?: unknown) {
    super(message, { cause });
    this.name = "ApiError";
    this.data = data;
  }
}

interface CallOptions {
  context?: CallContext;
  signal?: AbortSignal;
}

async function call(path: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (input !== undefined) headers["content-type"] = "application/json";
  if (options.context?.idempotencyKey) headers["idempotency-key"] = options.context.idempotencyKey;
  let response: Response;
  let body: { result?: { data?: unknown }; error?: { message?: unknown; data?: unknown } };
  try {
    response = await fetch(`/trpc/${path}`, {
      method: "POST",
      headers,
      ...(input === undefined ? {} : { body: JSON.stringify(input) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    body = await response.json();
  } catch (cause) {
    // No answer, or none we can read (a proxy's HTML page): the outcome is unknown.
    throw new ApiError("We could not reach the shop.", undefined, cause);
  }
  if (body?.error) throw new ApiError(typeof body.error.message === "string" ? body.error.message : "", body.error.data ?? {});
  if (!response.ok || !body?.result) throw new ApiError(`The shop answered ${response.status} without a result`, undefined);
  return body.result.data;
}

/** `trpc.cart.get.query(input)` → POST /trpc/cart.get. */
function procedures(path: readonly string[]): unknown {
  return new Proxy(() => {}, {
    get: (_target, key) => (typeof key === "string" && key !== "then" ? procedures([...path, key]) : undefined),
    apply: (_target, _this, [input, options]: [unknown, CallOptions | undefined]) => {
      const verb = path.at(-1);
      if (path.length < 2 || (verb !== "query" && verb !== "mutate")) throw new TypeError(`${path.join(".")} is not a procedure call`);
      return call(path.slice(0, -1).join("."), input, options);
    },
  });
}

export const trpc = procedures([]) as TRPCClient<AppRouter>;
