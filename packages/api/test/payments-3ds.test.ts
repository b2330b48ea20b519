// 3-D Secure end to end over HTTP: placeOrder leaves the order waiting on the challenge, the shopper
// answers it on the sandbox's page, and checkout.confirmPayment (or the provider's webhook) settles it.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Audit } from "@checkout/core";
import { CARDS, expectTrpcError, startTestApp, type TestApp } from "./support/app.ts";
import { sandboxOf } from "./support/sandbox.ts";
import { answerChallenge, authorizationIdOf, placeThreeDSecureOrder, withoutSandboxWebhooks } from "./support/three-d-secure.ts";
import { stockOf } from "./support/stock.ts";

const SKU = "TEE-BLA-M";
const SHOP_ORIGIN = "http://localhost:3000";
const WEBHOOK_SECRET = "whsec_test_payments_3ds_0123456789";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ PUBLIC_URL: SHOP_ORIGIN, PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET });
});
afterAll(async () => {
  await t?.close();
});

async function actionsOf(entity: "order" | "payment", id: string): Promise<string[]> {
  return (await Audit.listForEntity(t.database.db, entity, id)).map((row) => row.action);
}

function capturesAtSandbox(authorizationId: string): number {
  return (
    sandboxOf(t)
      .debugDump()
      .authorizations.find((entry) => entry.id === authorizationId)?.captures.length ?? -1
  );
}

describe("checkout.placeOrder with a 3-D Secure card", () => {
  it("leaves the order pending_payment with the challenge URL, its stock still reserved", async () => {
    const before = await stockOf(t.database.db, SKU);
    const { order } = await placeThreeDSecureOrder(t);
    expect(order.status).toBe("pending_payment");
    expect(order.payment).toMatchObject({ status: "requires_action", cardBrand: "visa", cardLast4: "3184", declineCode: null, amount: order.total });
    expect(order.payment?.nextActionUrl).toMatch(new RegExp(`^${sandboxOf(t).publicUrl}/3ds/auth_[0-9a-f]{24}$`));
    expect(await stockOf(t.database.db, SKU)).toBe(before - 2);
    const payment = await t.database.db.selectFrom("payment").select("id").where("order_id", "=", order.id).executeTakeFirstOrThrow();
    expect(await actionsOf("payment", payment.id)).toEqual(["payment.requires_action"]);
    expect(await actionsOf("order", order.id)).toEqual(["order.created"]);
  });

  it("points at a challenge page the shop's origin may frame", async () => {
    const { order } = await placeThreeDSecureOrder(t);
    const url = new URL(order.payment?.nextActionUrl ?? "");
    const response = await fetch(new URL(`${url.pathname}?origin=${encodeURIComponent(SHOP_ORIGIN)}`, t.app.paymentUrl));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toContain(`frame-ancestors ${SHOP_ORIGIN}`);
    expect(await response.text()).toContain("Complete authentication");
  });
});

// The webhook normally races confirmPayment; these tests switch it off to prove confirmPayment alone suffices.
describe("checkout.confirmPayment", () => {
  it("captures the order once the challenge is completed, and changes nothing when called again", async () => {
    await withoutSandboxWebhooks(t, WEBHOOK_SECRET, async () => {
      const { order } = await placeThreeDSecureOrder(t);
      const nextActionUrl = order.payment?.nextActionUrl ?? "";

      const early = await t.client.checkout.confirmPayment.mutate({ orderId: order.id });
      expect(early).toMatchObject({ status: "pending_payment", payment: { status: "requires_action", nextActionUrl } });

      expect(await answerChallenge(t, nextActionUrl, "authenticated")).toMatchObject({ status: "authorized" });
      const confirmed = await t.client.checkout.confirmPayment.mutate({ orderId: order.id });
      expect(confirmed.status).toBe("captured");
      expect(confirmed.payment).toMatchObject({ status: "captured", nextActionUrl: null, cardLast4: "3184", amount: order.total });
      expect(capturesAtSandbox(authorizationIdOf(nextActionUrl))).toBe(1);

      const trail = await actionsOf("order", order.id);
      const again = await t.client.checkout.confirmPayment.mutate({ orderId: order.id });
      expect(again).toEqual(confirmed);
      expect(await actionsOf("order", order.id)).toEqual(trail);
      expect(trail).toEqual(["order.created", "order.authorised", "order.captured"]);
      expect(capturesAtSandbox(authorizationIdOf(nextActionUrl))).toBe(1);
      const cart = await t.database.db
        .selectFrom("order")
        .innerJoin("cart", "cart.id", "order.cart_id")
        .select("cart.status")
        .where("order.id", "=", order.id)
        .executeTakeFirstOrThrow();
      expect(cart.status).toBe("completed");
    });
  });

  it("fails the order and gives its stock back when the challenge fails; the cart can then be paid another way", async () => {
    await withoutSandboxWebhooks(t, WEBHOOK_SECRET, async () => {
      const before = await stockOf(t.database.db, SKU);
      const { cartId, order } = await placeThreeDSecureOrder(t);
      await answerChallenge(t, order.payment?.nextActionUrl ?? "", "failed");
      const failed = await t.client.checkout.confirmPayment.mutate({ orderId: order.id });
      expect(failed.status).toBe("payment_failed");
      expect(failed.payment).toMatchObject({ status: "declined", declineCode: "authentication_failed", nextActionUrl: null });
      expect(await stockOf(t.database.db, SKU)).toBe(before);
      expect(await actionsOf("order", order.id)).toEqual(["order.created", "order.payment_failed"]);

      const quote = await t.client.checkout.quote.mutate({ cartId });
      const retried = await t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) });
      expect(retried.status).toBe("captured");
      expect(await stockOf(t.database.db, SKU)).toBe(before - 2);
    });
  });

  it("settles the order exactly once when the shopper and the provider's webhook report it together", async () => {
    const { order } = await placeThreeDSecureOrder(t);
    const nextActionUrl = order.payment?.nextActionUrl ?? "";
    await answerChallenge(t, nextActionUrl, "authenticated");
    const results = await Promise.all([1, 2, 3].map(() => t.client.checkout.confirmPayment.mutate({ orderId: order.id })));
    for (const result of results) expect(["authorised", "captured"]).toContain(result.status);
    // Wait for the webhook to have been processed too, so both paths have had their say.
    await vi.waitFor(
      async () => {
        const event = await t.database.db
          .selectFrom("payment_webhook_event")
          .select("processed_at")
          .where("type", "=", "authorization.succeeded")
          .where(sql<string>`payload->'data'->'authorization'->>'id'`, "=", authorizationIdOf(nextActionUrl))
          .executeTakeFirst();
        expect(event?.processed_at).toBeInstanceOf(Date);
      },
      { timeout: 5000, interval: 50 },
    );
    expect(await actionsOf("order", order.id)).toEqual(["order.created", "order.authorised", "order.captured"]);
    const payments = await t.database.db.selectFrom("payment").select(["status", "captured_amount"]).where("order_id", "=", order.id).execute();
    expect(payments).toEqual([{ status: "captured", captured_amount: order.total }]);
    expect(capturesAtSandbox(authorizationIdOf(nextActionUrl))).toBe(1);
  });

  it("answers NOT_FOUND for an unknown order and BAD_INPUT for unknown fields", async () => {
    const missing = await expectTrpcError(() => t.client.checkout.confirmPayment.mutate({ orderId: "00000000-0000-4000-8000-000000000000" }));
    expect(missing.data?.httpStatus).toBe(404);
    const { order } = await placeThreeDSecureOrder(t);
    const strict = await expectTrpcError(() => t.client.checkout.confirmPayment.mutate({ orderId: order.id, status: "captured" } as unknown as { orderId: string }));
    expect(strict.data).toMatchObject({ httpStatus: 400, appCode: "BAD_INPUT" });
  });
});
