// Card testing against the running service over real HTTP and PostgreSQL: a loop of fresh tokens on declining cards gets
// a few decline reasons and then only 429 PAYMENT_ATTEMPTS_LOCKED; the limits per client address, email and card each
// hold against the bypass (a new cart, a new address, a new email); concurrent attempts cannot get past a limit; every
// refusal is audited and counted; a locked cart frees after its cool-down; a real shopper with one decline still buys.
// Each attacker is its own loopback address (Linux routes 127/8 to lo), so the service sees distinct clients; the edge's
// own rate limits are raised here so that only the velocity limits are under test.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARDS, startTestApp, US_ADDRESS, type TestApp } from "./support/app.ts";
import { ordersOf } from "./support/orders.ts";
import { stockOf } from "./support/stock.ts";
import { callProcedure, loopback, targetOf, type Answer } from "./support/attack-tools.ts";

const EDGE_LIMITS_OFF = {
  RATE_LIMIT_PAYMENT_PER_MINUTE: "1000000",
  RATE_LIMIT_CART_PER_MINUTE: "1000000",
  RATE_LIMIT_BROWSE_PER_MINUTE: "1000000",
  MAX_IN_FLIGHT_PER_CLIENT: "10000",
  MAX_CONNECTIONS_PER_CLIENT: "10000",
};
/** Attempts in the card-testing loop on one cart: two answered with a reason, then a run of refusals. */
const LOOP = 12;
const REASONS = ["declined", "insufficient", "funds", "card_declined", "expired", "security code", "stolen"];

interface Attempt {
  answer: Answer;
  token: string;
}

/** A cart of one mug with its contact email, ready to pay, and its quote. */
async function prepareCart(t: TestApp, email: string) {
  const cart = await t.client.cart.create.mutate({ currency: "USD" });
  await t.client.cart.addLine.mutate({ cartId: cart.id, sku: "MUG-SAN", quantity: 1 });
  await t.client.checkout.setContact.mutate({ cartId: cart.id, email });
  await t.client.checkout.setShippingAddress.mutate({ cartId: cart.id, address: US_ADDRESS });
  await t.client.checkout.setShippingOption.mutate({ cartId: cart.id, optionId: "standard" });
  const quote = await t.client.checkout.quote.mutate({ cartId: cart.id });
  return { cartId: cart.id, quoteId: quote.id };
}

/** placeOrder with a fresh token and a fresh Idempotency-Key, from one client address. */
async function pay(t: TestApp, cart: { cartId: string; quoteId: string }, card: string, from: string): Promise<Attempt> {
  const token = await t.tokenize(card);
  const answer = await callProcedure(
    targetOf(t.app.url),
    "checkout.placeOrder",
    { ...cart, paymentToken: token },
    {
      headers: { "idempotency-key": randomUUID() },
      localAddress: from,
    },
  );
  return { answer, token };
}

function errorOf(answer: Answer): { message: string; data: { appCode: string; httpStatus: number; details: Record<string, unknown> | null } } {
  return (JSON.parse(answer.text) as { error: { message: string; data: { appCode: string; httpStatus: number; details: Record<string, unknown> | null } } }).error;
}

function summary(attempts: readonly Attempt[]): string[] {
  return attempts.map(({ answer }) => `${answer.status} ${answer.appCode ?? "ok"}`);
}

/** Whether the sandbox ever tried the card behind a token (a token is spent by the first authorisation that reaches it). */
function reachedProcessor(t: TestApp, token: string): boolean {
  return t.app.paymentSandbox!.debugDump().tokens.some((record) => record.id === token && record.usedAt !== null);
}

/** A lock answer: 429, no decline reason anywhere in it, and when to try again. */
function expectLocked(answer: Answer): { retryAfterSeconds: number; lockedUntil: string } {
  expect(`${answer.status} ${answer.appCode}`, answer.text).toBe("429 PAYMENT_ATTEMPTS_LOCKED");
  for (const reason of REASONS) expect(answer.text.toLowerCase(), answer.text).not.toContain(reason);
  const details = errorOf(answer).data.details as { retryAfterSeconds: number; lockedUntil: string };
  expect(Object.keys(details).sort()).toEqual(["lockedUntil", "retryAfterSeconds"]);
  expect(details.retryAfterSeconds).toBeGreaterThan(0);
  return details;
}

async function refusalsAudited(t: TestApp, cartIds: readonly string[]) {
  const rows = await t.database.db
    .selectFrom("audit_log")
    .select(["entity_id", "data", "outcome", "origin"])
    .where("action", "=", "payment.velocity_refused")
    .where("entity_id", "in", [...cartIds])
    .orderBy("id")
    .execute();
  return rows.map((row) => ({
    cartId: row.entity_id,
    outcome: row.outcome,
    ip: (row.origin as { ip?: string }).ip,
    ...(row.data as { stage: string; limits: { limit: string }[] }),
  }));
}

async function metric(t: TestApp, outcome: string): Promise<number> {
  const text = await (await fetch(`${t.app.url}/metrics`)).text();
  return Number(new RegExp(`^payment_attempts_total\\{outcome="${outcome}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
}

// Each group of tests has a service and database of its own (the limits count declines per card, address and email);
// the three start side by side.
const services: Promise<TestApp>[] = [];
let defaultLimits: TestApp;
let perCard: TestApp;
let perAddressAndEmail: TestApp;
beforeAll(async () => {
  const starting = [
    startTestApp(EDGE_LIMITS_OFF),
    startTestApp(EDGE_LIMITS_OFF),
    // Only two test cards decline, so the limit per card is off here to reach the others; the cart's cool-down is short;
    // 4 attempts at the processor at once per key (16 by default), so that 20 at once are well beyond it.
    startTestApp({ ...EDGE_LIMITS_OFF, PAYMENT_DECLINES_PER_CARD: "0", PAYMENT_CART_LOCK_SECONDS: "2", PAYMENT_ATTEMPTS_IN_FLIGHT: "4" }),
  ] as const;
  services.push(...starting);
  [defaultLimits, perCard, perAddressAndEmail] = await Promise.all(starting);
});
afterAll(async () => {
  await Promise.all(services.map((started) => started.then((app) => app.close()).catch(() => undefined)));
});

describe("with the default limits", () => {
  let t: TestApp;
  let loopCartId = "";
  beforeAll(() => {
    t = defaultLimits;
  });

  it("answers a card-testing loop on one cart with 2 decline reasons, then only 429 PAYMENT_ATTEMPTS_LOCKED, and the processor sees 3 cards", { timeout: 90_000 }, async () => {
    const attacker = loopback(300);
    const cart = await prepareCart(t, `tester-${randomUUID()}@example.com`);
    loopCartId = cart.cartId;
    const attempts: Attempt[] = [];
    for (let i = 0; i < LOOP; i += 1) attempts.push(await pay(t, cart, i % 2 === 0 ? CARDS.declined : CARDS.insufficientFunds, attacker));

    expect(summary(attempts)).toEqual(["402 PAYMENT_DECLINED", "402 PAYMENT_DECLINED", ...Array.from({ length: LOOP - 2 }, () => "429 PAYMENT_ATTEMPTS_LOCKED")]);
    expect(errorOf(attempts[0]!.answer)).toMatchObject({ message: "Your card was declined.", data: { details: { code: "card_declined" } } });
    expect(errorOf(attempts[1]!.answer)).toMatchObject({ message: "Your card has insufficient funds.", data: { details: { code: "insufficient_funds" } } });
    for (const { answer } of attempts.slice(2)) {
      const details = expectLocked(answer);
      // The cart's cool-down (PAYMENT_CART_LOCK_SECONDS, 15 minutes by default) from the third decline.
      expect(details.retryAfterSeconds).toBeLessThanOrEqual(900);
      expect(details.retryAfterSeconds).toBeGreaterThan(800);
    }
    // Three declines reached the processor; the refused attempts after them never did, and held no stock (no order).
    expect(attempts.map(({ token }) => reachedProcessor(t, token))).toEqual([true, true, true, ...Array.from({ length: LOOP - 3 }, () => false)]);
    expect((await ordersOf(t.database.db, cart.cartId)).map((order) => order.status)).toEqual(["payment_failed", "payment_failed", "payment_failed"]);

    // Every refusal audited with the limit that refused, the stage, and the attacker's address.
    const audited = await refusalsAudited(t, [cart.cartId]);
    expect(audited).toHaveLength(LOOP - 2);
    expect(audited[0]).toMatchObject({ stage: "after_decline", outcome: "failure", ip: attacker, limits: [{ limit: "cart", declines: 3 }] });
    for (const refusal of audited.slice(1)) expect(refusal).toMatchObject({ stage: "before_order", limits: [{ limit: "cart" }] });

    // A card that would pay is refused too until the cool-down ends: the lock is on the cart.
    expectLocked((await pay(t, cart, CARDS.success, attacker)).answer);
  });

  it("counts every attempt by outcome and writes one payment.attempt log line each", async () => {
    expect(await metric(t, "declined")).toBeGreaterThanOrEqual(3);
    expect(await metric(t, "refused_velocity")).toBeGreaterThanOrEqual(LOOP - 2);
    const lines = t.logs.map((line) => JSON.parse(line) as { msg?: string; outcome?: string; limits?: string[] }).filter((line) => line.msg === "payment.attempt");
    expect(lines.filter((line) => line.outcome === "declined").length).toBe(await metric(t, "declined"));
    expect(lines.filter((line) => line.outcome === "refused_velocity").length).toBe(await metric(t, "refused_velocity"));
    expect(lines.find((line) => line.outcome === "refused_velocity")?.limits).toEqual(["cart"]);
    // The log line carries the outcome and the limit, never the cart, the email or a card.
    for (const line of t.logs.filter((text) => text.includes('"payment.attempt"'))) {
      expect(line).not.toContain(loopCartId);
      expect(line).not.toMatch(/@example\.com|tok_/);
    }
  });

  it("lets a real shopper whose first card is declined buy with another card", async () => {
    const shopper = loopback(301);
    const cart = await prepareCart(t, `shopper-${randomUUID()}@example.com`);
    const declined = await pay(t, cart, CARDS.insufficientFunds, shopper);
    expect(errorOf(declined.answer)).toMatchObject({ message: "Your card has insufficient funds.", data: { appCode: "PAYMENT_DECLINED", httpStatus: 402 } });
    const paid = await pay(t, cart, CARDS.success, shopper);
    expect(paid.answer.status, paid.answer.text).toBe(200);
    expect((await ordersOf(t.database.db, cart.cartId)).map((order) => order.status).sort()).toEqual(["captured", "payment_failed"]);
  });
});

describe("the limit per card", () => {
  let t: TestApp;
  beforeAll(() => {
    t = perCard;
  });

  it("locks a card after 3 declines whatever the cart, address and email, before the processor sees it again", { timeout: 60_000 }, async () => {
    const attempts: Attempt[] = [];
    const carts: string[] = [];
    // Each attempt is a new cart, a new address and a new email: only the card is the same.
    for (let i = 0; i < 5; i += 1) {
      const cart = await prepareCart(t, `card-${i}-${randomUUID()}@example.com`);
      carts.push(cart.cartId);
      attempts.push(await pay(t, cart, CARDS.declined, loopback(310 + i)));
    }
    expect(summary(attempts)).toEqual([
      "402 PAYMENT_DECLINED",
      "402 PAYMENT_DECLINED",
      "429 PAYMENT_ATTEMPTS_LOCKED",
      "429 PAYMENT_ATTEMPTS_LOCKED",
      "429 PAYMENT_ATTEMPTS_LOCKED",
    ]);
    for (const { answer } of attempts.slice(2)) expect(expectLocked(answer).retryAfterSeconds).toBeGreaterThan(3000);
    expect(attempts.map(({ token }) => reachedProcessor(t, token))).toEqual([true, true, true, false, false]);
    // The refused carts held no stock: no order at all.
    expect(await ordersOf(t.database.db, carts[4]!)).toEqual([]);
    const audited = await refusalsAudited(t, carts);
    expect(audited.map((refusal) => [refusal.stage, refusal.limits.map((limit) => limit.limit)])).toEqual([
      ["after_decline", ["card"]],
      ["before_order", ["card"]],
      ["before_order", ["card"]],
    ]);

    // The same cart, address and email with another card: only that card was locked.
    const last = { cartId: carts[4]!, quoteId: (await t.client.checkout.quote.mutate({ cartId: carts[4]! })).id };
    expect((await pay(t, last, CARDS.success, loopback(314))).answer.status).toBe(200);
  });
});

describe("the limits per address and per email, under concurrency, and the cool-down", () => {
  let t: TestApp;
  beforeAll(() => {
    t = perAddressAndEmail;
  });

  it("locks an address after 10 declines spread over carts and emails, so a new cart from it is refused before any stock is held", { timeout: 90_000 }, async () => {
    const attacker = loopback(320);
    const attempts: Attempt[] = [];
    const carts: string[] = [];
    // Two declines per cart (under the cart's limit of 3), each cart with its own email (under the email's limit of 5).
    for (let i = 0; i < 5; i += 1) {
      const cart = await prepareCart(t, `address-${i}-${randomUUID()}@example.com`);
      carts.push(cart.cartId);
      attempts.push(await pay(t, cart, CARDS.declined, attacker));
      attempts.push(await pay(t, cart, CARDS.insufficientFunds, attacker));
    }
    expect(summary(attempts)).toEqual([...Array.from({ length: 9 }, () => "402 PAYMENT_DECLINED"), "429 PAYMENT_ATTEMPTS_LOCKED"]);
    expect(expectLocked(attempts[9]!.answer).retryAfterSeconds).toBeGreaterThan(3000);

    // Bypass: a new cart and a new email from the same address, with a card that would pay.
    const fresh = await prepareCart(t, `address-new-${randomUUID()}@example.com`);
    const stockBefore = await stockOf(t.database.db, "MUG-SAN");
    const bypass = await pay(t, fresh, CARDS.success, attacker);
    expectLocked(bypass.answer);
    expect(reachedProcessor(t, bypass.token)).toBe(false);
    expect(await ordersOf(t.database.db, fresh.cartId)).toEqual([]);
    expect(await stockOf(t.database.db, "MUG-SAN")).toBe(stockBefore);
    const audited = await refusalsAudited(t, [...carts, fresh.cartId]);
    expect(audited.map((refusal) => [refusal.stage, refusal.limits.map((limit) => limit.limit)])).toEqual([
      ["after_decline", ["address"]],
      ["before_order", ["address"]],
    ]);

    // The same cart from another address (another shopper behind it, or the shopper moving network) pays.
    expect((await pay(t, fresh, CARDS.success, loopback(321))).answer.status).toBe(200);
  });

  it("locks an email after 5 declines from new carts on new addresses, however the email is respelt", { timeout: 90_000 }, async () => {
    const mailbox = `email-${randomUUID()}`;
    const attempts: Attempt[] = [];
    const carts: string[] = [];
    const spellings = [`${mailbox}@example.com`, `${mailbox.toUpperCase()}@EXAMPLE.com`, `${mailbox}+again@example.com`];
    for (let i = 0; i < 3; i += 1) {
      const cart = await prepareCart(t, spellings[i]!);
      carts.push(cart.cartId);
      const from = loopback(330 + i);
      attempts.push(await pay(t, cart, CARDS.declined, from));
      if (i < 2) attempts.push(await pay(t, cart, CARDS.insufficientFunds, from));
    }
    expect(summary(attempts)).toEqual([...Array.from({ length: 4 }, () => "402 PAYMENT_DECLINED"), "429 PAYMENT_ATTEMPTS_LOCKED"]);

    // Bypass: a new cart from a new address with the same mailbox, spelt another way, and a card that would pay.
    const fresh = await prepareCart(t, ` ${mailbox}+fresh@Example.com`);
    const bypass = await pay(t, fresh, CARDS.success, loopback(334));
    expectLocked(bypass.answer);
    expect(reachedProcessor(t, bypass.token)).toBe(false);
    const audited = await refusalsAudited(t, [...carts, fresh.cartId]);
    expect(audited.map((refusal) => [refusal.stage, refusal.limits.map((limit) => limit.limit)])).toEqual([
      ["after_decline", ["email"]],
      ["before_order", ["email"]],
    ]);

    // Another mailbox on that cart and address pays: neither was locked.
    await t.client.checkout.setContact.mutate({ cartId: fresh.cartId, email: `someone-else-${randomUUID()}@example.com` });
    const quote = await t.client.checkout.quote.mutate({ cartId: fresh.cartId });
    expect((await pay(t, { cartId: fresh.cartId, quoteId: quote.id }, CARDS.success, loopback(334))).answer.status).toBe(200);
  });

  it("answers 20 carts trying at once from one address with at most 9 decline reasons, and lets at most 9 + 4 reach the processor", { timeout: 90_000 }, async () => {
    const attacker = loopback(340);
    const carts = await Promise.all(Array.from({ length: 20 }, (_, i) => prepareCart(t, `burst-${i}-${randomUUID()}@example.com`)));
    const tokens = await Promise.all(carts.map((_, i) => t.tokenize(i % 2 === 0 ? CARDS.declined : CARDS.insufficientFunds)));
    const answers = await Promise.all(
      carts.map((cart, i) =>
        callProcedure(targetOf(t.app.url), "checkout.placeOrder", { ...cart, paymentToken: tokens[i]! }, { headers: { "idempotency-key": randomUUID() }, localAddress: attacker }),
      ),
    );
    const codes = answers.map((answer) => `${answer.status} ${answer.appCode}`);
    expect(
      codes.every((code) => code === "402 PAYMENT_DECLINED" || code === "429 PAYMENT_ATTEMPTS_LOCKED"),
      codes.join(", "),
    ).toBe(true);
    const tried = tokens.filter((token) => reachedProcessor(t, token)).length;
    const reasons = codes.filter((code) => code === "402 PAYMENT_DECLINED").length;
    console.info(`20 concurrent attempts from one address: ${tried} reached the processor; ${reasons} × 402, ${codes.length - reasons} × 429`);
    // At most 4 at the processor at once; declines are counted exactly, so at most 9 reasons whatever the concurrency.
    expect(reasons).toBeLessThanOrEqual(9);
    expect(tried).toBeLessThanOrEqual(9 + 4);
    // Refused attempts gave their stock back (or never held any): no order is left holding stock.
    const live = await t.database.db
      .selectFrom("order")
      .select("id")
      .where(
        "cart_id",
        "in",
        carts.map((cart) => cart.cartId),
      )
      .where("status", "<>", "payment_failed")
      .execute();
    expect(live).toEqual([]);
    const audited = await refusalsAudited(
      t,
      carts.map((cart) => cart.cartId),
    );
    expect(audited.length).toBe(codes.length - reasons);

    // The attacker carries on, one new cart at a time, until the address locks: over the whole campaign exactly 9 reasons.
    let campaignReasons = reasons;
    let campaignTried = tried;
    for (let i = 0; i < 12; i += 1) {
      const next = await pay(t, await prepareCart(t, `burst-next-${i}-${randomUUID()}@example.com`), CARDS.declined, attacker);
      if (reachedProcessor(t, next.token)) campaignTried += 1;
      if (next.answer.status === 402) {
        campaignReasons += 1;
        continue;
      }
      if (expectLocked(next.answer).retryAfterSeconds > 60) break;
    }
    expect(campaignReasons).toBe(9);
    expect(campaignTried).toBeLessThanOrEqual(9 + 4);
    expectLocked((await pay(t, await prepareCart(t, `burst-after-${randomUUID()}@example.com`), CARDS.success, attacker)).answer);
  });

  it("frees a locked cart once its cool-down has passed", { timeout: 60_000 }, async () => {
    const shopper = loopback(350);
    const cart = await prepareCart(t, `cooldown-${randomUUID()}@example.com`);
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push((await pay(t, cart, CARDS.declined, shopper)).answer);
    expect(answers.map((answer) => `${answer.status} ${answer.appCode}`)).toEqual(["402 PAYMENT_DECLINED", "402 PAYMENT_DECLINED", "429 PAYMENT_ATTEMPTS_LOCKED"]);
    const { lockedUntil, retryAfterSeconds } = expectLocked(answers[2]!);
    expect(retryAfterSeconds).toBeLessThanOrEqual(2);
    expectLocked((await pay(t, cart, CARDS.success, shopper)).answer);

    // PAYMENT_CART_LOCK_SECONDS is 2 here: wait out the lock the answer named, then the same cart pays.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, new Date(lockedUntil).getTime() - Date.now()) + 50));
    const paid = await pay(t, cart, CARDS.success, shopper);
    expect(paid.answer.status, paid.answer.text).toBe(200);
  });
});
