// The fake payment provider behaves as a processor does where core's tests rely on it: a repeated idempotency key
// replays the first answer, scripted answers are taken in order, every call is recorded, and lookups read its store.
import { describe, expect, it } from "vitest";
import { PaymentProviderUnavailableError, PaymentTokenRejectedError } from "../src/index.ts";
import { createFakePaymentProvider } from "./support/index.ts";

const request = (key: string, reference = `R-${key}`) => ({ token: "tok_1", amount: 1234, currency: "USD" as const, idempotencyKey: key, reference });

describe("the fake payment provider", () => {
  it("authorises what it is asked by default, and replays the first answer for a repeated key", async () => {
    const fake = createFakePaymentProvider();
    const first = await fake.authorize(request("k1"));
    expect(first).toMatchObject({ status: "authorized", amount: 1234, currency: "USD", card: { last4: "4242" } });
    fake.willAuthorize({ status: "declined" });
    expect(await fake.authorize(request("k1"))).toEqual(first);
    expect(await fake.authorize(request("k2"))).toMatchObject({ status: "declined", code: "card_declined" });
    expect(fake.callsTo("authorize")).toHaveLength(3);
  });

  it("answers as scripted: another amount or currency, 3-D Secure, unavailable, token rejected", async () => {
    const fake = createFakePaymentProvider();
    fake.willAuthorize({ status: "authorized", amount: 999, currency: "EUR" }, { status: "requires_action" }, { status: "unavailable" }, { status: "token_rejected" });
    expect(await fake.authorize(request("a"))).toMatchObject({ status: "authorized", amount: 999, currency: "EUR" });
    expect(await fake.authorize(request("b"))).toMatchObject({ status: "requires_action", amount: 1234, nextActionUrl: expect.stringContaining("/3ds/") });
    await expect(fake.authorize(request("c"))).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    await expect(fake.authorize(request("d"))).rejects.toBeInstanceOf(PaymentTokenRejectedError);
    // Nothing was made for the unreachable call: a retry with its key is a new authorisation.
    expect(await fake.authorize(request("c"))).toMatchObject({ status: "authorized" });
  });

  it("holds an authorisation whose answer was lost, and gives it to a retry with the same key and to a lookup", async () => {
    const fake = createFakePaymentProvider();
    fake.willAuthorize({ status: "authorized", answerLost: true });
    await expect(fake.authorize(request("k", "100001"))).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    const found = await fake.findAuthorization({ reference: "100001" });
    expect(found).toMatchObject({ status: "authorized", amount: 1234, capturedAmount: 0 });
    expect(await fake.authorize(request("k", "100001"))).toMatchObject({ status: "authorized", authorizationId: found!.authorizationId });
    expect(await fake.findAuthorization({ reference: "100002" })).toBeNull();
  });

  it("captures, voids and refunds idempotently by key, and fails a call when told to", async () => {
    const fake = createFakePaymentProvider();
    const auth = await fake.authorize(request("k", "200001"));
    if (auth.status !== "authorized") throw new Error("expected an authorisation");
    fake.failNext("capture");
    await expect(fake.capture({ authorizationId: auth.authorizationId, amount: 1234, idempotencyKey: "cap" })).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    const captured = await fake.capture({ authorizationId: auth.authorizationId, amount: 1234, idempotencyKey: "cap" });
    expect(await fake.capture({ authorizationId: auth.authorizationId, amount: 1234, idempotencyKey: "cap" })).toEqual(captured);
    expect(fake.authorizationOf("200001")).toMatchObject({ status: "captured", capturedAmount: 1234 });
    await fake.refund({ authorizationId: auth.authorizationId, amount: 200, idempotencyKey: "r1" });
    await fake.refund({ authorizationId: auth.authorizationId, amount: 200, idempotencyKey: "r1" });
    expect(fake.authorizationOf("200001")).toMatchObject({ refundedAmount: 200 });

    fake.isDown = true;
    await expect(fake.findAuthorization({ reference: "200001" })).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    fake.isDown = false;
    const other = await fake.authorize(request("k2", "200002"));
    if (other.status !== "authorized") throw new Error("expected an authorisation");
    await fake.void({ authorizationId: other.authorizationId, idempotencyKey: "v" });
    expect(fake.authorizationOf("200002")).toMatchObject({ status: "voided" });
    expect(fake.calls.map((call) => call.method)).toEqual(["authorize", "capture", "capture", "capture", "refund", "refund", "findAuthorization", "authorize", "void"]);
  });
});
