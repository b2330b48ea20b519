// Idempotent place-order over real HTTP and PostgreSQL: one key gives at most one order and one
// charge, and every replay gets the first response byte for byte.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Idempotency } from "@checkout/core";
import { CARDS, readyCart, startTestApp, type TestApp } from "./support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ DB_POOL_MAX: "20" });
});
afterAll(async () => {
  await t?.close();
});

async function placeOrder(input: Record<string, unknown>, key?: string) {
  const response = await fetch(`${t.app.url}/trpc/checkout.placeOrder`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
    body: JSON.stringify(input),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

async function prepared(sku = "TOTE") {
  const cartId = await readyCart(t.client, [{ sku, quantity: 1 }]);
  const quote = await t.client.checkout.quote.mutate({ cartId });
  return { cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) };
}

async function countRows(table: "order" | "payment", cartId: string): Promise<number> {
  if (table === "order") return (await t.database.db.selectFrom("order").select("id").where("cart_id", "=", cartId).execute()).length;
  const rows = await t.database.db.selectFrom("payment").innerJoin("order", "order.id", "payment.order_id").select("payment.id").where("order.cart_id", "=", cartId).execute();
  return rows.length;
}

describe("placeOrder with an Idempotency-Key", () => {
  it("gives 50 concurrent calls with one key exactly one order and one charge, with identical successes", async () => {
    const input = await prepared();
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 50 }, () => placeOrder(input, key)));
    const successes = responses.filter((r) => r.status === 200);
    const busy = responses.filter((r) => r.status === 409);
    expect(successes.length).toBeGreaterThanOrEqual(1);
    expect(successes.length + busy.length).toBe(50);
    expect(new Set(successes.map((r) => r.text)).size).toBe(1);
    for (const r of busy) {
      expect(JSON.parse(r.text).error.data.appCode).toBe("IDEMPOTENCY_IN_PROGRESS");
      expect(r.headers.get("retry-after")).toBe("1");
    }
    expect(await countRows("order", input.cartId)).toBe(1);
    expect(await countRows("payment", input.cartId)).toBe(1);

    const replay = await placeOrder(input, key);
    expect(replay.status).toBe(200);
    expect(replay.text).toBe(successes[0]!.text);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await countRows("payment", input.cartId)).toBe(1);
  });

  it("refuses the same key with a different request", async () => {
    const input = await prepared();
    const key = randomUUID();
    expect((await placeOrder(input, key)).status).toBe(200);
    const other = await placeOrder({ ...input, paymentToken: await t.tokenize(CARDS.success) }, key);
    expect(other.status).toBe(422);
    expect(JSON.parse(other.text).error.data.appCode).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await countRows("order", input.cartId)).toBe(1);
  });

  it("stores a failure too: a replayed decline gets the same 402 and charges nothing", async () => {
    const cartId = await readyCart(t.client, [{ sku: "TOTE", quantity: 1 }]);
    const quote = await t.client.checkout.quote.mutate({ cartId });
    const input = { cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.declined) };
    const key = randomUUID();
    const first = await placeOrder(input, key);
    expect(first.status).toBe(402);
    const again = await placeOrder(input, key);
    expect(again.status).toBe(402);
    expect(again.text).toBe(first.text);
    expect(await countRows("order", cartId)).toBe(1);
  });

  it("requires the header and writes nothing without it", async () => {
    const input = await prepared();
    const response = await placeOrder(input);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text).error.data.appCode).toBe("IDEMPOTENCY_KEY_REQUIRED");
    expect(await countRows("order", input.cartId)).toBe(0);
  });

  it("rejects a malformed key", async () => {
    const input = await prepared();
    const response = await placeOrder(input, "short");
    expect(response.status).toBe(400);
    expect(await countRows("order", input.cartId)).toBe(0);
  });

  it("scopes keys to the cart: one key on two carts places two orders", async () => {
    const [a, b] = [await prepared(), await prepared()];
    const key = randomUUID();
    expect((await placeOrder(a, key)).status).toBe(200);
    expect((await placeOrder(b, key)).status).toBe(200);
  });

  it("refuses to run placeOrder inside a batch, where a key could not apply", async () => {
    const input = await prepared();
    const response = await fetch(`${t.app.url}/trpc/checkout.placeOrder?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": randomUUID() },
      body: JSON.stringify({ 0: input }),
    });
    expect(response.status).toBe(400);
    expect(await countRows("order", input.cartId)).toBe(0);
  });
});

describe("expired keys", () => {
  it("are removed by the cleanup and no longer replay", async () => {
    const input = await prepared();
    const key = randomUUID();
    expect((await placeOrder(input, key)).status).toBe(200);
    await t.database.db
      .updateTable("idempotency_key")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("key", "=", key)
      .execute();
    const removed = await Idempotency.deleteExpired(t.database.db);
    expect(removed).toBeGreaterThanOrEqual(1);
    const left = await t.database.db.selectFrom("idempotency_key").select("id").where("key", "=", key).execute();
    expect(left).toEqual([]);
    // The key is free again; the cart is already ordered, which is the answer a new request gets.
    const after = await placeOrder(input, key);
    expect(JSON.parse(after.text).error.data.appCode).toBe("ALREADY_ORDERED");
  });
});
