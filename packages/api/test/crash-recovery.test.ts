// The API process is SIGKILLed in the middle of placing an order — once while it waits on an
// authorisation the payment sandbox has already made, once before its request reached the sandbox.
// After a restart on the same database, the reconciler leaves exactly one consistent outcome each.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Inventory, type Reconciler } from "@checkout/core";
import { startPaymentSandbox, type PaymentSandbox } from "@checkout/payment-sandbox";
import { freePort } from "../scripts/free-port.ts";
import { CARDS, createClient, readyCart, tokenizeCard } from "./support/app.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { paymentsOf } from "./support/orders.ts";
import { authorizationsFor } from "./support/sandbox.ts";
import { waitUntil } from "./support/wait.ts";

const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SECRET_KEY = "sk_crash_test_0123456789";
const SLOW_CARD = "4000000000000259";
const SKU = "TEE-BLA-M";
const QUANTITY = 2;
/** The crashed API's provider timeout: its authorisation claim lasts this plus a margin. */
const CRASHED_PROVIDER_TIMEOUT_MS = 1000;

let sandbox: PaymentSandbox;
let blackHole: { url: string; received: string[]; server: Server };
let database: TestDatabase;
let mailDir: string;
const children = new Set<ChildProcess>();

interface Api {
  url: string;
  child: ChildProcess;
  output: () => string;
}

function apiEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    DATABASE_URL: database.url,
    PAYMENT_SANDBOX: "false",
    PAYMENT_PROVIDER_URL: sandbox.url,
    PAYMENT_SECRET_KEY: SECRET_KEY,
    PAYMENT_WEBHOOK_SECRET: "whsec_crash_test_unused",
    JOBS: "off",
    WEB_DIST: "/nonexistent",
    LOG_LEVEL: "info",
    MAIL_DIR: mailDir,
    ...overrides,
  };
}

async function startApi(overrides: Record<string, string> = {}): Promise<Api> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: apiRoot,
    env: apiEnv({ PORT: String(port), ...overrides }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    `${url}/ready`,
    async () => {
      if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}:\n${output}`);
      return fetch(`${url}/ready`).then(
        (r) => r.ok,
        () => false,
      );
    },
    30_000,
  );
  return { url, child, output: () => output };
}

async function kill(api: Api, signal: NodeJS.Signals): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => api.child.once("exit", (code) => resolve(code)));
  api.child.kill(signal);
  const code = await exited;
  children.delete(api.child);
  return code;
}

/** `pnpm reconcile`, as an operator would run it: a separate process against the same database and provider. */
function runReconcileCli(): Promise<Omit<Reconciler.ReconcileSummary, "orders"> & Pick<Reconciler.ReconcileSummary, "orders">> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/reconcile.ts"], {
      cwd: apiRoot,
      env: apiEnv({ RECONCILE_GRACE_MS: "0" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`reconcile exited ${code}:\n${stderr}${stdout}`));
      resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "null"));
    });
  });
}

/** Starts placing an order and returns at once; the placeOrder request stays in flight. */
async function startPlacingOrder(api: Api, card: string) {
  const client = createClient(api.url);
  const cartId = await readyCart(client, [{ sku: SKU, quantity: QUANTITY }]);
  const quote = await client.checkout.quote.mutate({ cartId });
  const paymentToken = await tokenizeCard(sandbox.url, card);
  const placing = client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken }).then(
    () => "answered" as const,
    () => "failed" as const,
  );
  const order = await waitUntil("the pending order", () => database.db.selectFrom("order").selectAll().where("cart_id", "=", cartId).executeTakeFirst());
  return { order, placing };
}

function orderRow(orderId: string) {
  return database.db.selectFrom("order").selectAll().where("id", "=", orderId).executeTakeFirstOrThrow();
}

/** The process that died held the order's authorisation claim; waits until it has run out. */
async function claimRunOut(orderId: string) {
  const { authorizing_until: until } = await orderRow(orderId);
  if (!until) return; // it gave up on the provider (and let go of the claim) before it was killed
  await waitUntil("the authorisation claim to run out", () => Date.now() > until.getTime() + 50, 30_000);
}

beforeAll(async () => {
  // The slow card is authorised at once but answered only after a minute: the API is still waiting when it dies.
  sandbox = await startPaymentSandbox({ port: 0, secretKey: SECRET_KEY, allowedParentOrigins: ["http://localhost:3000"], slowCardDelayMs: 60_000 });
  // A provider address that accepts requests and never answers or forwards them: the network lost them.
  const received: string[] = [];
  const server = createServer((request) => {
    received.push(`${request.method} ${request.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  blackHole = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
  database = await createTestDatabase();
  mailDir = mkdtempSync(path.join(os.tmpdir(), "checkout-crash-mail-"));
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await sandbox?.close();
  blackHole?.server.closeAllConnections();
  await new Promise((resolve) => blackHole?.server.close(resolve));
  await database?.drop();
  rmSync(mailDir, { recursive: true, force: true });
});

describe("an API process killed while placing an order", () => {
  let authorisedOrderId: string;
  let stockAtStart: number;

  it("after SIGKILL while waiting on an authorisation the sandbox made, restart + reconcile: captured once", { timeout: 90_000 }, async () => {
    const startedAt = Date.now();
    stockAtStart = await Inventory.available(database.db, SKU);
    // A short provider timeout keeps the order's authorisation claim (timeout + margin) short, so the
    // reconciler, which keeps off a claimed order, need not wait long after the crash.
    const api = await startApi({ PAYMENT_PROVIDER_TIMEOUT_MS: String(CRASHED_PROVIDER_TIMEOUT_MS) });
    const { order, placing } = await startPlacingOrder(api, SLOW_CARD);
    authorisedOrderId = order.id;
    await waitUntil("the sandbox's authorisation", () => authorizationsFor(sandbox, order.number).length === 1);
    await kill(api, "SIGKILL");
    expect(await placing).toBe("failed");

    expect(await orderRow(order.id)).toMatchObject({ status: "pending_payment" });
    expect(await paymentsOf(database.db, order.id)).toEqual([]);
    expect(await Inventory.available(database.db, SKU)).toBe(stockAtStart - QUANTITY);

    // The restart (jobs off: it touches no order) comes up while the dead process's claim runs out; the operator's
    // reconciliation runs only once both have happened.
    const [restarted] = await Promise.all([startApi(), claimRunOut(order.id)]);
    try {
      const summary = await runReconcileCli();
      expect(summary).toMatchObject({ examined: 1, confirmed: 1, captured: 1, released: 0, voided: 0, skipped: 0 });
      expect(summary.orders).toEqual([{ orderId: order.id, number: order.number, outcome: "captured-and-confirmed" }]);

      const seen = await createClient(restarted.url).order.get.query({ orderId: order.id });
      expect(seen.status).toBe("captured");
      const rows = await paymentsOf(database.db, order.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: "captured", amount: order.total, captured_amount: order.total });
      const atSandbox = authorizationsFor(sandbox, order.number);
      expect(atSandbox).toHaveLength(1);
      expect(atSandbox[0]).toMatchObject({ id: rows[0]!.provider_reference, status: "captured", amount: order.total, capturedAmount: order.total });
      expect(atSandbox[0]!.captures).toHaveLength(1);
      expect(await Inventory.available(database.db, SKU)).toBe(stockAtStart - QUANTITY);
      const events = await database.db.selectFrom("outbox_event").select("type").where("aggregate_id", "=", order.id).orderBy("created_at").execute();
      expect(events.map((event) => event.type)).toEqual(["order.placed", "order.captured"]);
    } finally {
      await kill(restarted, "SIGTERM");
    }
    console.info(`crash case 1 (killed after the sandbox authorised) took ${Date.now() - startedAt} ms`);
  });

  it("after SIGKILL before the authorisation reached the sandbox, restart with jobs on: released, stock back, no authorisation", { timeout: 90_000 }, async () => {
    const startedAt = Date.now();
    const api = await startApi({ PAYMENT_PROVIDER_URL: blackHole.url, PAYMENT_PROVIDER_TIMEOUT_MS: String(CRASHED_PROVIDER_TIMEOUT_MS) });
    const { order, placing } = await startPlacingOrder(api, CARDS.success);
    await waitUntil("the authorisation request to leave the API", () => blackHole.received.includes("POST /v1/authorizations"));
    await kill(api, "SIGKILL");
    expect(await placing).toBe("failed");
    expect(await orderRow(order.id)).toMatchObject({ status: "pending_payment" });
    expect(await Inventory.available(database.db, SKU)).toBe(stockAtStart - 2 * QUANTITY);

    // This time the restarted API's own reconciler job settles it (grace 0 so the test need not wait a minute).
    const restarted = await startApi({ JOBS: "on", RECONCILE_GRACE_MS: "0", RECONCILE_INTERVAL_MS: "200", OUTBOX_POLL_MS: "100" });
    try {
      // It keeps off the order until the dead process's authorisation claim has run out.
      await waitUntil("the reconciler to release the order", async () => (await orderRow(order.id)).status === "payment_failed", 30_000);
      expect(await paymentsOf(database.db, order.id)).toMatchObject([{ status: "declined", decline_code: "no_authorization" }]);
      expect(await Inventory.available(database.db, SKU)).toBe(stockAtStart - QUANTITY);
      expect(authorizationsFor(sandbox, order.number)).toEqual([]);
      // No authorisation without an order: every one the sandbox holds belongs to a captured order.
      for (const authorization of sandbox.debugDump().authorizations) {
        const owner = await database.db.selectFrom("order").select("status").where("number", "=", authorization.reference).executeTakeFirst();
        expect({ reference: authorization.reference, status: owner?.status }).toEqual({ reference: authorization.reference, status: "captured" });
      }
      // The restarted process's outbox also sent the first order's confirmation, exactly once.
      const mail = await waitUntil("the confirmation email", () => {
        // Whole messages only: a message is written as .partial, then linked into place as .eml.
        const files = readdirSync(mailDir).filter((file) => file.endsWith(".eml"));
        return files.length > 0 ? files : undefined;
      });
      const first = await orderRow(authorisedOrderId);
      expect(mail).toHaveLength(1);
      expect(mail[0]).toContain(`order-${first.number}`);
      expect(readFileSync(path.join(mailDir, mail[0]!), "utf8")).toContain(`Order number: ${first.number}`);
    } finally {
      // A graceful stop with the jobs running: they finish their current run, then the pools close.
      expect(await kill(restarted, "SIGTERM")).toBe(0);
      expect(restarted.output()).toMatch(/"timedOut":false/);
    }
    console.info(`crash case 2 (killed before the sandbox got the request) took ${Date.now() - startedAt} ms`);
  });

  it("a further reconciliation run finds nothing left to do", { timeout: 30_000 }, async () => {
    expect(await runReconcileCli()).toEqual({ examined: 0, confirmed: 0, captured: 0, released: 0, voided: 0, skipped: 0, orders: [] });
  });
});
