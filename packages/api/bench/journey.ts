// The checkout journey's cost per request, by procedure: the API pinned to a core of its own (as a Fargate vCPU would
// give it), the payment sandbox, PostgreSQL and the load in processes of their own on the other core.
//
// Each procedure is measured on its own, step by step, as `checkout-journey.yml`'s shoppers call it: every shopper
// takes step 1, then every shopper step 2, and so on. The API's and PostgreSQL's CPU over one step, divided by the calls
// in it, is that procedure's cost; the journey's cost per request is those costs weighted by how often the journey's
// scenarios call each procedure. (Interleaved, as the journey really runs, the same CPU cannot be told apart by
// procedure.) The same carts then check out as fast as they can, for placeOrder's throughput. Every measured shopper
// checks out, so each basket holds a check-out shopper's two items: one from the script's `sku` list, one from its
// `secondSku` list (the bench restocks first, so none is sold out).
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { processCpuSeconds } from "@checkout/bench-support";
import { queryUrl } from "./bench-data.ts";

/**
 * The journey's scenarios (tests/performance/checkout-journey.yml): weight, and the API procedures each calls in order
 * (the card token comes from the payment sandbox, not the API). A check-out shopper adds two items.
 */
export const JOURNEY_SCENARIOS = [
  { name: "browse", weight: 7, procedures: ["catalog.list", "catalog.get"] },
  { name: "fill a cart", weight: 2, procedures: ["cart.create", "cart.addLine", "cart.get"] },
  {
    name: "check out",
    weight: 1,
    procedures: [
      "cart.create",
      "cart.addLine",
      "cart.addLine",
      "checkout.setContact",
      "checkout.setShippingAddress",
      "checkout.setShippingOption",
      "checkout.quote",
      "checkout.placeOrder",
    ],
  },
] as const;

/** The SKUs the journey's shoppers buy, in turn (the script's `sku`): every shopper's first item. */
export const JOURNEY_SKUS = ["TEE-BLA-M", "MUG-SAN", "TOTE", "SOCK-M", "NOTE-A5"];
/** A check-out shopper's second item, in turn (the script's `secondSku`): never one of JOURNEY_SKUS. */
export const JOURNEY_SECOND_SKUS = ["SOCK-S", "SOCK-L", "MUG-SLA", "TEE-WHI-M", "TEE-BLU-L"];
const TEST_CARD = { number: "4242424242424242", expMonth: 12, expYear: 2035, cvc: "123" };

export interface ProcedureCost {
  procedure: string;
  calls: number;
  /** API CPU per call, ms (the API process alone, pinned to its own core). */
  apiCpuMs: number;
  /** PostgreSQL CPU per call, ms (all its processes), or null when not on this machine. */
  databaseCpuMs: number | null;
  /** Calls per second during the step (at `concurrency`). */
  callsPerSecond: number;
  /** How many of the journey's API requests are this procedure (0..1). */
  shareOfJourney: number;
}

export interface JourneyCost {
  shoppers: number;
  concurrency: number;
  procedures: ProcedureCost[];
  /** The journey's mix, weighted: API CPU per request, ms. */
  apiCpuMsPerRequest: number;
  databaseCpuMsPerRequest: number | null;
  /** What one API process could serve of the journey with a whole core: 1000 / apiCpuMsPerRequest. */
  requestsPerSecondPerCore: number;
  /** placeOrder as fast as the shoppers could check out (their carts quoted beforehand), orders per second. */
  placeOrderPerSecond: number;
}

/** How often each procedure is called per arrival of the journey, and its share of the journey's API requests. */
export function journeyMix(): Map<string, number> {
  const totalWeight = JOURNEY_SCENARIOS.reduce((sum, scenario) => sum + scenario.weight, 0);
  const perArrival = new Map<string, number>();
  for (const scenario of JOURNEY_SCENARIOS) {
    for (const procedure of scenario.procedures) perArrival.set(procedure, (perArrival.get(procedure) ?? 0) + scenario.weight / totalWeight);
  }
  const requests = [...perArrival.values()].reduce((sum, count) => sum + count, 0);
  return new Map([...perArrival].map(([procedure, count]) => [procedure, count / requests]));
}

const Envelope = z.object({ result: z.object({ data: z.unknown() }) });
const WithId = z.object({ id: z.string() });
const WithLines = z.object({ lines: z.array(z.object({ id: z.string() })) });
const Token = z.object({ id: z.string() });
const Order = z.object({ number: z.string() });

class Client {
  constructor(
    private readonly apiUrl: string,
    private readonly sandboxUrl: string,
  ) {}

  async query(procedure: string, input: unknown): Promise<unknown> {
    return this.answer(procedure, await fetch(queryUrl(this.apiUrl, procedure, input), { signal: AbortSignal.timeout(30_000) }));
  }

  async mutation(procedure: string, input: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    const response = await fetch(`${this.apiUrl}/trpc/${procedure}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(30_000),
    });
    return this.answer(procedure, response);
  }

  async cardToken(): Promise<string> {
    const response = await fetch(`${this.sandboxUrl}/v1/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(TEST_CARD),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`the sandbox's /v1/tokens answered ${response.status}: ${text.slice(0, 300)}`);
    return Token.parse(JSON.parse(text)).id;
  }

  private async answer(procedure: string, response: Response): Promise<unknown> {
    const text = await response.text();
    if (!response.ok) throw new Error(`${procedure} answered ${response.status}: ${text.slice(0, 300)}`);
    return Envelope.parse(JSON.parse(text)).result.data;
  }
}

interface Shopper {
  index: number;
  cartId: string;
  quoteId: string;
  paymentToken: string;
}

/** Runs `work` for every item, at most `concurrency` at a time. */
async function forEach<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(workers);
}

export async function measureJourney(input: {
  apiUrl: string;
  sandboxUrl: string;
  apiPid: number;
  databaseCpuSeconds: () => number | null;
  /** Shoppers per step; the browse and cart reads are called `readRepeats` times each as often (they cost little). */
  shoppers: number;
  /** Shoppers who go through every step first, unmeasured, so the measured ones meet a warmed-up process (JIT, pools). */
  warmupShoppers: number;
  readRepeats: number;
  concurrency: number;
  log: (message: string) => void;
}): Promise<JourneyCost> {
  const client = new Client(input.apiUrl, input.sandboxUrl);
  const mix = journeyMix();
  const costs: ProcedureCost[] = [];
  input.log(`  warm-up: ${input.warmupShoppers} shoppers through every step, not measured`);
  await play(
    Array.from({ length: input.warmupShoppers }, (_, index) => ({ index, cartId: "", quoteId: "", paymentToken: "" })),
    false,
  );
  await play(
    Array.from({ length: input.shoppers }, (_, index) => ({ index, cartId: "", quoteId: "", paymentToken: "" })),
    true,
  );

  let apiCpuMsPerRequest = 0;
  let databaseCpuMsPerRequest: number | null = 0;
  for (const cost of costs) {
    apiCpuMsPerRequest += cost.shareOfJourney * cost.apiCpuMs;
    databaseCpuMsPerRequest = databaseCpuMsPerRequest === null || cost.databaseCpuMs === null ? null : databaseCpuMsPerRequest + cost.shareOfJourney * cost.databaseCpuMs;
  }
  const placeOrder = costs.find((cost) => cost.procedure === "checkout.placeOrder");
  return {
    shoppers: input.shoppers,
    concurrency: input.concurrency,
    procedures: costs,
    apiCpuMsPerRequest,
    databaseCpuMsPerRequest,
    requestsPerSecondPerCore: 1000 / apiCpuMsPerRequest,
    placeOrderPerSecond: placeOrder?.callsPerSecond ?? 0,
  };

  /** Every step of the journey, every shopper taking it before the next; recorded in `costs` when `isMeasured`. */
  async function play(shoppers: Shopper[], isMeasured: boolean): Promise<void> {
    /** `callsEach`: the procedure's calls in one `call` (they are counted, and its CPU divided, by call). */
    async function step(procedure: string, repeats: number, call: (shopper: Shopper) => Promise<void>, callsEach = 1): Promise<void> {
      const items = Array.from({ length: repeats }, () => shoppers).flat();
      const calls = items.length * callsEach;
      const api0 = processCpuSeconds(input.apiPid);
      const db0 = input.databaseCpuSeconds();
      const started = performance.now();
      await forEach(items, input.concurrency, call);
      const seconds = (performance.now() - started) / 1000;
      const api1 = processCpuSeconds(input.apiPid);
      const db1 = input.databaseCpuSeconds();
      if (api0 === null || api1 === null) throw new Error("Could not read the API's CPU time from /proc");
      if (!isMeasured) return;
      const cost: ProcedureCost = {
        procedure,
        calls,
        apiCpuMs: ((api1 - api0) * 1000) / calls,
        databaseCpuMs: db0 === null || db1 === null ? null : ((db1 - db0) * 1000) / calls,
        callsPerSecond: calls / seconds,
        shareOfJourney: mix.get(procedure) ?? 0,
      };
      costs.push(cost);
      input.log(
        `  ${procedure}: ${cost.calls} calls, API ${cost.apiCpuMs.toFixed(3)} ms CPU/call, PostgreSQL ${cost.databaseCpuMs?.toFixed(3) ?? "?"} ms, ${Math.round(cost.callsPerSecond)} calls/s`,
      );
    }

    const reads = input.readRepeats;
    await step("catalog.list", reads, async () => void (await client.query("catalog.list", undefined)));
    await step("catalog.get", reads, async () => void (await client.query("catalog.get", { productId: "canvas-tote" })));
    await step("cart.create", 1, async (shopper) => {
      shopper.cartId = WithId.parse(await client.mutation("cart.create", { currency: "USD" })).id;
    });
    // A check-out shopper's two items, one after the other in the same cart: both calls are the step's.
    await step(
      "cart.addLine",
      1,
      async (shopper) => {
        for (const [at, skus] of [JOURNEY_SKUS, JOURNEY_SECOND_SKUS].entries()) {
          const sku = skus[shopper.index % skus.length];
          const cart = WithLines.parse(await client.mutation("cart.addLine", { cartId: shopper.cartId, sku, quantity: 1 }));
          if (cart.lines.length !== at + 1) throw new Error(`cart.addLine of ${sku} left ${cart.lines.length} lines`);
        }
      },
      2,
    );
    await step("cart.get", reads, async (shopper) => void (await client.mutation("cart.get", { cartId: shopper.cartId })));
    await step(
      "checkout.setContact",
      1,
      async (shopper) => void (await client.mutation("checkout.setContact", { cartId: shopper.cartId, email: `load-${shopper.index}@example.com` })),
    );
    await step("checkout.setShippingAddress", 1, async (shopper) => {
      const address = { name: "Load Tester", line1: "500 Howard St", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" };
      await client.mutation("checkout.setShippingAddress", { cartId: shopper.cartId, address });
    });
    await step("checkout.setShippingOption", 1, async (shopper) => void (await client.mutation("checkout.setShippingOption", { cartId: shopper.cartId, optionId: "standard" })));
    await step("checkout.quote", 1, async (shopper) => {
      shopper.quoteId = WithId.parse(await client.mutation("checkout.quote", { cartId: shopper.cartId })).id;
    });
    // The card is tokenised by the sandbox, as a shopper's browser would: not the API's work, so not in any step.
    await forEach(shoppers, input.concurrency, async (shopper) => {
      shopper.paymentToken = await client.cardToken();
    });
    await step("checkout.placeOrder", 1, async (shopper) => {
      const order = await client.mutation(
        "checkout.placeOrder",
        { cartId: shopper.cartId, quoteId: shopper.quoteId, paymentToken: shopper.paymentToken },
        { "idempotency-key": randomUUID() },
      );
      Order.parse(order);
    });
  }
}
