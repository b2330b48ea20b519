// Hostile and malformed input gets a typed 4xx with an actionable message; never a 500, never a partial write.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARDS, readyCart, startTestApp, type TestApp } from "./support/app.ts";
import { stockOf } from "./support/stock.ts";

let t: TestApp;
let cartId: string;
beforeAll(async () => {
  t = await startTestApp();
  cartId = (await t.client.cart.create.mutate({})).id;
});
afterAll(async () => {
  await t?.close();
});

interface WireError {
  error: { message: string; code: number; data: { httpStatus: number; appCode: string; code: string; issues?: { path: string; message: string }[] } };
}

async function call(procedure: string, input: unknown, options: { method?: "GET" | "POST"; rawBody?: string } = {}) {
  const method = options.method ?? "POST";
  const url = method === "GET" ? `${t.app.url}/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}` : `${t.app.url}/trpc/${procedure}`;
  const response = await fetch(url, {
    method,
    headers: method === "POST" ? { "content-type": "application/json", "idempotency-key": randomUUID() } : {},
    body: method === "POST" ? (options.rawBody ?? JSON.stringify(input)) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as WireError };
}

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ["cart", "cart_line", "quote", "order", "order_line", "payment", "audit_log"] as const) {
    const row = await t.database.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  const stock = await t.database.db
    .selectFrom("inventory")
    .select((eb) => eb.fn.sum<string>("available").as("n"))
    .executeTakeFirstOrThrow();
  counts.stock = Number(stock.n);
  return counts;
}

const megabyte = "x".repeat(1024 * 1024);

const hostile: [string, string, () => unknown, number, RegExp][] = [
  ["a string quantity", "cart.addLine", () => ({ cartId, sku: "TEE-BLA-M", quantity: "2" }), 400, /quantity: Quantity must be a number/],
  ["a negative quantity", "cart.addLine", () => ({ cartId, sku: "TEE-BLA-M", quantity: -1 }), 400, /at least 1/],
  ["a huge quantity", "cart.addLine", () => ({ cartId, sku: "TEE-BLA-M", quantity: 1e12 }), 400, /at most 99/],
  ["a fractional quantity", "cart.addLine", () => ({ cartId, sku: "TEE-BLA-M", quantity: 1.5 }), 400, /whole number/],
  ["an unknown SKU", "cart.addLine", () => ({ cartId, sku: "NOPE-123", quantity: 1 }), 404, /No product variant with SKU "NOPE-123"/],
  ["a client-supplied price", "cart.addLine", () => ({ cartId, sku: "TEE-BLA-M", quantity: 1, price: 1 }), 400, /Unrecognized key.*price/],
  ["another shopper's (unknown) cart id", "cart.addLine", () => ({ cartId: randomUUID(), sku: "TEE-BLA-M", quantity: 1 }), 404, /cart does not exist/],
  ["a cart id that is not a UUID", "cart.get", () => ({ cartId: "1 OR 1=1" }), 400, /cartId: Expected an id/],
  ["a missing input", "cart.addLine", () => undefined, 400, /Invalid input/],
  ["an array as input", "checkout.setContact", () => [1, 2], 400, /Invalid input/],
  ["a bad email", "checkout.setContact", () => ({ cartId, email: "nobody" }), 400, /valid email address/],
  ["a 1 MB email", "checkout.setContact", () => ({ cartId, email: megabyte }), 413, /./],
  [
    "a bad postcode",
    "checkout.setShippingAddress",
    () => ({ cartId, address: { name: "A", line1: "B", city: "C", postalCode: "ABC", country: "DE" } }),
    400,
    /valid Germany postcode/,
  ],
  ["an unsupported country", "checkout.setShippingAddress", () => ({ cartId, address: { name: "A", line1: "B", city: "C", postalCode: "1", country: "ZZ" } }), 400, /We ship to/],
  ["an unknown shipping option", "checkout.setShippingOption", () => ({ cartId, optionId: "teleport" }), 400, /standard or express/],
  ["a made-up payment token", "checkout.placeOrder", () => ({ cartId, quoteId: randomUUID(), paymentToken: "4242424242424242" }), 400, /payment token/],
  ["a client-supplied total", "checkout.placeOrder", () => ({ cartId, quoteId: randomUUID(), paymentToken: "tok_abc", total: 1 }), 400, /Unrecognized key.*total/],
  ["an unknown quote", "checkout.placeOrder", () => ({ cartId, quoteId: randomUUID(), paymentToken: "tok_abc" }), 404, /quote does not belong/],
  ["an unknown order", "order.get", () => ({ orderId: randomUUID() }), 404, /No order/],
];

describe("procedures under hostile input", () => {
  it.each(hostile)("answer %s with a typed 4xx", async (_name, procedure, input, status, message) => {
    const before = await rowCounts();
    const { status: actual, body } = await call(procedure, input());
    expect(actual).toBe(status);
    expect(body.error.data.httpStatus).toBe(status);
    expect(body.error.message).toMatch(message);
    expect(JSON.stringify(body)).not.toMatch(/stack|at .*\.ts:\d+/);
    expect(await rowCounts()).toEqual(before);
  });

  it("answers malformed JSON with 400", async () => {
    const { status, body } = await call("cart.addLine", null, { rawBody: "{not json" });
    expect(status).toBe(400);
    expect(body.error.data.appCode).toBe("BAD_INPUT");
    expect(body.error.message).toMatch(/^The request body is not valid JSON/);
  });

  it("refuses batched calls, which the web client never sends, with a typed 400", async () => {
    const input = encodeURIComponent(JSON.stringify({ 0: { productId: "canvas-tote" }, 1: { productId: "nope" } }));
    const response = await fetch(`${t.app.url}/trpc/catalog.get,catalog.get?batch=1&input=${input}`);
    const body = (await response.json()) as WireError;
    expect(response.status).toBe(400);
    expect(body.error.data.appCode).toBe("BATCHING_DISABLED");
  });

  it("answers an unknown procedure with 404, a mutation sent as GET with 405, and takes a query as POST or GET", async () => {
    expect((await call("cart.explode", {})).body.error.data.appCode).toBe("NOT_FOUND");
    const mutationByGet = await call("cart.create", {}, { method: "GET" });
    expect(mutationByGet.status).toBe(405);
    expect(mutationByGet.body.error.data.appCode).toBe("METHOD_NOT_ALLOWED");
    expect((await call("catalog.list", {}, { method: "POST" })).status).toBe(200);
    expect((await call("catalog.list", {}, { method: "GET" })).status).toBe(200);
  });

  it("pages the catalogue with its cursor, and answers a forged, foreign or malformed cursor with a typed 400", async () => {
    const first = await call("catalog.list", { currency: "USD", limit: 2 }, { method: "GET" });
    expect(first.status).toBe(200);
    const { products, nextCursor } = (first.body as unknown as { result: { data: { products: { id: string }[]; nextCursor: string } } }).result.data;
    expect(products).toHaveLength(2);
    const second = await call("catalog.list", { currency: "USD", limit: 2, cursor: nextCursor }, { method: "GET" });
    expect(second.status).toBe(200);
    const forged = Buffer.from(JSON.stringify([1, "everyday-tee", "AAAAAAAAAAAAAAAA"])).toString("base64url");
    for (const input of [
      { currency: "USD", cursor: forged },
      { currency: "USD", cursor: Buffer.from("{").toString("base64url") },
      { currency: "EUR", limit: 2, cursor: nextCursor },
      { currency: "USD", cursor: "not a cursor!" },
      { currency: "USD", limit: 0 },
      { currency: "USD", limit: 101 },
      { currency: "USD", q: "ab" },
      { currency: "USD", category: "%" },
    ]) {
      const answer = await call("catalog.list", input, { method: "GET" });
      expect(answer.status, JSON.stringify(input)).toBe(400);
      expect(answer.body.error.data.appCode).toBe("BAD_INPUT");
    }
  });

  it("refuses a query that carries a cart or order id in its URL, and takes it as POST", async () => {
    for (const [procedure, input] of [
      ["cart.get", { cartId }],
      ["order.get", { orderId: randomUUID() }],
      ["checkout.listShippingOptions", { cartId }],
    ] as const) {
      const byGet = await call(procedure, input, { method: "GET" });
      expect(byGet.status, procedure).toBe(405);
      expect(byGet.body.error.data.appCode).toBe("METHOD_NOT_ALLOWED");
      expect(byGet.body.error.message).toMatch(/must not travel in a URL/);
    }
    expect((await call("cart.get", { cartId })).status).toBe(200);
  });

  it("refuses JSON nested deeper than MAX_JSON_DEPTH or holding a string over MAX_JSON_STRING_LENGTH, in a body or a URL", async () => {
    const deep = `${"[".repeat(30_000)}${"]".repeat(30_000)}`;
    const long = JSON.stringify({ cartId, email: "x".repeat(60_000) });
    const before = await rowCounts();
    for (const [rawBody, appCode] of [
      [deep, "JSON_TOO_DEEP"],
      [long, "JSON_STRING_TOO_LONG"],
    ] as const) {
      const { status, body } = await call("checkout.setContact", null, { rawBody });
      expect(status).toBe(400);
      expect(body.error.data.appCode).toBe(appCode);
    }
    const byUrl = await fetch(`${t.app.url}/trpc/catalog.get?input=${encodeURIComponent(`{"productId":${"[".repeat(20)}${"]".repeat(20)}}`)}`);
    expect(byUrl.status).toBe(400);
    expect(((await byUrl.json()) as WireError).error.data.appCode).toBe("JSON_TOO_DEEP");
    expect(await rowCounts()).toEqual(before);
  });

  it("refuses a body that is not declared as JSON with 415 (a cross-site form cannot post one)", async () => {
    const response = await fetch(`${t.app.url}/trpc/cart.create`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    expect(response.status).toBe(415);
    expect(((await response.json()) as WireError).error.data.appCode).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers a 1 MB string in a query with a 4xx", async () => {
    const response = await fetch(`${t.app.url}/trpc/catalog.get?input=${encodeURIComponent(JSON.stringify({ productId: megabyte }))}`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it("refuses to read or change a cart by anything but its exact id", async () => {
    const other = await readyCart(t.client);
    const guessed = other.slice(0, -1) + (other.endsWith("0") ? "1" : "0");
    const { status } = await call("cart.get", { cartId: guessed });
    expect(status).toBe(404);
  });

  it("keeps the order unwritten when the card is rejected as a reused token", async () => {
    const cart = await readyCart(t.client, [{ sku: "SOCK-M", quantity: 1 }]);
    const quote = await t.client.checkout.quote.mutate({ cartId: cart });
    const token = await t.tokenize(CARDS.success);
    const first = await readyCart(t.client, [{ sku: "SOCK-S", quantity: 1 }]);
    const firstQuote = await t.client.checkout.quote.mutate({ cartId: first });
    await t.client.checkout.placeOrder.mutate({ cartId: first, quoteId: firstQuote.id, paymentToken: token });
    const stock = await stockOf(t.database.db, "SOCK-M");
    const { status, body } = await call("checkout.placeOrder", { cartId: cart, quoteId: quote.id, paymentToken: token });
    expect(status).toBe(422);
    expect(body.error.data.appCode).toBe("PAYMENT_TOKEN_INVALID");
    expect(await stockOf(t.database.db, "SOCK-M")).toBe(stock);
    const live = await t.database.db.selectFrom("order").select("status").where("cart_id", "=", cart).execute();
    expect(live.map((o) => o.status)).toEqual(["payment_failed"]);
  });
});
