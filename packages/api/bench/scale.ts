// What each call costs with a year of data against what it costs on the demo catalogue, measured in one run on one
// database: the core functions behind the procedures are called in-process (no HTTP, no catalogue cache: the database's
// share is what grows with data), first on the freshly seeded demo data, then again after a year of data is loaded.
// Per call: the median wall time, and PostgreSQL's own cost, the shared buffers (hit + read) of every statement the call
// ran, read from auto_explain's plans (ANALYZE, BUFFERS) sent to the client; the same plans name every index and scan.
import { randomUUID } from "node:crypto";
import os from "node:os";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import {
  Cart,
  Catalog,
  Checkout,
  createDb,
  createPool,
  migrateToLatest,
  OrderAdmin,
  OrderInvariants,
  Reconciler,
  seedCatalog,
  type AuthorizationState,
  type Database,
  type PaymentProvider,
} from "@checkout/core";
import { loadYearOfData, type YearOfData } from "./scale-data.ts";

export interface ScaleOptions {
  /** A superuser's URL on the server to measure (it creates, and at the end drops, a database of its own). */
  adminUrl: string;
  size: YearOfData;
  /** Timed calls per procedure and phase (after warm-up calls). */
  calls: number;
  progress: (line: string) => void;
  /** Keep the database afterwards (its name is in the report). */
  keepDatabase?: boolean;
  /**
   * Plan with sequential scans discouraged (enable_seqscan off) on the explaining connections: on a small smoke database
   * the planner rightly reads a one-page table whole, and this shows instead which index each statement can use.
   */
  preferIndexes?: boolean;
}

export interface PlanSummary {
  /** Statements the call ran (nested ones, such as the audit chain's seal, included). */
  statements: number;
  /** Shared buffers hit or read, summed over those statements. */
  buffers: number;
  /** Rows the scans of those plans read (returned, or removed by a filter or recheck, times loops): O(table) shows here. */
  rowsRead: number;
  /** "Index Scan product_listing_idx on product", "Seq Scan on order", … in the order met, each once. */
  scans: string[];
}

export interface PhaseResult {
  medianMs: number;
  plan: PlanSummary;
}

export interface ProcedureResult {
  name: string;
  /** What the call does, for the report. */
  what: string;
  demo: PhaseResult;
  year: PhaseResult;
}

export interface ScaleReport {
  database: string;
  serverVersion: string;
  size: YearOfData;
  calls: number;
  loadSeconds: number;
  /** The machine's load average (1, 5, 15 min) at the start and at the end: the wall times' context. */
  loadAverage: { start: number[]; end: number[] };
  rows: Record<string, number>;
  /** The database's size with the year loaded. */
  databaseBytes: number;
  procedures: ProcedureResult[];
}

/** Tables a year makes large: a sequential scan of one of them in a call is a cost that grows with the shop. */
export const LARGE_TABLES = ["product", "variant", "price", "inventory", "cart", "cart_line", "quote", "order", "order_line", "payment", "audit_log"];

const ACTING = { actor: "admin:bench", origin: {} };
const ADDRESS = { name: "Ada Lovelace", line1: "1 Main St", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" as const };
/** A SKU of the demo catalogue every phase can sell from (its stock is raised first). */
const SKU = "TEE-BLA-M";

/** A provider that answers at once: the benchmark weighs our statements, not a processor's latency. */
export function createInstantProvider(): PaymentProvider {
  const authorizations = new Map<string, AuthorizationState>();
  const card = { brand: "visa", last4: "4242", fingerprint: "fp_bench" };
  return {
    name: "bench",
    async authorize({ amount, currency, reference }) {
      const authorizationId = `auth_${randomUUID()}`;
      authorizations.set(reference, { authorizationId, status: "authorized", amount, currency, capturedAmount: 0, refundedAmount: 0, card, failureCode: null });
      return { status: "authorized", authorizationId, amount, currency, card };
    },
    async capture({ amount }) {
      for (const state of authorizations.values()) if (state.capturedAmount === 0) state.capturedAmount = amount;
      return { captureId: `cap_${randomUUID()}` };
    },
    async void() {},
    async refund() {
      return { refundId: `ref_${randomUUID()}` };
    },
    async findAuthorization({ reference }) {
      return authorizations.get(reference) ?? null;
    },
  };
}

interface Procedure {
  name: string;
  what: string;
  /** Makes what one call needs (not timed). */
  setup(db: Kysely<Database>): Promise<unknown>;
  call(db: Kysely<Database>, prepared: unknown): Promise<unknown>;
  /** Timed calls, when fewer than the run's (a whole-table check). */
  calls?: number;
}

async function cartWithLine(db: Kysely<Database>): Promise<string> {
  const cart = await Cart.create({ db, currency: "USD" });
  await Cart.addLine({ db, cartId: cart.id, sku: SKU, quantity: 1 });
  return cart.id;
}

async function readyCart(db: Kysely<Database>): Promise<string> {
  const cartId = await cartWithLine(db);
  await Checkout.setContact({ db, cartId, email: "ada@example.com" });
  await Checkout.setShippingAddress({ db, cartId, address: ADDRESS });
  await Checkout.setShippingOption({ db, cartId, optionId: "standard" });
  return cartId;
}

/** Where a deep page starts: 50 products before the end of the listing. */
async function deepCursor(db: Kysely<Database>): Promise<string> {
  const row = await db.selectFrom("product").select(["position", "id"]).orderBy("position", "desc").orderBy("id", "desc").offset(50).limit(1).executeTakeFirst();
  const after = row ?? (await db.selectFrom("product").select(["position", "id"]).orderBy("position").orderBy("id").limit(1).executeTakeFirstOrThrow());
  return Catalog.encodeCursor({ listing: { currency: "USD" }, after });
}

function procedures(payments: PaymentProvider): Procedure[] {
  const none = async () => undefined;
  let token = 0;
  return [
    { name: "catalog.list", what: "first page (24)", setup: none, call: (db) => Catalog.list({ db, currency: "USD" }) },
    { name: "catalog.list", what: "category Home, first page", setup: none, call: (db) => Catalog.list({ db, currency: "USD", category: "Home" }) },
    { name: "catalog.list", what: 'search "merino"', setup: none, call: (db) => Catalog.list({ db, currency: "USD", q: "merino" }) },
    { name: "catalog.list", what: 'search "no. 9999" (one product or none)', setup: none, call: (db) => Catalog.list({ db, currency: "USD", q: "no. 9999" }) },
    { name: "catalog.list", what: "a page 50 products from the end", setup: deepCursor, call: (db, cursor) => Catalog.list({ db, currency: "USD", cursor: cursor as string }) },
    { name: "catalog.categories", what: "every category", setup: none, call: (db) => Catalog.categories({ db }) },
    { name: "catalog.get", what: "one product", setup: none, call: (db) => Catalog.get({ db, productId: "everyday-tee", currency: "USD" }) },
    { name: "cart.create", what: "", setup: none, call: (db) => Cart.create({ db, currency: "USD" }) },
    {
      name: "cart.addLine",
      what: "to a new cart",
      setup: async (db) => (await Cart.create({ db, currency: "USD" })).id,
      call: (db, cartId) => Cart.addLine({ db, cartId: cartId as string, sku: SKU, quantity: 1 }),
    },
    { name: "cart.get", what: "one line", setup: cartWithLine, call: (db, cartId) => Cart.get({ db, cartId: cartId as string }) },
    { name: "checkout.setContact", what: "", setup: cartWithLine, call: (db, cartId) => Checkout.setContact({ db, cartId: cartId as string, email: "ada@example.com" }) },
    {
      name: "checkout.setShippingAddress",
      what: "",
      setup: cartWithLine,
      call: (db, cartId) => Checkout.setShippingAddress({ db, cartId: cartId as string, address: ADDRESS }),
    },
    { name: "checkout.listShippingOptions", what: "", setup: readyCart, call: (db, cartId) => Checkout.listShippingOptions({ db, cartId: cartId as string }) },
    {
      name: "checkout.setShippingOption",
      what: "",
      setup: readyCart,
      call: (db, cartId) => Checkout.setShippingOption({ db, cartId: cartId as string, optionId: "express" }),
    },
    { name: "checkout.quote", what: "", setup: readyCart, call: (db, cartId) => Checkout.quote({ db, cartId: cartId as string }) },
    {
      name: "checkout.placeOrder",
      what: "authorise and capture",
      setup: async (db) => {
        const cartId = await readyCart(db);
        return { cartId, quoteId: (await Checkout.quote({ db, cartId })).id };
      },
      call: (db, ids) => {
        const { cartId, quoteId } = ids as { cartId: string; quoteId: string };
        token += 1;
        return Checkout.placeOrder({ db, payments, cartId, quoteId, paymentToken: `tok_bench_${token}_${Date.now()}`, captureMode: "immediate" });
      },
    },
    {
      name: "reconciler",
      what: "one pass",
      setup: none,
      call: (db) => Reconciler.reconcile({ db, payments, captureMode: "immediate", graceMs: 60_000, limit: 100 }),
    },
    { name: "admin.orders.list", what: "newest 50", setup: none, call: (db) => OrderAdmin.list({ db, limit: 50, ...ACTING }) },
    { name: "admin.orders.list", what: "status cancelled, 50", setup: none, call: (db) => OrderAdmin.list({ db, limit: 50, status: "cancelled", ...ACTING }) },
    {
      name: "admin.orders.list",
      what: "one shopper's email",
      setup: none,
      call: (db) => OrderAdmin.list({ db, limit: 50, email: "shopper42@example.com", ...ACTING }),
    },
    {
      name: "admin.orders.list",
      what: "search: an order number",
      setup: async (db) => (await db.selectFrom("order").select("number").orderBy("created_at", "desc").limit(1).executeTakeFirstOrThrow()).number,
      call: (db, number) => OrderAdmin.list({ db, limit: 50, query: number as string, ...ACTING }),
    },
    { name: "admin.invariants", what: "every order and SKU", setup: none, call: (db) => OrderInvariants.check({ db, ...ACTING }), calls: 3 },
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

interface PlanNode {
  "Node Type": string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  Plans?: PlanNode[];
}

/** The scans of a plan, as "Index Scan product_listing_idx on product", depth first. */
export function scansOf(node: PlanNode, into: string[] = []): string[] {
  if (node["Relation Name"] !== undefined || node["Index Name"] !== undefined) {
    const index = node["Index Name"] ? ` ${node["Index Name"]}` : "";
    const relation = node["Relation Name"] ? ` on ${node["Relation Name"]}` : "";
    into.push(`${node["Node Type"]}${index}${relation}`);
  }
  for (const child of node.Plans ?? []) scansOf(child, into);
  return into;
}

const SCAN_NODES = new Set(["Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Tid Scan", "Tid Range Scan"]);

/** Rows read by the scans of a plan: each scan's rows, returned or filtered out, over all its loops (EXPLAIN gives per-loop averages). */
export function rowsReadOf(node: PlanNode): number {
  const own = SCAN_NODES.has(node["Node Type"])
    ? ((node["Actual Rows"] ?? 0) + (node["Rows Removed by Filter"] ?? 0) + (node["Rows Removed by Index Recheck"] ?? 0)) * (node["Actual Loops"] ?? 1)
    : 0;
  return Math.round(own + (node.Plans ?? []).reduce((sum, child) => sum + rowsReadOf(child), 0));
}

/** A Kysely whose every connection sends auto_explain's plans (ANALYZE, BUFFERS, JSON) to `onPlan`. */
function explainingDb(url: string, preferIndexes: boolean, onPlan: (plan: { Plan: PlanNode }) => void): Kysely<Database> {
  const pool = createPool({ connectionString: url, max: 4, applicationName: "checkout-bench-scale-explain", statementTimeoutMs: 0 });
  pool.on("connect", (client) => {
    client.on("notice", (notice) => {
      const at = notice.message?.indexOf("plan:\n") ?? -1;
      if (at >= 0 && notice.message) onPlan(JSON.parse(notice.message.slice(at + 6)));
    });
    // Queued before any query the pool hands this client out for.
    void client
      .query(
        `load 'auto_explain';
         set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on; set auto_explain.log_buffers = on;
         set auto_explain.log_timing = off; set auto_explain.log_nested_statements = on; set auto_explain.log_format = json;
         set client_min_messages = log;${preferIndexes ? " set enable_seqscan = off;" : ""}`,
      )
      .catch(() => undefined);
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

async function measure(input: { db: Kysely<Database>; explaining: Kysely<Database>; plans: { Plan: PlanNode }[]; procedure: Procedure; calls: number }): Promise<PhaseResult> {
  const { db, explaining, plans, procedure } = input;
  const calls = Math.min(input.calls, procedure.calls ?? input.calls);
  // Warm-up: prepared statements planned, pages cached.
  for (let i = 0; i < Math.min(3, calls); i += 1) await procedure.call(db, await procedure.setup(db));
  const times: number[] = [];
  for (let i = 0; i < calls; i += 1) {
    const prepared = await procedure.setup(db);
    const started = performance.now();
    await procedure.call(db, prepared);
    times.push(performance.now() - started);
  }
  // The plan of a call on connections that have run it before (generic plans settle after five executions).
  let plan: PlanSummary = { statements: 0, buffers: 0, rowsRead: 0, scans: [] };
  for (let i = 0; i < Math.min(6, calls + 3); i += 1) {
    const prepared = await procedure.setup(explaining);
    plans.length = 0;
    await procedure.call(explaining, prepared);
    const scans = new Set<string>();
    let buffers = 0;
    let rowsRead = 0;
    for (const { Plan } of plans) {
      buffers += (Plan["Shared Hit Blocks"] ?? 0) + (Plan["Shared Read Blocks"] ?? 0);
      rowsRead += rowsReadOf(Plan);
      for (const scan of scansOf(Plan)) scans.add(scan);
    }
    plan = { statements: plans.length, buffers, rowsRead, scans: [...scans] };
  }
  return { medianMs: median(times), plan };
}

async function measureAll(input: {
  db: Kysely<Database>;
  explaining: Kysely<Database>;
  plans: { Plan: PlanNode }[];
  list: Procedure[];
  calls: number;
  progress: (line: string) => void;
}) {
  const results: PhaseResult[] = [];
  for (const procedure of input.list) {
    const result = await measure({ ...input, procedure });
    input.progress(
      `  ${procedure.name} ${procedure.what}: ${result.medianMs.toFixed(2)} ms, ${result.plan.rowsRead} rows read, ${result.plan.buffers} buffers in ${result.plan.statements} statements`,
    );
    results.push(result);
  }
  return results;
}

export async function runScaleBench(options: ScaleOptions): Promise<ScaleReport> {
  const { progress } = options;
  const loadAtStart = os.loadavg();
  const database = `checkout_scale_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: options.adminUrl });
  await admin.connect();
  const serverVersion = (await admin.query<{ server_version: string }>("show server_version")).rows[0]?.server_version ?? "?";
  await admin.query(`create database ${database}`);
  const url = new URL(options.adminUrl);
  url.pathname = `/${database}`;
  const db = createDb({ connectionString: url.toString(), max: 4, applicationName: "checkout-bench-scale", statementTimeoutMs: 0 });
  const plans: { Plan: PlanNode }[] = [];
  const explaining = explainingDb(url.toString(), options.preferIndexes ?? false, (plan) => plans.push(plan));
  try {
    await migrateToLatest(db);
    await seedCatalog(db);
    // Enough stock for every phase's carts and orders, received as well as available so the stock invariant holds.
    await sql`update inventory set available = available + 100000, stock_received = stock_received + 100000 where sku = ${SKU}`.execute(db);
    await sql`vacuum analyze`.execute(db);
    const list = procedures(createInstantProvider());
    // One untimed round of every procedure first: the demo phase is not to pay for the process's own warm-up (JIT, pools).
    for (const procedure of list) for (let i = 0; i < 3; i += 1) await procedure.call(db, await procedure.setup(db));
    progress(`${database} on PostgreSQL ${serverVersion}: demo data`);
    const demo = await measureAll({ db, explaining, plans, list, calls: options.calls, progress });

    progress(
      `loading a year: ${options.size.products.toLocaleString("en-US")} products, ${options.size.orders.toLocaleString("en-US")} orders, ${options.size.abandonedCarts.toLocaleString("en-US")} abandoned carts`,
    );
    const loadStarted = performance.now();
    const loader = createDb({ connectionString: url.toString(), max: 1, applicationName: "checkout-bench-scale-load", preparedStatements: false, statementTimeoutMs: 0 });
    try {
      await loadYearOfData({ db: loader, size: options.size, progress: (line) => progress(`  ${line}`) });
    } finally {
      await loader.destroy();
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const rows: Record<string, number> = {};
    for (const table of ["product", "variant", "cart", "cart_line", "quote", "order", "order_line", "payment", "audit_log"]) {
      const { rows: counted } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db);
      rows[table] = counted[0]?.n ?? 0;
    }
    const { rows: sized } = await sql<{ bytes: string }>`select pg_database_size(current_database())::text as bytes`.execute(db);
    const databaseBytes = Number(sized[0]?.bytes ?? 0);
    progress(`year of data: ${JSON.stringify(rows)}, ${(databaseBytes / 1e9).toFixed(1)} GB`);
    const year = await measureAll({ db, explaining, plans, list, calls: options.calls, progress });
    return {
      database,
      serverVersion,
      size: options.size,
      calls: options.calls,
      loadSeconds,
      loadAverage: { start: loadAtStart, end: os.loadavg() },
      rows,
      databaseBytes,
      procedures: list.map((procedure, at) => ({ name: procedure.name, what: procedure.what, demo: demo[at] as PhaseResult, year: year[at] as PhaseResult })),
    };
  } finally {
    await db.destroy();
    await explaining.destroy();
    if (!options.keepDatabase) await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
}

/** Sequential scans of large tables in a call's year-of-data plan: what would grow with the shop. */
export function largeSeqScans(plan: PlanSummary): string[] {
  return plan.scans.filter((scan) => scan.startsWith("Seq Scan") && LARGE_TABLES.some((table) => scan.endsWith(` on ${table}`)));
}
