// `tsx bench/audit-chain-cost.ts`: times N concurrent order placements (overlapping multi-SKU carts) end to end with the
// audit chain off, sealed at commit (as shipped) and sealed at each insert (the lock taken when record() runs), rounds interleaved.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { createTRPCClient, httpLink } from "@trpc/client";
import pg from "pg";
import { sql } from "kysely";
import type { Kysely } from "kysely";
import { percentile } from "@checkout/bench-support";
import type { Database } from "@checkout/core";
import { startApp } from "../src/app.ts";
import { loadEnv } from "../src/env.ts";
import { createLogger } from "../src/logger.ts";
import { startEmbeddedPostgres } from "../src/embedded-postgres.ts";
import type { AppRouter } from "../src/router.ts";

const ORDERS = Number(process.env.AUDIT_BENCH_ORDERS ?? 200);
const ROUNDS = Number(process.env.AUDIT_BENCH_ROUNDS ?? 3);
const POOL = process.env.DB_POOL_MAX ?? "10";
const SKUS = ["TEE-BLA-M", "MUG-SLA", "TOTE", "NOTE-A5", "LAMP"];
const ADDRESS = { name: "Ada Lovelace", line1: "500 Howard St", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" as const };

type Mode = "off" | "at-commit" | "at-insert";
const MODES = (process.env.AUDIT_BENCH_MODES ?? "off,at-commit,at-insert").split(",") as Mode[];

/** Switches how audit rows are chained: not at all, by the deferred trigger, or by the same trigger fired at each insert. */
async function setMode(db: Kysely<Database>, mode: Mode): Promise<void> {
  await sql`drop trigger if exists audit_log_chain on audit_log`.execute(db);
  if (mode === "off") return;
  const timing = mode === "at-commit" ? sql`deferrable initially deferred` : sql`not deferrable`;
  await sql`create constraint trigger audit_log_chain after insert on audit_log ${timing} for each row execute function audit_log_seal()`.execute(db);
}

async function main(): Promise<void> {
  let adminUrl = process.env.BENCH_DATABASE_URL;
  let stopEmbedded = async () => {};
  if (!adminUrl) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "audit-bench-pg-"));
    const server = await startEmbeddedPostgres({ dataDir, port: 5400 + Math.floor(Math.random() * 80) });
    adminUrl = server.url("postgres");
    stopEmbedded = async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
  }
  const name = `audit_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const env = loadEnv({ NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", DATABASE_URL: url.toString(), PAYMENT_SANDBOX_PORT: "0", WEB_DIST: "/nonexistent", DB_POOL_MAX: POOL });
  const app = await startApp(env, { log: createLogger({ level: process.env.AUDIT_BENCH_LOG ?? "silent" }) });
  try {
    await app.services.db.updateTable("inventory").set({ available: 1_000_000 }).where("sku", "in", SKUS).execute();
    const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${app.url}/trpc`, methodOverride: "POST", headers: () => ({ "idempotency-key": randomUUID() }) })] });
    const runs = Array.from({ length: ROUNDS }, (_, i) => MODES.map((mode) => ({ round: i + 1, mode }))).flat();
    const summary = new Map<Mode, number[]>();
    for (const { round, mode } of runs) {
      const prepared = await Promise.all(
        Array.from({ length: ORDERS }, async (_, i) => {
          const cart = await client.cart.create.mutate({ currency: "USD" });
          // Two SKUs per cart from a small set, so orders overlap on inventory rows (the deadlock-prone case).
          for (const sku of [SKUS[i % SKUS.length]!, SKUS[(i + 1 + (i % 3)) % SKUS.length]!]) {
            await client.cart.addLine.mutate({ cartId: cart.id, sku, quantity: 1 });
          }
          await client.checkout.setContact.mutate({ cartId: cart.id, email: `bench${i}@example.com` });
          await client.checkout.setShippingAddress.mutate({ cartId: cart.id, address: ADDRESS });
          await client.checkout.setShippingOption.mutate({ cartId: cart.id, optionId: "standard" });
          const quote = await client.checkout.quote.mutate({ cartId: cart.id });
          const response = await fetch(`${app.paymentUrl}/v1/tokens`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ number: "4242424242424242", expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: "123" }),
          });
          const token = ((await response.json()) as { id: string }).id;
          return { cartId: cart.id, quoteId: quote.id, paymentToken: token };
        }),
      );
      await setMode(app.services.db, mode);
      const latencies: number[] = [];
      let failures = 0;
      const started = performance.now();
      await Promise.all(
        prepared.map(async (input) => {
          const t0 = performance.now();
          try {
            await client.checkout.placeOrder.mutate(input);
          } catch (error) {
            failures += 1;
            if (failures <= 3) console.error(String(error));
          }
          latencies.push(performance.now() - t0);
        }),
      );
      const wall = performance.now() - started;
      latencies.sort((a, b) => a - b);
      summary.set(mode, [...(summary.get(mode) ?? []), wall]);
      console.log(
        `round ${round} ${mode.padEnd(9)}: ${ORDERS} placements in ${wall.toFixed(0)} ms (${((ORDERS / wall) * 1000).toFixed(0)}/s), ` +
          `p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p95 ${percentile(latencies, 0.95).toFixed(0)} ms, failures ${failures}`,
      );
    }
    for (const [mode, walls] of summary) {
      const sorted = [...walls].sort((a, b) => a - b);
      console.log(`${mode.padEnd(9)} median ${percentile(sorted, 0.5).toFixed(0)} ms over ${walls.length} rounds (${walls.map((w) => w.toFixed(0)).join(", ")})`);
    }
    // The lock alone: transactions that only write audit rows, as fast as a pool of connections can commit them.
    for (const mode of ["off", "at-commit", "off", "at-commit"] as const) {
      await setMode(app.services.db, mode);
      const workers = Number(POOL);
      const perWorker = Math.ceil(2000 / workers);
      const started = performance.now();
      await Promise.all(
        Array.from({ length: workers }, async (_, w) => {
          for (let i = 0; i < perWorker; i++) {
            await app.services.db.transaction().execute(async (trx) => {
              for (let r = 0; r < 3; r++) {
                await trx
                  .insertInto("audit_log")
                  .values({ entity: "order", entity_id: `w${w}-${i}`, action: "bench.row", data: "{}" })
                  .execute();
              }
            });
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      console.log(`audit-only ${mode.padEnd(9)}: ${workers * perWorker} transactions of 3 rows on ${workers} connections: ${((workers * perWorker) / seconds).toFixed(0)} tx/s`);
    }
    await setMode(app.services.db, "at-commit");
    const audit = await app.services.db
      .selectFrom("audit_log")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    console.log(`audit rows: ${audit.n}`);
  } finally {
    await app.close();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
    await stopEmbedded();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
