// One shopper checking out again and again through the balancer during the rehearsal, keeping the number of
// every order the service acknowledged, so that admin.invariants can confirm each exists exactly once.
export interface ProbeShopper {
  /** Stops after the checkout in progress; resolves with what it saw. */
  stop(): Promise<{ acknowledged: string[]; failures: string[] }>;
}

async function call(target: string, procedure: string, input: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const response = await fetch(`${target}/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  const body = (response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : {}) as { result?: { data?: Record<string, unknown> } };
  if (!response.ok || !body.result?.data) throw new Error(`${procedure}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return body.result.data;
}

async function checkout(target: string, paymentUrl: string): Promise<string> {
  const cart = await call(target, "cart.create", { currency: "USD" });
  const cartId = cart.id as string;
  await call(target, "cart.addLine", { cartId, sku: "MUG-SAN", quantity: 1 });
  await call(target, "checkout.setContact", { cartId, email: `probe-${cartId.slice(0, 8)}@example.com` });
  await call(target, "checkout.setShippingAddress", {
    cartId,
    address: { name: "Probe Shopper", line1: "500 Howard St", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" },
  });
  await call(target, "checkout.setShippingOption", { cartId, optionId: "standard" });
  const quote = await call(target, "checkout.quote", { cartId });
  const token = (await (
    await fetch(`${paymentUrl}/v1/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ number: "4242424242424242", expMonth: 12, expYear: 2035, cvc: "123" }),
    })
  ).json()) as { id: string };
  const order = await call(
    target,
    "checkout.placeOrder",
    { cartId, quoteId: quote.id, paymentToken: token.id },
    { "idempotency-key": crypto.randomUUID() },
  );
  const number = order.number ?? (order.order as Record<string, unknown> | undefined)?.number ?? order.orderNumber;
  if (typeof number !== "string" && typeof number !== "number") throw new Error(`placeOrder answered without an order number: ${JSON.stringify(order).slice(0, 200)}`);
  return String(number);
}

export function startProbeShopper(target: string, paymentUrl: string): ProbeShopper {
  const acknowledged: string[] = [];
  const failures: string[] = [];
  let isRunning = true;
  const running = (async () => {
    while (isRunning) {
      try {
        acknowledged.push(await checkout(target, paymentUrl));
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
