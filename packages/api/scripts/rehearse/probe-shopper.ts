// One shopper checking out again and again through the balancer during the rehearsal (and the failover drill, which
// also watches every request's answer), keeping the number of every order the service acknowledged, so that
// admin.invariants can confirm each exists exactly once.
export interface ProbeShopper {
  /** Stops after the checkout in progress; resolves with what it saw. */
  stop(): Promise<{ acknowledged: string[]; failures: string[] }>;
}

/** One API request the shopper made and what came of it: an HTTP answer, or none (timed out, or no connection). */
export type ShopperRequest =
  | { procedure: string; at: number; ms: number; status: number; retryAfter: string | null; appCode: string | null; httpStatusInBody: number | null; error?: undefined }
  | { procedure: string; at: number; ms: number; status: 0; error: "timeout" | "connection"; message: string };

export interface ProbeShopperOptions {
  /** Each request is abandoned after this long (default 15 s): a hang is counted as a timeout, not waited out. */
  timeoutMs?: number;
  /** Told about every API request, as it completes. */
  onRequest?: (request: ShopperRequest) => void;
}

async function call(options: ProbeShopperOptions & { target: string }, procedure: string, input: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const at = performance.now();
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${options.target}/trpc/${procedure}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    text = await response.text();
  } catch (error) {
    const isTimeout = error instanceof Error && error.name === "TimeoutError";
    const message = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ""}` : String(error);
    options.onRequest?.({ procedure, at, ms: performance.now() - at, status: 0, error: isTimeout ? "timeout" : "connection", message });
    throw error;
  }
  const isJson = response.headers.get("content-type")?.includes("json") ?? false;
  const body = (isJson ? JSON.parse(text) : {}) as { result?: { data?: Record<string, unknown> }; error?: { data?: { appCode?: string; httpStatus?: number } } };
  options.onRequest?.({
    procedure,
    at,
    ms: performance.now() - at,
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    appCode: body.error?.data?.appCode ?? null,
    httpStatusInBody: body.error?.data?.httpStatus ?? null,
  });
  if (!response.ok || !body.result?.data) throw new Error(`${procedure}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return body.result.data;
}

async function checkout(api: ProbeShopperOptions & { target: string }, paymentUrl: string): Promise<string> {
  const cart = await call(api, "cart.create", { currency: "USD" });
  const cartId = cart.id as string;
  await call(api, "cart.addLine", { cartId, sku: "MUG-SAN", quantity: 1 });
  await call(api, "checkout.setContact", { cartId, email: `probe-${cartId.slice(0, 8)}@example.com` });
  await call(api, "checkout.setShippingAddress", {
    cartId,
    address: { name: "Probe Shopper", line1: "500 Howard St", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" },
  });
  await call(api, "checkout.setShippingOption", { cartId, optionId: "standard" });
  const quote = await call(api, "checkout.quote", { cartId });
  const token = (await (
    await fetch(`${paymentUrl}/v1/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ number: "4242424242424242", expMonth: 12, expYear: 2035, cvc: "123" }),
    })
  ).json()) as { id: string };
  const order = await call(api, "checkout.placeOrder", { cartId, quoteId: quote.id, paymentToken: token.id }, { "idempotency-key": crypto.randomUUID() });
  const number = order.number ?? (order.order as Record<string, unknown> | undefined)?.number ?? order.orderNumber;
  if (typeof number !== "string" && typeof number !== "number") throw new Error(`placeOrder answered without an order number: ${JSON.stringify(order).slice(0, 200)}`);
  return String(number);
}

export function startProbeShopper(target: string, paymentUrl: string, options: ProbeShopperOptions = {}): ProbeShopper {
  const acknowledged: string[] = [];
  const failures: string[] = [];
  let isRunning = true;
  const running = (async () => {
    while (isRunning) {
      try {
        acknowledged.push(await checkout({ ...options, target }, paymentUrl));
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    async stop() {
      isRunning = false;
      await running;
      return { acknowledged, failures };
    },
  };
}
