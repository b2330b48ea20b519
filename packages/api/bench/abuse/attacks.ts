// The attacks of the abuse bench, each run from its own loopback addresses for one window beside the shopper probe: slow
// bodies and headers, the socket cap, idempotency-key bypasses, hostile JSON, card testing, a /ready flood and spoofed
// addresses. The tools are the abuse suite's own (test/support/attack-tools.ts).
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import {
  callProcedure,
  dataOf,
  deepJson,
  flood,
  loopback,
  openSockets,
  randomIp,
  send,
  slowBodies,
  slowHeaders,
  type Answer,
  type FloodReport,
  type SendOptions,
  type SlowSocketOutcome,
  type Target,
} from "../../test/support/attack-tools.ts";

export interface AttackContext {
  target: Target;
  paymentUrl: string;
  /** The API's METRICS_TOKEN, for the counters an attack reads. */
  metricsToken: string;
  /** performance.now() at which the attack must stop. */
  until: number;
}

/** What the attacker got back, by "status appCode" (or how the connection ended). */
export type Outcomes = Record<string, number>;

export interface Attack {
  key: string;
  label: string;
  /** Set-up before the window opens (not measured); its result is handed to run. */
  prepare?(target: Target): Promise<unknown>;
  run(context: AttackContext, prepared?: unknown): Promise<Outcomes>;
}

function tally(outcomes: Outcomes, label: string, count = 1): void {
  outcomes[label] = (outcomes[label] ?? 0) + count;
}

function slowOutcome(outcome: SlowSocketOutcome): string {
  if (outcome.status !== null) return `${outcome.status} ${outcome.appCode ?? ""}`.trim();
  return outcome.isClosedByServer ? "closed without an answer" : "open when the window closed";
}

function floodOutcomes(report: FloodReport): Outcomes {
  return { ...report.answers };
}

/** `slots` sockets that each reopen as soon as the server ends one, until the window closes. */
async function sustainSlow(context: AttackContext, slots: string[], open: (localAddress: string, giveUpAfterMs: number) => Promise<SlowSocketOutcome[]>): Promise<Outcomes> {
  const outcomes: Outcomes = {};
  await Promise.all(
    slots.map(async (localAddress) => {
      while (context.until - performance.now() > 50) {
        for (const outcome of await open(localAddress, context.until - performance.now())) tally(outcomes, slowOutcome(outcome));
      }
    }),
  );
  return outcomes;
}

const slotsOver = (addresses: number[], perAddress: number) => addresses.flatMap((n) => Array.from({ length: perAddress }, () => loopback(n)));
const unknownOrder = () => ({ cartId: randomUUID(), quoteId: randomUUID(), paymentToken: `tok_${randomUUID().replaceAll("-", "")}` });
const jsonPost = (requestPath: string, body: string | string[], headers: Record<string, string> = {}): SendOptions => ({
  method: "POST",
  path: requestPath,
  headers: { "content-type": "application/json", ...(typeof body === "string" ? { "content-length": String(Buffer.byteLength(body)) } : {}), ...headers },
  body,
});

const bypassRequests: (() => SendOptions)[] = [
  () => jsonPost("/trpc/checkout.placeOrder", JSON.stringify(unknownOrder())),
  () => jsonPost("/trpc/checkout.placeOrder", JSON.stringify(unknownOrder()), { "trpc-accept": "application/json" }),
  () => jsonPost("/trpc/checkout.placeOrder?%62atch=1", JSON.stringify({ 0: unknownOrder() }), { "idempotency-key": randomUUID() }),
  () => jsonPost("/trpc/checkout.placeOrder,checkout.placeOrder?batch=1", JSON.stringify({ 0: unknownOrder(), 1: unknownOrder() }), { "idempotency-key": randomUUID() }),
  () => ({ path: `/trpc/checkout.placeOrder?input=${encodeURIComponent(JSON.stringify(unknownOrder()))}`, headers: { "idempotency-key": randomUUID() } }),
  () => jsonPost("/trpc/checkout.placeOrder", JSON.stringify(unknownOrder()), { "content-type": "text/plain" }),
  () =>
    jsonPost(
      `/trpc/${Array.from({ length: 1000 }, () => "cart.create").join(",")}?batch=1`,
      JSON.stringify(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [i, { currency: "USD" }]))),
    ),
];

const sixtyKb = "x".repeat(60 * 1024);
const hostileRequests: (() => SendOptions)[] = [
  () => jsonPost("/trpc/checkout.placeOrder", deepJson(30_000), { "idempotency-key": randomUUID() }),
  () => jsonPost("/trpc/checkout.setContact", JSON.stringify({ cartId: randomUUID(), email: sixtyKb })),
  () =>
    jsonPost(
      "/trpc/cart.create",
      Array.from({ length: 64 }, () => sixtyKb.slice(0, 16 * 1024)),
    ),
  () => ({ path: `/trpc/catalog.list?input=${encodeURIComponent(deepJson(2000))}` }),
];

async function tokenize(paymentUrl: string, number: string): Promise<string> {
  const response = await fetch(`${paymentUrl}/v1/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ number, expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" }),
  });
  return ((await response.json()) as { id: string }).id;
}

/** A cart ready to be ordered, set up from `localAddress` as its shopper would. */
async function quotedCart(target: Target, localAddress: string): Promise<{ cartId: string; quoteId: string }> {
  const call = async <T>(procedure: string, input: unknown) => dataOf<T>(await callProcedure(target, procedure, input, { localAddress }), procedure);
  const { id: cartId } = await call<{ id: string }>("cart.create", { currency: "USD" });
  await call("cart.addLine", { cartId, sku: "MUG-SAN", quantity: 1 });
  await call("checkout.setContact", { cartId, email: `tester-${cartId.slice(0, 8)}@example.com` });
  await call("checkout.setShippingAddress", {
    cartId,
    address: { name: "Card Tester", line1: "500 Howard St", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" },
  });
  await call("checkout.setShippingOption", { cartId, optionId: "standard" });
  const { id: quoteId } = await call<{ id: string }>("checkout.quote", { cartId });
  return { cartId, quoteId };
}

export const ATTACKS: Attack[] = [
  {
    key: "slow-bodies",
    label: "200 sockets (4 addresses × 50) send headers and `Content-Length: 1000`, then a body byte every 2 s, reconnecting when cut off",
    run: (context) =>
      sustainSlow(context, slotsOver([10, 11, 12, 13], 50), (localAddress, giveUpAfterMs) =>
        slowBodies({ target: context.target, path: "/trpc/cart.addLine", contentLength: 1000, everyMs: 2000, giveUpAfterMs, sockets: [{ localAddress, count: 1 }] }),
      ),
  },
  {
    key: "slow-headers",
    label: "200 sockets (4 addresses × 50) send a request line, then a header line every 2 s, never the end of the headers, reconnecting when cut off",
    run: (context) =>
      sustainSlow(context, slotsOver([14, 15, 16, 17], 50), (localAddress, giveUpAfterMs) =>
        slowHeaders({ target: context.target, path: "/trpc/cart.create", everyMs: 2000, giveUpAfterMs, sockets: [{ localAddress, count: 1 }] }),
      ),
  },
  {
    key: "connections",
    label: "one address opens 500 idle sockets at a time (the cap is 64), drops them and opens them again",
    run: async (context) => {
      const outcomes: Outcomes = {};
      while (context.until - performance.now() > 200) {
        const held = await openSockets(context.target, loopback(18), 500);
        await delay(Math.min(500, Math.max(0, context.until - performance.now())));
        tally(outcomes, "closed at once", held.closedCount());
        tally(outcomes, "held open", held.sockets.length - held.closedCount());
        held.destroy();
      }
      return outcomes;
    },
  },
  {
    key: "bypass",
    label:
      "16 clients (8 addresses) in closed loops: placeOrder without a key, with `trpc-accept`, batched (`%62atch`, comma paths), by GET, as text/plain, and a 1,000-way `cart.create` batch",
    run: async (context) =>
      floodOutcomes(
        await flood(context.target, {
          request: (i) => bypassRequests[i % bypassRequests.length]!(),
          localAddresses: [20, 21, 22, 23, 24, 25, 26, 27].map(loopback),
          concurrency: 16,
          until: context.until,
        }),
      ),
  },
  {
    key: "hostile-json",
    label: "8 clients (8 addresses) in closed loops: 60 KB bodies nested 30,000 deep, 60 KB strings, 1 MB chunked bodies, a 2,000-deep `?input=`",
    run: async (context) =>
      floodOutcomes(
        await flood(context.target, {
          request: (i) => hostileRequests[i % hostileRequests.length]!(),
          localAddresses: [30, 31, 32, 33, 34, 35, 36, 37].map(loopback),
          concurrency: 8,
          until: context.until,
        }),
      ),
  },
  {
    key: "card-testing",
    label: "one address, 4 quoted carts, placeOrder again and again with fresh tokens for declining cards",
    prepare: (target) => Promise.all(Array.from({ length: 4 }, () => quotedCart(target, loopback(40)))),
    run: async (context, prepared) => {
      const attacker = loopback(40);
      const carts = prepared as { cartId: string; quoteId: string }[];
      const outcomes: Outcomes = {};
      let attempt = 0;
      await Promise.all(
        carts.map(async (cart) => {
          while (performance.now() < context.until) {
            attempt += 1;
            const card = attempt % 2 === 0 ? "4000000000000002" : "4000000000009995";
            const paymentToken = await tokenize(context.paymentUrl, card);
            const answer = await callProcedure(
              context.target,
              "checkout.placeOrder",
              { ...cart, paymentToken },
              { headers: { "idempotency-key": randomUUID() }, localAddress: attacker },
            );
            tally(outcomes, `${answer.status} ${answer.appCode ?? ""}`.trim());
          }
        }),
      );
      return outcomes;
    },
  },
  {
    key: "ready-flood",
    label: "400 clients (8 addresses × 50) in closed loops on `/ready`",
    run: async (context) => {
      const before = await readyChecks(context.target, context.metricsToken);
      const report = await flood(context.target, {
        request: () => ({ path: "/ready" }),
        localAddresses: [50, 51, 52, 53, 54, 55, 56, 57].map(loopback),
        concurrency: 400,
        until: context.until,
      });
      const outcomes = floodOutcomes(report);
      const after = await readyChecks(context.target, context.metricsToken);
      if (before !== null && after !== null) tally(outcomes, "database checks run", after - before);
      return outcomes;
    },
  },
  {
    key: "spoofed-xff",
    label: "one address, 16 closed loops of `cart.create`, each with a random `X-Forwarded-For` and viewer address",
    run: async (context) =>
      floodOutcomes(
        await flood(context.target, {
          request: () => ({
            ...jsonPost("/trpc/cart.create", JSON.stringify({ currency: "USD" })),
            headers: {
              "content-type": "application/json",
              "x-forwarded-for": `${randomIp()}, ${randomIp()}`,
              "cloudfront-viewer-address": `${randomIp()}:443`,
            },
          }),
          localAddresses: [loopback(60)],
          concurrency: 16,
          until: context.until,
        }),
      ),
  },
];

/** How many times /ready has asked the database so far (the API's ready_database_checks_total), or null when unknown. */
async function readyChecks(target: Target, metricsToken: string): Promise<number | null> {
  const answer: Answer = await send(target, { path: "/metrics", headers: { authorization: `Bearer ${metricsToken}` } });
  const match = /^ready_database_checks_total (\d+)$/m.exec(answer.text);
  return match ? Number(match[1]) : null;
}
