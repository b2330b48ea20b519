// `pnpm retention:purge` against real PostgreSQL: one purge with the configured retention, its summary printed, and a
// retention shorter than the settings allow refused by name. What a purge deletes and keeps is core's rule, tested
// directly in packages/core/test/retention.test.ts.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cart, Checkout } from "@checkout/core";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";

const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;

/** Moves a cart's last change (and its quotes) `days` into the past, as if nobody had touched it since. */
async function ageCart(cartId: string, days: number): Promise<void> {
  const when = sql<Date>`now() - make_interval(days => ${days})`;
  await db().updateTable("cart").set({ updated_at: when, created_at: when }).where("id", "=", cartId).execute();
  await db().updateTable("quote").set({ created_at: when, expires_at: when }).where("cart_id", "=", cartId).execute();
}

async function exists(table: "cart", id: string): Promise<boolean> {
  const row = await db().selectFrom(table).select("id").where("id", "=", id).executeTakeFirst();
  return row !== undefined;
}

/** A cart with a line, contact, address and a quote, as a shopper leaves it at the review step. */
async function quotedCart(): Promise<{ cartId: string; quoteId: string }> {
  const { id: cartId } = await Cart.create({ db: db(), currency: "USD" });
  await Cart.addLine({ db: db(), cartId, sku: "TOTE", quantity: 1 });
  await Checkout.setContact({ db: db(), cartId, email: "ada@example.com" });
  await Checkout.setShippingAddress({
    db: db(),
    cartId,
    address: { name: "Ada Lovelace", line1: "500 Howard St", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" },
  });
  await Checkout.setShippingOption({ db: db(), cartId, optionId: "standard" });
  const quote = await Checkout.quote({ db: db(), cartId });
  return { cartId, quoteId: quote.id };
}

describe("pnpm retention:purge", () => {
  it("runs one purge with the configured retention and prints its summary", async () => {
    const { cartId } = await quotedCart();
    await ageCart(cartId, 11);
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "src/cli/retention-purge.ts"],
        { cwd: apiRoot, env: { ...process.env, NODE_ENV: "test", DATABASE_URL: database.url, CART_RETENTION_DAYS: "10" }, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split("\n").at(-1)!)).toMatchObject({ carts: 1, hasMore: false });
    expect(await exists("cart", cartId)).toBe(false);
  });

  it("refuses a retention shorter than the settings allow, naming it", async () => {
    const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "src/cli/retention-purge.ts"],
        { cwd: apiRoot, env: { ...process.env, NODE_ENV: "test", DATABASE_URL: database.url, ORDER_PERSONAL_DATA_RETENTION_DAYS: "7" }, timeout: 60_000 },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
      );
    });
    expect(run.code).toBe(78);
    expect(run.stderr).toMatch(/ORDER_PERSONAL_DATA_RETENTION_DAYS/);
  });
});
