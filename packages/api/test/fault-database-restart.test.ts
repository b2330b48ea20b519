// Fault: the database goes away under checkout load. An admin connection refuses new connections to the
// test database and terminates every backend, holds the outage, then lets connections back in. /ready
// reports 503 during the outage and 200 again on its own; requests fail fast instead of hanging; every
// order a client saw acknowledged exists exactly once; the process survives its pool's dead connections.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { readyCart, startTestApp, type TestApp } from "./support/app.ts";
import { sleep } from "./support/wait.ts";

const WORKERS = 6;
const OUTAGE_MS = 2000;
/** /ready reuses its last database check this long; a probe within it of the outage's start may still see the old answer. */
const READY_CACHE_MS = 250;
const SKU = "TEE-BLA-M";

let t: TestApp;
let admin: pg.Client;
beforeAll(async () => {
  t = await startTestApp({ DB_POOL_MAX: "4", LOG_LEVEL: "warn", READY_CACHE_MS: String(READY_CACHE_MS) });
  admin = new pg.Client({ connectionString: inject("pgAdminUrl") });
  await admin.connect();
  // Enough stock that the load never sells out.
  await t.database.db
    .updateTable("inventory")
    .set((eb) => ({ available: eb("available", "+", 100_000), stock_received: eb("stock_received", "+", 100_000) }))
    .where("sku", "=", SKU)
    .execute();
});
afterAll(async () => {
  await admin?.query(`alter database ${t.database.name} allow_connections true`).catch(() => {});
  await admin?.end();
  await t?.close();
});

interface Failure {
  at: number;
  ms: number;
  kind: string;
}

describe("database restart under checkout load", () => {
  it("reports not-ready during the outage, recovers on its own, fails fast and loses no acknowledged order", async () => {
    const started = performance.now();
    const now = () => performance.now() - started;
    const acknowledged: string[] = [];
    const failures: Failure[] = [];
    let isRunning = true;

    async function worker(): Promise<void> {
      while (isRunning) {
        const attemptStarted = now();
        try {
          const cartId = await readyCart(t.client, [{ sku: SKU, quantity: 1 }]);
          const quote = await t.client.checkout.quote.mutate({ cartId });
          const token = await t.tokenize("4242424242424242");
          const order = await t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: token }, { context: { idempotencyKey: randomUUID() } });
          acknowledged.push(order.number);
        } catch (error) {
          const kind = error instanceof TRPCClientError ? `${error.data?.httpStatus ?? "?"} ${error.data?.appCode ?? error.message}` : String(error);
          failures.push({ at: attemptStarted, ms: now() - attemptStarted, kind });
          await sleep(50);
        }
      }
    }

    const readiness: { at: number; status: number }[] = [];
    async function pollReady(): Promise<void> {
      while (isRunning) {
        const at = now();
        const status = await fetch(`${t.app.url}/ready`, { signal: AbortSignal.timeout(10_000) }).then(
          (response) => response.status,
          () => 0,
        );
        readiness.push({ at, status });
        await sleep(100);
      }
    }

    const load = [...Array.from({ length: WORKERS }, worker), pollReady()];
    // The outage starts once the load is really flowing, however slow the machine.
    while (acknowledged.length < WORKERS && now() < 20_000) await sleep(50);
    const ackedBeforeOutage = acknowledged.length;

    await admin.query(`alter database ${t.database.name} allow_connections false`);
    await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()", [t.database.name]);
    const outageStarted = now();
    const during = await fetch(`${t.app.url}/trpc/cart.create`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ currency: "USD" }) });
    const duringBody = (await during.json()) as { error?: { data?: { appCode?: string } } };
    await sleep(OUTAGE_MS - (now() - outageStarted));
    await admin.query(`alter database ${t.database.name} allow_connections true`);
    const outageEnded = now();

    // Wait for readiness to come back on its own, then keep the load on a little longer.
    const recoveryDeadline = outageEnded + 15_000;
    while (!readiness.some((probe) => probe.at >= outageEnded && probe.status === 200) && now() < recoveryDeadline) await sleep(50);
    const firstReady = readiness.find((probe) => probe.at >= outageEnded && probe.status === 200);
    const ackedAtRecovery = acknowledged.length;
    while (acknowledged.length < ackedAtRecovery + WORKERS && now() < recoveryDeadline + 10_000) await sleep(100);
    isRunning = false;
    await Promise.all(load);

    expect(ackedBeforeOutage).toBeGreaterThan(0);
    const readyDuringOutage = readiness.filter((probe) => probe.at > outageStarted + READY_CACHE_MS + 200 && probe.at < outageEnded - 200);
    expect(readyDuringOutage.length).toBeGreaterThan(0);
    // Any probe that was not a 503 is shown with its time and status (0: no answer within 10 s).
    expect(readyDuringOutage.filter((probe) => probe.status !== 503).map((probe) => ({ afterOutageStartMs: Math.round(probe.at - outageStarted), status: probe.status }))).toEqual(
      [],
    );
    expect(firstReady).toBeDefined();
    const recoveryMs = (firstReady?.at ?? Number.NaN) - outageEnded;
    expect(acknowledged.length).toBeGreaterThanOrEqual(ackedAtRecovery + WORKERS);

    // Fail fast: no attempt during the outage hung until it was over and beyond (a whole checkout is several calls).
    const duringOutage = failures.filter((failure) => failure.at >= outageStarted && failure.at < outageEnded);
    expect(duringOutage.length).toBeGreaterThan(0);
    expect([during.status, during.headers.get("retry-after"), duringBody.error?.data?.appCode]).toEqual([503, "1", "SERVICE_UNAVAILABLE"]);
    // Typed and retryable: 503 with the database named as the reason, never a 500.
    expect([...new Set(failures.map((failure) => failure.kind))]).toEqual(["503 SERVICE_UNAVAILABLE"]);

    // Every acknowledged order exists exactly once; no cart holds two live orders.
    const rows = await t.database.db.selectFrom("order").select(["number", "cart_id", "status"]).execute();
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(row.number, (counts.get(row.number) ?? 0) + 1);
    expect(acknowledged.filter((number) => counts.get(number) !== 1)).toEqual([]);
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
    const live = rows.filter((row) => row.status !== "payment_failed" && row.status !== "cancelled");
    expect(new Set(live.map((row) => row.cart_id)).size).toBe(live.length);

    const kinds = [...new Set(failures.map((failure) => failure.kind))];
    console.log(
      `[fault-database-restart] ${WORKERS} checkout workers, outage ${Math.round(outageEnded - outageStarted)} ms: ` +
        `/ready 503 throughout the outage (${readyDuringOutage.length} probes), 200 again ${Math.round(recoveryMs)} ms after the database returned; ` +
        `${failures.length} failed attempts (${duringOutage.length} started during the outage, slowest ${Math.round(Math.max(...failures.map((f) => f.ms)))} ms; ${kinds.join(" | ")}); ` +
        `${acknowledged.length} orders acknowledged (${ackedBeforeOutage} before), each found exactly once`,
    );
  });
});
