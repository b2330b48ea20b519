// How `pnpm start` finds its database: embedded PostgreSQL that keeps orders across restarts, or
// the server named by DATABASE_URL (this machine's PostgreSQL 15 stands in for RDS).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startApp } from "../src/app.ts";
import { loadEnv } from "../src/env.ts";
import { createLogger } from "../src/logger.ts";
import { freePort } from "../scripts/free-port.ts";
import { CARDS, createClient, readyCart, tokenizeCard } from "./support/app.ts";

const SYSTEM_POSTGRES = process.env.SYSTEM_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const quiet = createLogger({ level: "silent" });

async function isReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function placeOrder(url: string, paymentUrl: string): Promise<string> {
  const client = createClient(url);
  const cartId = await readyCart(client);
  const quote = await client.checkout.quote.mutate({ cartId });
  const order = await client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await tokenizeCard(paymentUrl, CARDS.success) });
  return order.id;
}

const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe("start with no DATABASE_URL", () => {
  it("runs an embedded PostgreSQL whose data survives a restart", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "checkout-start-"));
    dataDirs.push(dataDir);
    const env = loadEnv({
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: "0",
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(await freePort()),
      PAYMENT_SANDBOX_PORT: "0",
      WEB_DIST: "/nonexistent",
    });
    const first = await startApp(env, { log: quiet });
    let orderId: string;
    try {
      expect(first.databaseUrl).toContain(`127.0.0.1:${env.EMBEDDED_PG_PORT}/checkout`);
      orderId = await placeOrder(first.url, first.paymentUrl);
    } finally {
      await first.close();
    }
    const second = await startApp(env, { log: quiet });
    try {
      const order = await createClient(second.url).order.get.query({ orderId });
      expect(order.status).toBe("captured");
      const { products } = await createClient(second.url).catalog.list.query();
      // The seed ran once: a restart neither duplicates products nor resets sold stock.
      const tee = products.find((p) => p.id === "everyday-tee")!.variants.find((v) => v.sku === "TEE-BLA-M")!;
      expect(tee.available).toBe(58);
    } finally {
      await second.close();
    }
  });
});

describe("start with DATABASE_URL", async () => {
  const reachable = await isReachable(SYSTEM_POSTGRES);
  // Needs the PostgreSQL server this machine kind runs at 127.0.0.1:5432; skipped where there is none.
  it.runIf(reachable)("uses that server: migrates, seeds and takes orders there", async () => {
    const name = `checkout_ext_${randomBytes(5).toString("hex")}`;
    const admin = new pg.Client({ connectionString: SYSTEM_POSTGRES });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(SYSTEM_POSTGRES);
    url.pathname = `/${name}`;
    const app = await startApp(
      loadEnv({ NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", DATABASE_URL: url.toString(), PAYMENT_SANDBOX_PORT: "0", WEB_DIST: "/nonexistent", JOBS: "off" }),
      { log: quiet },
    );
    try {
      const orderId = await placeOrder(app.url, app.paymentUrl);
      const check = new pg.Client({ connectionString: url.toString() });
      await check.connect();
      const found = await check.query(`select status, current_setting('server_version_num')::int as version from "order" where id = $1`, [orderId]);
      await check.end();
      expect(found.rows).toEqual([{ status: "captured", version: expect.any(Number) }]);
      expect(found.rows[0].version).toBeGreaterThanOrEqual(150000);
    } finally {
      await app.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
