// Idempotency.run against real PostgreSQL: one key runs its work at most once, replays the stored answer, refuses
// another request under the same key, releases the key when the outcome is not final, and expires.
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, Idempotency } from "../src/index.ts";
import { createTestDatabase, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ seed: false });
});
afterAll(async () => {
  await database?.drop();
});

const finalUnlessServerError = (response: Idempotency.StoredResponse) => response.status < 500;

/** A run of `operation` under `key` whose work counts its executions and answers `response`. */
function counting(response: Idempotency.StoredResponse = { status: 200, body: `{"order":"${randomUUID()}"}` }) {
  const counter = {
    executions: 0,
    run(input: { key: string; scope?: string; input?: unknown; lockMs?: number; work?: () => Promise<Idempotency.StoredResponse> }) {
      return Idempotency.run({
        db: database.db,
        scope: input.scope ?? "cart:a",
        key: input.key,
        fingerprint: Idempotency.fingerprint("checkout.placeOrder", input.input ?? { quoteId: "q1" }),
        lockMs: input.lockMs,
        shouldStore: finalUnlessServerError,
        execute: async () => {
          counter.executions++;
          return input.work ? input.work() : response;
        },
      });
    },
  };
  return counter;
}

async function appCodeOf(promise: Promise<unknown>): Promise<{ code: string; details: Record<string, unknown> | undefined }> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return { code: (error as AppError).code, details: (error as AppError).details as Record<string, unknown> | undefined };
}

describe("fingerprint", () => {
  it("is the same for the same input in any key order, and differs for another operation or input", () => {
    const a = Idempotency.fingerprint("op", { b: 1, a: { d: [1, 2], c: "x" } });
    expect(Idempotency.fingerprint("op", { a: { c: "x", d: [1, 2] }, b: 1 })).toBe(a);
    expect(Idempotency.fingerprint("other", { b: 1, a: { d: [1, 2], c: "x" } })).not.toBe(a);
    expect(Idempotency.fingerprint("op", { b: 2, a: { d: [1, 2], c: "x" } })).not.toBe(a);
  });
});

describe("Idempotency.run", () => {
  it("runs the work once for 50 concurrent calls with one key; the rest replay it or are told to retry", async () => {
    const key = randomUUID();
    const work = counting();
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => work.run({ key, work: () => new Promise((resolve) => setTimeout(() => resolve({ status: 200, body: '{"order":1}' }), 50)) })),
    );
    expect(work.executions).toBe(1);
    const answered = results.filter((r) => r.status === "fulfilled").map((r) => r.value);
    expect(answered.length).toBeGreaterThanOrEqual(1);
    expect(answered.filter((r) => !r.isReplay)).toHaveLength(1);
    expect(new Set(answered.map((r) => `${r.status} ${r.body}`))).toEqual(new Set(['200 {"order":1}']));
    for (const failure of results.filter((r): r is PromiseRejectedResult => r.status === "rejected")) {
      expect(failure.reason).toBeInstanceOf(AppError);
      expect(failure.reason).toMatchObject({ code: "IDEMPOTENCY_IN_PROGRESS", details: { key, retryAfterSeconds: 1 } });
    }
    const replay = await work.run({ key });
    expect(replay).toEqual({ status: 200, body: '{"order":1}', isReplay: true });
    expect(work.executions).toBe(1);
  });

  it("refuses the same key with a different request, running nothing", async () => {
    const key = randomUUID();
    const work = counting();
    await work.run({ key, input: { quoteId: "q1", paymentToken: "tok_1" } });
    const refused = await appCodeOf(work.run({ key, input: { quoteId: "q1", paymentToken: "tok_2" } }));
    expect(refused).toEqual({ code: "IDEMPOTENCY_KEY_REUSED", details: { key } });
    expect(work.executions).toBe(1);
  });

  it("stores a final failure too: a replayed decline gets the same answer without running again", async () => {
    const key = randomUUID();
    const work = counting({ status: 402, body: '{"error":"PAYMENT_DECLINED"}' });
    const first = await work.run({ key });
    const again = await work.run({ key });
    expect(again).toEqual({ ...first, isReplay: true });
    expect(work.executions).toBe(1);
  });

  it("releases the key when the outcome is not final, so a retry runs again", async () => {
    const key = randomUUID();
    const failing = counting({ status: 503, body: '{"error":"PAYMENT_UNAVAILABLE"}' });
    expect(await failing.run({ key })).toMatchObject({ status: 503, isReplay: false });
    expect(await failing.run({ key })).toMatchObject({ status: 503, isReplay: false });
    expect(failing.executions).toBe(2);
    const rows = await database.db.selectFrom("idempotency_key").select("id").where("key", "=", key).execute();
    expect(rows).toEqual([]);
  });

  it("releases the key when the work throws, so a retry runs", async () => {
    const key = randomUUID();
    const work = counting();
    await expect(work.run({ key, work: () => Promise.reject(new Error("database went away")) })).rejects.toThrow("database went away");
    expect(await work.run({ key })).toMatchObject({ status: 200, isReplay: false });
    expect(work.executions).toBe(2);
  });

  it("rejects a malformed key before writing anything", async () => {
    const work = counting();
    for (const key of ["short", "x".repeat(256), "has space in it", "ключ-ключ-ключ"]) {
      expect(await appCodeOf(work.run({ key }))).toMatchObject({ code: "BAD_INPUT" });
    }
    expect(work.executions).toBe(0);
    expect(Idempotency.isValidKey(randomUUID())).toBe(true);
  });

  it("scopes keys: one key in two scopes runs twice", async () => {
    const key = randomUUID();
    const work = counting();
    expect(await work.run({ key, scope: "cart:one" })).toMatchObject({ isReplay: false });
    expect(await work.run({ key, scope: "cart:two" })).toMatchObject({ isReplay: false });
    expect(work.executions).toBe(2);
  });

  it("lets another request take over a key whose holder died (its lock ran out), and only one", async () => {
    const key = randomUUID();
    // A holder that never finishes: its process died with the key in progress.
    await database.db
      .insertInto("idempotency_key")
      .values({
        scope: "cart:a",
        key,
        fingerprint: Idempotency.fingerprint("checkout.placeOrder", { quoteId: "q1" }),
        status: "in_progress",
        locked_until: sql<Date>`now() - interval '1 second'`,
        expires_at: sql<Date>`now() + interval '1 day'`,
      })
      .execute();
    const work = counting();
    const results = await Promise.allSettled([work.run({ key }), work.run({ key }), work.run({ key })]);
    expect(work.executions).toBe(1);
    expect(results.filter((r) => r.status === "fulfilled" && !r.value.isReplay)).toHaveLength(1);
  });

  it("tells a duplicate of a request still running (its lock live) to retry", async () => {
    const key = randomUUID();
    let finish!: () => void;
    const work = counting();
    const first = work.run({ key, work: () => new Promise((resolve) => (finish = () => resolve({ status: 200, body: "{}" }))) });
    await expect.poll(() => work.executions).toBe(1);
    expect(await appCodeOf(work.run({ key }))).toMatchObject({ code: "IDEMPOTENCY_IN_PROGRESS" });
    finish();
    expect(await first).toMatchObject({ isReplay: false });
    expect(await work.run({ key })).toMatchObject({ isReplay: true });
  });
});

describe("expired keys", () => {
  it("are removed by deleteExpired, and a key past its expiry runs afresh", async () => {
    const key = randomUUID();
    const work = counting();
    await work.run({ key });
    await database.db
      .updateTable("idempotency_key")
      .set({ expires_at: new Date(Date.now() - 60_000) })
      .where("key", "=", key)
      .execute();
    // Past expiry, the stored answer is not replayed: the request runs again.
    expect(await work.run({ key })).toMatchObject({ isReplay: false });
    expect(work.executions).toBe(2);

    await database.db
      .updateTable("idempotency_key")
      .set({ expires_at: new Date(Date.now() - 60_000) })
      .where("key", "=", key)
      .execute();
    const live = randomUUID();
    await work.run({ key: live });
    expect(await Idempotency.deleteExpired(database.db)).toBeGreaterThanOrEqual(1);
    const left = await database.db.selectFrom("idempotency_key").select("key").where("key", "in", [key, live]).execute();
    expect(left).toEqual([{ key: live }]);
  });
});
