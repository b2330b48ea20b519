// Fault: the PostgreSQL server itself is stopped (fast shutdown) and started again on the same data
// directory and port under checkout load. The test runs its own embedded server, never the shared one
// other test files use. /ready reports 503 while the server is down and 200 again on its own; requests
// fail fast with a typed, retryable 503 (never a 500, never a hang); checkouts succeed again; every
// acknowledged order exists exactly once; stock and charges stay consistent; the process survives.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type RunningApp } from "../src/app.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../src/embedded-postgres.ts";
import { loadEnv } from "../src/env.ts";
import { createLogger } from "../src/logger.ts";
import type { AppRouter } from "../src/router.ts";
import { freePort } from "../scripts/free-port.ts";
import { CARDS, createAdminClient, readyCart, tokenizeCard } from "./support/app.ts";
import { sleep } from "./support/wait.ts";

/** /ready reuses its last database check this long (a short cache: the drill watches the outage closely). */
const READY_CACHE_MS = 250;

const WORKERS = 6;
/** The longest the server stays down: it is started again as soon as the outage has been seen (below), or after this. */
const DOWN_MS = 10_000;
/** Each HTTP request the load makes is cut off after this long: a hang shows up as a failure, not a stuck test. */
const REQUEST_TIMEOUT_MS = 10_000;
const SKU = "TEE-BLA-M";
const DATABASE = "checkout";
const ADMIN_TOKEN = `ops_${randomBytes(24).toString("hex")}`;

const started = performance.now();
const now = () => performance.now() - started;

let dataDir: string | undefined;
let port = 0;
/** The running server, or null while it is stopped. */
let server: EmbeddedDatabase | null = null;
let app: RunningApp | undefined;
const logs: string[] = [];

function startServer(): Promise<EmbeddedDatabase> {
  if (!dataDir) throw new Error("no data directory");
  return startEmbeddedPostgres({ dataDir, port });
}

/** One short-lived connection to our own server (never the pool under test). */
async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  if (!server) throw new Error("the server is stopped");
  const client = new pg.Client({ connectionString: server.url(DATABASE) });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "checkout-stop-start-pg-"));
  port = await freePort();
  server = await startServer();
  await server.createDatabase(DATABASE);
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const env = loadEnv({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: server.url(DATABASE),
    PAYMENT_SANDBOX_PORT: "0",
    WEB_DIST: "/nonexistent",
    SHUTDOWN_TIMEOUT_MS: "5000",
    JOBS: "off",
    DB_POOL_MAX: "4",
    ADMIN_API_TOKENS: `ops:${ADMIN_TOKEN}`,
    READY_CACHE_MS: String(READY_CACHE_MS),
  });
  app = await startApp(env, { log: createLogger({ level: "warn", destination }) });
  // Enough stock that the load never sells out.
  await query("update inventory set available = available + 100000, stock_received = stock_received + 100000 where sku = $1", [SKU]);
});

afterAll(async () => {
  try {
    await app?.close();
  } finally {
    try {
      await server?.stop();
    } finally {
      server = null;
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  }
});

interface FailedRequest {
  at: number;
  ms: number;
  procedure: string;
  /** HTTP status, or 0 when no response came (network error or our timeout). */
  status: number;
  retryAfter: string | null;
  appCode: string | null;
}

describe("PostgreSQL stopped and started again under checkout load", () => {
  it("reports not-ready while it is down, recovers on its own, fails fast with a retryable 503 and loses no acknowledged order", { timeout: 120_000 }, async () => {
    if (!app) throw new Error("the app did not start");
    const running = app;
    const failedRequests: FailedRequest[] = [];

    // Times every request the shoppers make and records each one that did not succeed, with what it answered.
    const timedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const at = now();
      const procedure = new URL(String(input)).pathname.replace(/^\/trpc\//, "");
      try {
        const response = await fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        if (!response.ok) {
          const body = (await response
            .clone()
            .json()
            .catch(() => null)) as { error?: { data?: { appCode?: string } } } | null;
          failedRequests.push({
            at,
            ms: now() - at,
            procedure,
            status: response.status,
            retryAfter: response.headers.get("retry-after"),
            appCode: body?.error?.data?.appCode ?? null,
          });
        }
        return response;
      } catch (error) {
        failedRequests.push({ at, ms: now() - at, procedure, status: 0, retryAfter: null, appCode: String(error) });
        throw error;
      }
    };
    const client = createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url: `${running.url}/trpc`,
          methodOverride: "POST",
          fetch: timedFetch,
          headers: ({ op }) => (op.path === "checkout.placeOrder" ? { "idempotency-key": (op.context.idempotencyKey as string | undefined) ?? randomUUID() } : {}),
        }),
      ],
    });
    const admin = createAdminClient(running.url, ADMIN_TOKEN);

    const acknowledged: string[] = [];
    const failedAttempts: { at: number; kind: string }[] = [];
    let isRunning = true;

    async function worker(): Promise<void> {
      while (isRunning) {
        const at = now();
        try {
          const cartId = await readyCart(client, [{ sku: SKU, quantity: 1 }]);
          const quote = await client.checkout.quote.mutate({ cartId });
          const order = await client.checkout.placeOrder.mutate(
            { cartId, quoteId: quote.id, paymentToken: await tokenizeCard(running.paymentUrl, CARDS.success) },
            { context: { idempotencyKey: randomUUID() } },
          );
          acknowledged.push(order.number);
        } catch (error) {
          const kind = error instanceof TRPCClientError ? `${error.data?.httpStatus ?? "?"} ${error.data?.appCode ?? error.message}` : String(error);
          failedAttempts.push({ at, kind });
          await sleep(50);
        }
      }
    }

    const readiness: { at: number; doneAt: number; status: number }[] = [];
    async function pollReady(): Promise<void> {
      while (isRunning) {
        const at = now();
        const status = await fetch(`${running.url}/ready`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then(
          (response) => response.status,
          () => 0,
        );
        readiness.push({ at, doneAt: now(), status });
        await sleep(100);
      }
    }

    const load = [...Array.from({ length: WORKERS }, worker), pollReady()];
    try {
      // The server stops once orders are really flowing, however slow the machine.
      // (Counted from the load's start: the clock starts at import, and a slow beforeAll must not use up the wait.)
      const loadStarted = now();
      while (acknowledged.length < WORKERS && now() < loadStarted + 60_000) await sleep(50);
      const ackedBeforeStop = acknowledged.length;

      // Fast shutdown (SIGINT to the postmaster): sessions are terminated, in-flight transactions roll back.
      const stopStarted = now();
      await server?.stop();
      server = null;
      const downAt = now();
      const during = await fetch(`${running.url}/trpc/cart.create`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ currency: "USD" }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const duringBody = (await during.json()) as { error?: { data?: { appCode?: string } } };
      // Down until the outage has shown: a /ready probe sent past its cache answered 503 and a shopper's request failed.
      const isOutageSeen = () => readiness.some((probe) => probe.at >= downAt + READY_CACHE_MS && probe.status === 503) && failedRequests.some((request) => request.at >= downAt);
      while (!isOutageSeen() && now() < downAt + DOWN_MS) await sleep(50);
      const restartStarted = now();
      server = await startServer();
      const upAt = now();

      // /ready must come back on its own; then the load keeps going until more orders have gone through.
      const isRecovered = () => readiness.some((probe) => probe.at >= upAt && probe.status === 200);
      while (!isRecovered() && now() < upAt + 15_000) await sleep(50);
      const firstReady = readiness.find((probe) => probe.at >= upAt && probe.status === 200);
      const ackedAtRecovery = acknowledged.length;
      while (acknowledged.length < ackedAtRecovery + WORKERS && now() < upAt + 20_000) await sleep(100);
      isRunning = false;
      await Promise.all(load);

      expect(ackedBeforeStop).toBeGreaterThan(0);
      // A probe within READY_CACHE_MS of the server going down may still get the last cached answer.
      const readyWhileDown = readiness.filter((probe) => probe.at >= downAt + READY_CACHE_MS && probe.doneAt <= restartStarted);
      expect(readyWhileDown.length).toBeGreaterThan(0);
      expect(readyWhileDown.map((probe) => probe.status).filter((status) => status !== 503)).toEqual([]);
      expect(firstReady).toBeDefined();
      const recoveryMs = (firstReady?.doneAt ?? Number.NaN) - upAt;
      expect(acknowledged.length).toBeGreaterThanOrEqual(ackedAtRecovery + WORKERS);

      // The request made while the server was down: typed and retryable.
      expect([during.status, during.headers.get("retry-after"), duringBody.error?.data?.appCode]).toEqual([503, "1", "SERVICE_UNAVAILABLE"]);
      // Every failed request: 503 + Retry-After + SERVICE_UNAVAILABLE, answered fast; never a 500, never a hang.
      expect(failedRequests.filter((request) => request.at >= downAt && request.at < restartStarted).length).toBeGreaterThan(0);
      expect(failedRequests.filter((request) => request.status !== 503 || request.retryAfter !== "1" || request.appCode !== "SERVICE_UNAVAILABLE")).toEqual([]);
      // Never a hang: a request still waiting at REQUEST_TIMEOUT_MS is aborted and shows as status 0, which the check
      // above refuses; and the request made while the server was down was answered before it was restarted.
      const slowestFailureMs = Math.max(...failedRequests.map((request) => request.ms));
      const kinds = [...new Set(failedAttempts.map((attempt) => attempt.kind))];
      expect(kinds).toEqual(["503 SERVICE_UNAVAILABLE"]);

      // Every acknowledged order exists exactly once; no cart holds two live orders.
      const rows = await query<{ number: string; cart_id: string; status: string }>(`select number::text as number, cart_id, status from "order"`);
      const counts = new Map<string, number>();
      for (const row of rows) counts.set(row.number, (counts.get(row.number) ?? 0) + 1);
      expect(acknowledged.filter((number) => counts.get(number) !== 1)).toEqual([]);
      expect(new Set(acknowledged).size).toBe(acknowledged.length);
      const live = rows.filter((row) => row.status !== "payment_failed" && row.status !== "cancelled");
      expect(new Set(live.map((row) => row.cart_id)).size).toBe(live.length);

      // Stock and charges, through the service's own check (acknowledged numbers in chunks it accepts).
      const reports = [];
      for (let i = 0; i < Math.max(acknowledged.length, 1); i += 500) reports.push(await admin.admin.invariants.query({ orderNumbers: acknowledged.slice(i, i + 500) }));
      expect(reports.flatMap((report) => report.violations)).toEqual([]);
      expect(reports.every((report) => report.passed)).toBe(true);

      // The process and its server survived: still healthy, still taking orders.
      expect((await fetch(`${running.url}/health`)).status).toBe(200);
      expect(logs.filter((line) => /"level":"(error|fatal)"/.test(line))).toEqual([]);

      const inFlightAtStop = failedRequests.filter((request) => request.at < stopStarted).length;
      const statuses = [...new Set(failedRequests.map((request) => `${request.status} ${request.appCode} retry-after ${request.retryAfter}`))];
      const byStatus = reports[0]?.orders.byStatus ?? {};
      console.log(
        `[fault-database-stop-start] ${WORKERS} checkout workers; fast stop took ${Math.round(downAt - stopStarted)} ms, server down ${Math.round(restartStarted - downAt)} ms, ` +
          `restart took ${Math.round(upAt - restartStarted)} ms; /ready 503 on all ${readyWhileDown.length} probes while down, 200 again ${Math.round(recoveryMs)} ms after the server was up; ` +
          `${failedAttempts.length} failed checkout attempts (${kinds.join(" | ")}) from ${failedRequests.length} failed requests (${inFlightAtStop} of them in flight at the stop; ${statuses.join(" | ")}), slowest ${Math.round(slowestFailureMs)} ms; ` +
          `${acknowledged.length} orders acknowledged (${ackedBeforeStop} before the stop, ${acknowledged.length - ackedAtRecovery} after recovery), each found exactly once; ` +
          `invariants passed (orders ${JSON.stringify(byStatus)})`,
      );
    } finally {
      isRunning = false;
      await Promise.allSettled(load);
    }
  });
});
