// Runs the whole service in-process against a fresh test database: real HTTP, real PostgreSQL,
// the real payment sandbox on its own port, and a typed tRPC client like the web app's.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { startApp, type RunningApp } from "../../src/app.ts";
import { loadEnv } from "../../src/env.ts";
import { createLogger } from "../../src/logger.ts";
import type { AppRouter } from "../../src/router.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";

export interface TestApp {
  app: RunningApp;
  database: TestDatabase;
  client: ReturnType<typeof createClient>;
  /** Every log line the service wrote, as raw JSON text. */
  logs: string[];
  /** Tokenises a card with the sandbox, as the card field in the browser would. */
  tokenize(number: string, extra?: { cvc?: string; expMonth?: number; expYear?: number }): Promise<string>;
  close(): Promise<void>;
}

/**
 * A typed client like the web app's, sending `headers` with every call. Each placeOrder call is a new attempt with its
 * own Idempotency-Key unless the call passes one: `placeOrder.mutate(input, { context: { idempotencyKey } })`.
 */
export function createClient(url: string, headers: Record<string, string> = {}) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/trpc`,
        methodOverride: "POST",
        headers: ({ op }) => ({
          ...headers,
          ...(op.path === "checkout.placeOrder" ? { "idempotency-key": (op.context.idempotencyKey as string | undefined) ?? randomUUID() } : {}),
        }),
      }),
    ],
  });
}

/** A client of the admin API: `token` sent as a Bearer token (null: none), `headers` with every call. */
export function createAdminClient(url: string, token: string | null, headers: Record<string, string> = {}) {
  return createClient(url, { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) });
}

export async function startTestApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const logs: string[] = [];
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
    DATABASE_URL: database.url,
    PAYMENT_SANDBOX_PORT: "0",
    WEB_DIST: "/nonexistent",
    LOG_LEVEL: "info",
    SHUTDOWN_TIMEOUT_MS: "5000",
    // Background jobs off unless a test turns them on: it then drives the outbox or reconciler itself.
    JOBS: "off",
    ...overrides,
  });
  const app = await startApp(env, { log: createLogger({ level: "debug", destination }) });
  return {
    app,
    database,
    client: createClient(app.url),
    logs,
    tokenize: (number, extra) => tokenizeCard(app.paymentUrl, number, extra),
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

/** Tokenises a card at the payment sandbox at `paymentUrl`, as the card field in the browser would; its token id. */
export async function tokenizeCard(paymentUrl: string, number: string, extra: { cvc?: string; expMonth?: number; expYear?: number } = {}): Promise<string> {
  const response = await fetch(`${paymentUrl}/v1/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ number, expMonth: extra.expMonth ?? 12, expYear: extra.expYear ?? new Date().getFullYear() + 2, cvc: extra.cvc ?? "123" }),
  });
  const body = (await response.json()) as { id?: string; error?: { message: string } };
  if (!response.ok || !body.id) throw new Error(`tokenize failed: ${response.status} ${JSON.stringify(body)}`);
  return body.id;
}

/** Calls `fn` and returns the TRPCClientError it throws, failing the test if it does not. */
export async function expectTrpcError(fn: () => Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof TRPCClientError) return error as TRPCClientError<AppRouter>;
    throw error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

export const US_ADDRESS = {
  name: "Ada Lovelace",
  line1: "500 Howard St",
  city: "San Francisco",
  region: "CA",
  postalCode: "94105",
  country: "US" as const,
};

export const CARDS = {
  success: "4242424242424242",
  declined: "4000000000000002",
  insufficientFunds: "4000000000009995",
  /** Asks for a 3-D Secure challenge: the order waits on the shopper (support/three-d-secure.ts). */
  threeDSecure: "4000002760003184",
};

/** Fills a cart up to the point where it can be quoted. */
export async function readyCart(client: TestApp["client"], lines: { sku: string; quantity: number }[] = [{ sku: "TEE-BLA-M", quantity: 2 }]) {
  const cart = await client.cart.create.mutate({ currency: "USD" });
  for (const line of lines) await client.cart.addLine.mutate({ cartId: cart.id, ...line });
  await client.checkout.setContact.mutate({ cartId: cart.id, email: "ada@example.com" });
  await client.checkout.setShippingAddress.mutate({ cartId: cart.id, address: US_ADDRESS });
  await client.checkout.setShippingOption.mutate({ cartId: cart.id, optionId: "standard" });
  return cart.id;
}
