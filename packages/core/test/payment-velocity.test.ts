// Core's PaymentVelocity against real PostgreSQL with a clock the test moves: locks after the limit, frees after the
// cool-down, a window that ends starts afresh, attempts in flight use the budget, and 20 concurrent reservations on one
// key cannot all pass. (The same limits through placeOrder over HTTP: packages/api/test/card-testing.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PaymentVelocity } from "../src/index.ts";
import { createTestDatabase, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
let counter = 0;

beforeAll(async () => {
  database = await createTestDatabase({ seed: false });
});

afterAll(async () => {
  await database.drop();
});

const MINUTE = 60_000;
const limits: PaymentVelocity.Limits = {
  cart: { maxDeclines: 3, windowMs: 60 * MINUTE, lockMs: 15 * MINUTE },
  address: { maxDeclines: 5, windowMs: 60 * MINUTE, lockMs: 60 * MINUTE },
  email: { maxDeclines: 5, windowMs: 60 * MINUTE, lockMs: 60 * MINUTE },
  card: { maxDeclines: 3, windowMs: 60 * MINUTE, lockMs: 60 * MINUTE },
  maxInFlight: 4,
};
const start = new Date("2026-11-24T12:00:00Z");
const at = (minutes: number) => new Date(start.getTime() + minutes * MINUTE);

/** A key no other test touches. */
function freshKey(scope: PaymentVelocity.Scope = "cart"): PaymentVelocity.VelocityKey {
  counter += 1;
  return PaymentVelocity.keyOf(scope, `key-${counter}-${Math.random()}`);
}

/** One whole attempt at `now` that the processor declines (or approves); returns what reserve said and the locks after. */
async function attempt(key: PaymentVelocity.VelocityKey, now: Date, isDecline = true) {
  const taken = await PaymentVelocity.reserve({ db: database.db, keys: [key], limits, now });
  if (taken.refused.length > 0) return { refused: taken.refused, locks: [] };
  const locks = await PaymentVelocity.settle({ db: database.db, reserved: taken.reserved, isDecline, limits, now });
  return { refused: [], locks };
}

function rowOf(key: PaymentVelocity.VelocityKey) {
  return database.db.selectFrom("payment_velocity").selectAll().where("scope", "=", key.scope).where("key_hash", "=", key.keyHash).executeTakeFirstOrThrow();
}

describe("PaymentVelocity", () => {
  it("locks a key on the decline that reaches its limit, refuses it until the cool-down ends, then starts afresh", async () => {
    const key = freshKey("cart");
    expect((await attempt(key, at(0))).locks).toEqual([]);
    expect((await attempt(key, at(1))).locks).toEqual([]);
    const third = await attempt(key, at(2));
    expect(third.locks).toEqual([{ scope: "cart", declines: 3, lockedUntil: at(17) }]);

    expect((await PaymentVelocity.findLocks({ db: database.db, keys: [key], now: at(16) })).locks).toHaveLength(1);
    const refused = await attempt(key, at(16));
    expect(refused.refused).toEqual([{ scope: "cart", declines: 3, lockedUntil: at(17) }]);
    expect(PaymentVelocity.refusalOf(refused.refused, at(16)).retryAfterSeconds).toBe(60);

    // The cool-down is over: a fresh window and a fresh budget.
    expect((await PaymentVelocity.findLocks({ db: database.db, keys: [key], now: at(17) })).locks).toEqual([]);
    expect((await attempt(key, at(17))).locks).toEqual([]);
    expect(await rowOf(key)).toMatchObject({ declines: 1, in_flight: 0, locked_until: null });
  });

  it("forgets declines once their window ends without a lock", async () => {
    const key = freshKey("address");
    for (const minute of [0, 1, 2, 3]) expect((await attempt(key, at(minute))).locks).toEqual([]);
    // Four declines in the first hour; the fifth comes after the window, so it is the first of a new one.
    expect((await attempt(key, at(61))).locks).toEqual([]);
    expect(await rowOf(key)).toMatchObject({ declines: 1 });
  });

  it("counts approvals as nothing: only declines use the budget", async () => {
    const key = freshKey("card");
    for (let i = 0; i < 10; i += 1) expect(await attempt(key, at(0), false)).toEqual({ refused: [], locks: [] });
    expect(await rowOf(key)).toMatchObject({ declines: 0, in_flight: 0 });
  });

  it("lets a key have at most maxInFlight attempts at the processor at once, and one more as each ends", async () => {
    const key = freshKey("cart");
    await attempt(key, at(0));
    const taken = [];
    for (let i = 0; i < limits.maxInFlight; i += 1) taken.push(await PaymentVelocity.reserve({ db: database.db, keys: [key], limits, now: at(1) }));
    expect(taken.map((result) => result.refused)).toEqual(taken.map(() => []));
    // Not locked, only busy: the shopper is asked to wait a few seconds.
    const busy = await PaymentVelocity.reserve({ db: database.db, keys: [key], limits, now: at(1) });
    expect(busy.refused).toEqual([{ scope: "cart", declines: 1, lockedUntil: new Date(at(1).getTime() + PaymentVelocity.BUSY_RETRY_MS) }]);
    await PaymentVelocity.settle({ db: database.db, reserved: taken[0]!.reserved, isDecline: false, limits, now: at(1) });
    expect((await PaymentVelocity.reserve({ db: database.db, keys: [key], limits, now: at(1) })).refused).toEqual([]);
  });

  it("lets no more than maxInFlight of 20 concurrent attempts on one key through at once", async () => {
    const key = freshKey("address");
    const results = await Promise.all(Array.from({ length: 20 }, () => PaymentVelocity.reserve({ db: database.db, keys: [key], limits, now: at(0) })));
    expect(results.filter((result) => result.refused.length === 0)).toHaveLength(limits.maxInFlight);
    expect(await rowOf(key)).toMatchObject({ in_flight: limits.maxInFlight, declines: 0 });
  });

  it("counts every decline of 20 concurrent attempts exactly: never more than maxDeclines - 1 answered without a lock", async () => {
    const key = freshKey("card");
    const results = await Promise.all(Array.from({ length: 20 }, () => attempt(key, at(0))));
    const admitted = results.filter((result) => result.refused.length === 0);
    const withoutLock = admitted.filter((result) => result.locks.length === 0);
    expect(withoutLock).toHaveLength(limits.card.maxDeclines - 1);
    expect(admitted.length).toBeLessThanOrEqual(limits.card.maxDeclines - 1 + limits.maxInFlight);
    expect(await rowOf(key)).toMatchObject({ declines: admitted.length, in_flight: 0 });
    expect((await rowOf(key)).locked_until).toEqual(at(60));
  });

  it("tells whether any card at all is locked, so the card lookup can be skipped while none is", async () => {
    const cart = freshKey("cart");
    const card = freshKey("card");
    const before = await PaymentVelocity.findLocks({ db: database.db, keys: [cart], now: at(500), anyOfScope: "card" });
    expect(before).toEqual({ locks: [], isAnyLocked: false });
    for (const minute of [500, 501, 502]) await attempt(card, at(minute));
    const after = await PaymentVelocity.findLocks({ db: database.db, keys: [cart], now: at(503), anyOfScope: "card" });
    expect(after).toEqual({ locks: [], isAnyLocked: true });
    // Its lock over, no card is locked any more.
    expect((await PaymentVelocity.findLocks({ db: database.db, keys: [cart], now: at(600), anyOfScope: "card" })).isAnyLocked).toBe(false);
  });

  it("takes all of an attempt's keys or none: one locked key refuses the attempt and gives back what it took on the others", async () => {
    const cart = freshKey("cart");
    const card = freshKey("card");
    for (const minute of [0, 1, 2]) await attempt(card, at(minute));
    const result = await PaymentVelocity.reserve({ db: database.db, keys: [cart, card], limits, now: at(3) });
    expect(result).toMatchObject({ reserved: [], refused: [{ scope: "card" }] });
    expect(await rowOf(cart)).toMatchObject({ in_flight: 0, declines: 0 });
  });

  it("counts a decline on a key learnt only from the processor's answer, without taking an attempt back from it", async () => {
    const cart = freshKey("cart");
    const card = freshKey("card");
    const { reserved } = await PaymentVelocity.reserve({ db: database.db, keys: [cart], limits, now: at(0) });
    await PaymentVelocity.settle({ db: database.db, reserved, learnt: [card], isDecline: true, limits, now: at(0) });
    expect(await rowOf(card)).toMatchObject({ declines: 1, in_flight: 0 });
    expect(await rowOf(cart)).toMatchObject({ declines: 1, in_flight: 0 });
  });

  it("purges keys whose window has ended, and only those", async () => {
    const ended = freshKey("email");
    const live = freshKey("email");
    await attempt(ended, at(0));
    await attempt(live, at(100));
    await PaymentVelocity.purgeEnded({ db: database.db, now: at(100) });
    const left = await database.db.selectFrom("payment_velocity").select("key_hash").where("key_hash", "in", [ended.keyHash, live.keyHash]).execute();
    expect(left.map((row) => row.key_hash)).toEqual([live.keyHash]);
  });
});
