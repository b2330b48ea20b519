// cart.setCurrency over HTTP against real PostgreSQL: the shopper's cart survives a currency switch, re-priced in the
// new currency; a line not sold there is a typed 422 naming it until the shopper agrees to remove it; bad input is a 400;
// and a quote from before the switch cannot be paid.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARDS, expectTrpcError, readyCart, startTestApp, type TestApp } from "./support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  // A lamp sold in US dollars only.
  await t.database.db.deleteFrom("price").where("sku", "=", "LAMP").where("currency", "=", "EUR").execute();
});
afterAll(async () => {
  await t?.close();
});

function wire(error: { data?: unknown; message: string }) {
  return { message: error.message, ...(error.data as { httpStatus: number; appCode: string; details?: Record<string, unknown> | null }) };
}

describe("cart.setCurrency", () => {
  it("keeps the cart, re-priced from the euro price list, and the order is placed and charged in euros", async () => {
    const cartId = await readyCart(t.client, [
      { sku: "TEE-BLA-M", quantity: 2 },
      { sku: "MUG-SLA", quantity: 1 },
    ]);
    const usdQuote = await t.client.checkout.quote.mutate({ cartId });
    const changed = await t.client.cart.setCurrency.mutate({ cartId, currency: "EUR" });
    expect(changed.removed).toEqual([]);
    expect(changed.cart).toMatchObject({ id: cartId, currency: "EUR", itemCount: 3, subtotal: 2 * 2200 + 1500, shippingOptionId: "standard" });
    expect(await t.client.cart.get.query({ cartId })).toEqual(changed.cart);

    const stale = wire(await expectTrpcError(() => t.client.checkout.placeOrder.mutate({ cartId, quoteId: usdQuote.id, paymentToken: "tok_unused_0000000000" })));
    expect(stale).toMatchObject({ httpStatus: 412, appCode: "QUOTE_EXPIRED" });

    const eurQuote = await t.client.checkout.quote.mutate({ cartId });
    expect(eurQuote).toMatchObject({ currency: "EUR", subtotal: 5900 });
    const order = await t.client.checkout.placeOrder.mutate({ cartId, quoteId: eurQuote.id, paymentToken: await t.tokenize(CARDS.success) });
    expect(order).toMatchObject({ currency: "EUR", total: eurQuote.total });
  });

  it("answers 422 naming a line not sold in the new currency, and removes it once the shopper agrees", async () => {
    const cartId = await readyCart(t.client, [
      { sku: "LAMP", quantity: 1 },
      { sku: "SOCK-M", quantity: 2 },
    ]);
    const refused = wire(await expectTrpcError(() => t.client.cart.setCurrency.mutate({ cartId, currency: "EUR" })));
    expect(refused).toMatchObject({
      httpStatus: 422,
      appCode: "CURRENCY_MISMATCH",
      message: "Desk Lamp is not sold in EUR; remove it to switch to EUR",
      details: { currency: "EUR", lines: [{ sku: "LAMP", productName: "Desk Lamp", quantity: 1 }] },
    });
    expect((await t.client.cart.get.query({ cartId })).currency).toBe("USD");

    const changed = await t.client.cart.setCurrency.mutate({ cartId, currency: "EUR", removeUnavailable: true });
    expect(changed.removed).toMatchObject([{ sku: "LAMP", productName: "Desk Lamp", quantity: 1 }]);
    expect(changed.cart.lines.map((line) => [line.sku, line.quantity, line.unitPrice])).toEqual([["SOCK-M", 2, 1700]]);
  });

  it("refuses a currency it does not sell in, and a stray field, with a 400 and changes nothing", async () => {
    const cartId = await readyCart(t.client);
    const unknown = wire(await expectTrpcError(() => t.client.cart.setCurrency.mutate({ cartId, currency: "GBP" as "EUR" })));
    expect(unknown).toMatchObject({ httpStatus: 400, appCode: "BAD_INPUT" });
    expect(unknown.message).toMatch(/currency: Currency must be one of USD, EUR/);
    const stray = wire(await expectTrpcError(() => t.client.cart.setCurrency.mutate({ cartId, currency: "EUR", rate: 1 } as never)));
    expect(stray).toMatchObject({ httpStatus: 400, appCode: "BAD_INPUT" });
    expect((await t.client.cart.get.query({ cartId })).currency).toBe("USD");
  });
});
