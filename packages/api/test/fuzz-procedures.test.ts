// Fuzzes every procedure over raw HTTP with inputs generated from its zod schema and near misses of them:
// never a 5xx, every refusal a typed error, and a refused call writes no row (FUZZ_SEED reproduces a run).
import { randomBytes, randomUUID } from "node:crypto";
import fc from "fast-check";
import { sql } from "kysely";
import type { AnyTRPCProcedure } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddressSchema, IdSchema, PaymentTokenSchema, ProductIdSchema, PromoCodeSchema, SkuSchema } from "@checkout/core";
import { appRouter } from "../src/router.ts";
import { arbitraryOf, mutantsOf, type Mutant } from "./support/zod-arbitrary.ts";
import { CARDS, readyCart, startTestApp, US_ADDRESS, type TestApp } from "./support/app.ts";

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/**
 * Inputs per procedure; each query input is sent twice (GET and POST), so a run makes about 1,000 calls. Each procedure's
 * inputs are picked from a larger random sample so that they hold every case at least once (see `casesOf`): the valid
 * input, each family of near miss, each Idempotency-Key plan and each auth plan; the rest are the sample's next ones.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 32);
/** How many calls are generated per procedure to pick the RUNS from. */
const SAMPLE_FACTOR = 4;
const MAX_BODY_BYTES = 64 * 1024;
const ADMIN_TOKEN = randomBytes(24).toString("hex");
/** Node answers a request whose request line and headers pass its limit (16 KiB) itself, before any route: a 431 with no body. */
const NODE_HEADER_LIMIT = 16 * 1024;
/** Past this, a URL plus fetch's own headers may reach that limit. */
const URL_NEAR_HEADER_LIMIT = NODE_HEADER_LIMIT - 1024;
/** The sandbox's card that asks for 3-D Secure (packages/payment-sandbox/src/test-cards.ts). */
const THREE_D_SECURE_CARD = "4000002760003184";

/**
 * Tables a refusal may write. audit_log: refusals that are audited (admin.auth_failed, payment declines,
 * card-testing locks). idempotency_key: placeOrder's final answer, refusals included, is kept so a replay
 * gets the same one, and a transient answer claims and releases its key. Velocity and rate-limit
 * counters: a refused attempt still counts against its cart, card, address or email.
 */
const WRITABLE_ON_ANY_REFUSAL = /^(audit_log|idempotency_key)$|velocity|rate_limit|attempt/;
/**
 * A payment refused after its order was written (a declined card, a token the provider refused):
 * the order is kept as payment_failed with its stock released and its payment recorded. That is the
 * record of the attempt, not a half-written order, which the test checks by the order's status.
 */
const PAYMENT_STAGE_CODES = new Set(["PAYMENT_DECLINED", "PAYMENT_TOKEN_INVALID"]);
const PAYMENT_STAGE_TABLES = new Set(["order", "order_line", "payment", "inventory", "outbox_event", "promotion_redemption"]);

type Way = "GET" | "POST";
type KeyPlan = "fresh" | "none" | "empty" | "short" | "spaces" | "too long" | "reused";
type AuthPlan = "valid" | "none" | "unknown token" | "malformed" | "basic";

interface Call {
  mutation: string;
  json: string | undefined;
  keyPlan: KeyPlan | null;
  authPlan: AuthPlan | null;
}

interface Failure {
  procedure: string;
  way: Way;
  mutation: string;
  headers: string;
  input: string;
  status: number;
  body: string;
  problem: string;
}

interface Fixtures {
  /** Open carts ready to order (lines, contact, address, shipping option), each with its quote. */
  ready: { cartId: string; quoteId: string }[];
  /** The lines of the first ready cart. */
  lineIds: string[];
  emptyCartId: string;
  /** A cart already ordered, its quote and its order (paid and captured). */
  orderedCartId: string;
  orderedQuoteId: string;
  orderId: string;
  orderNumber: string;
  /** An order waiting for the shopper's 3-D Secure challenge (pending_payment): one an operator may still cancel. */
  pendingOrderId: string;
  tokens: string[];
}

let t: TestApp;
let skus: string[];
let productIds: string[];

beforeAll(async () => {
  t = await startTestApp({
    ADMIN_API_TOKENS: `fuzz:${ADMIN_TOKEN}`,
    // One client making thousands of calls: per-client rate limits (tested by the abuse suite) would turn most into 429s
    // before they reach a procedure. Declines per address and per email are off because every fixture shares both, and a
    // lock there would stop the fixtures rather than test anything; declines per cart and per card stay on.
    RATE_LIMIT_BROWSE_PER_MINUTE: "10000000",
    RATE_LIMIT_CART_PER_MINUTE: "10000000",
    RATE_LIMIT_PAYMENT_PER_MINUTE: "10000000",
    RATE_LIMIT_ADMIN_PER_MINUTE: "10000000",
    PAYMENT_DECLINES_PER_ADDRESS: "0",
    PAYMENT_DECLINES_PER_EMAIL: "0",
  });
  skus = (await t.database.db.selectFrom("variant").select("sku").orderBy("sku").execute()).map((row) => row.sku);
  productIds = (await t.database.db.selectFrom("product").select("id").orderBy("id").execute()).map((row) => row.id);
  await recordWrites();
});
afterAll(async () => {
  await t?.close();
});

/** A row trigger on every table logs each insert, update and delete the service commits, so a refused call's writes can be named. */
async function recordWrites(): Promise<void> {
  const db = t.database.db;
  await sql`create table fuzz_write_log (table_name text not null, op text not null)`.execute(db);
  await sql`create function fuzz_log_write() returns trigger language plpgsql as $$
    begin insert into fuzz_write_log values (TG_TABLE_NAME, TG_OP); return null; end $$`.execute(db);
  const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not in ('fuzz_write_log', 'kysely_migration', 'kysely_migration_lock')`.execute(db);
  for (const { name } of tables.rows) {
    await sql`create trigger fuzz_log_write after insert or update or delete on ${sql.id(name)} for each row execute function fuzz_log_write()`.execute(db);
  }
}

/**
 * Takes (and clears) the writes logged since the last call, in one statement that also says whether another
 * connection to the test database is still busy; while one is, waits and takes again (the call's last commit).
 */
async function takeWrites(): Promise<{ table: string; op: string }[]> {
  const writes: { table: string; op: string }[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    const { rows } = await sql<{ writes: { table_name: string; op: string }[]; busy: number }>`
      with taken as (delete from fuzz_write_log returning table_name, op)
      select coalesce((select json_agg(taken) from taken), '[]') as writes,
        (select count(*)::int from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and state is distinct from 'idle') as busy`.execute(t.database.db);
    writes.push(...rows[0]!.writes.map((row) => ({ table: row.table_name, op: row.op })));
    if (rows[0]!.busy === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return writes;
}

async function buildFixtures(readyCarts: number): Promise<Fixtures> {
  const ready: Fixtures["ready"] = [];
  for (let i = 0; i < readyCarts; i++) {
    const cartId = await readyCart(t.client, [
      { sku: "TEE-BLA-M", quantity: 1 },
      { sku: "MUG-SAN", quantity: 2 },
    ]);
    ready.push({ cartId, quoteId: (await t.client.checkout.quote.mutate({ cartId })).id });
  }
  const lines = await t.database.db.selectFrom("cart_line").select("id").where("cart_id", "=", ready[0]!.cartId).execute();
  const emptyCartId = (await t.client.cart.create.mutate({})).id;
  const orderedCartId = await readyCart(t.client, [{ sku: "SOCK-M", quantity: 1 }]);
  const orderedQuote = await t.client.checkout.quote.mutate({ cartId: orderedCartId });
  const order = await t.client.checkout.placeOrder.mutate({ cartId: orderedCartId, quoteId: orderedQuote.id, paymentToken: await t.tokenize(CARDS.success) });
  const pendingCartId = await readyCart(t.client, [{ sku: "SOCK-L", quantity: 1 }]);
  const pendingQuote = await t.client.checkout.quote.mutate({ cartId: pendingCartId });
  const pending = await t.client.checkout.placeOrder.mutate({ cartId: pendingCartId, quoteId: pendingQuote.id, paymentToken: await t.tokenize(THREE_D_SECURE_CARD) });
  const tokens = [CARDS.success, CARDS.declined, CARDS.success, CARDS.insufficientFunds, THREE_D_SECURE_CARD];
  for (const [index, card] of tokens.entries()) tokens[index] = await t.tokenize(card);
  await takeWrites();
  return {
    ready,
    lineIds: lines.map((line) => line.id),
    emptyCartId,
    orderedCartId,
    orderedQuoteId: orderedQuote.id,
    orderId: order.id,
    orderNumber: order.number,
    pendingOrderId: pending.id,
    tokens,
  };
}

/** Real values most of the time, so inputs get past "not found" into the rules; generated ones otherwise. */
function realOr<T>(values: T[], generated: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: fc.constantFrom(...values), weight: 3 }, { arbitrary: generated, weight: 1 });
}

function fieldsFor(fixtures: Fixtures): Record<string, fc.Arbitrary<unknown>> {
  const addresses = [
    US_ADDRESS,
    { name: "Grace Hopper", line1: "10 Downing St", city: "London", postalCode: "SW1A 2AA", country: "GB" },
    { name: "Émilie du Châtelet", line1: "1 Rue de Rivoli", city: "Paris", postalCode: "75001", country: "FR", phone: "+33 1 23 45 67 89" },
    { name: "Nguyễn Văn A", line1: "1 Lê Lợi", city: "Hồ Chí Minh", postalCode: "700000", country: "VN" },
  ];
  return {
    cartId: realOr([...fixtures.ready.map((cart) => cart.cartId), fixtures.emptyCartId, fixtures.orderedCartId], arbitraryOf(IdSchema)),
    quoteId: realOr([...fixtures.ready.map((cart) => cart.quoteId), fixtures.orderedQuoteId], arbitraryOf(IdSchema)),
    orderId: realOr([fixtures.orderId, fixtures.pendingOrderId], arbitraryOf(IdSchema)),
    lineId: realOr(fixtures.lineIds, arbitraryOf(IdSchema)),
    sku: realOr(skus, arbitraryOf(SkuSchema)),
    productId: realOr(productIds, arbitraryOf(ProductIdSchema)),
    paymentToken: realOr(fixtures.tokens, arbitraryOf(PaymentTokenSchema)),
    code: realOr(["WELCOME10", "SAVE5", "EURO5", "EXPIRED", "welcome10"], arbitraryOf(PromoCodeSchema)),
    // Generated names, lines and phones on a real place: valid addresses whose text reaches the database.
    address: fc.oneof(
      fc.constantFrom(...addresses),
      fc.tuple(arbitraryOf(AddressSchema), fc.constantFrom(...addresses)).map(([generated, place]) => ({
        ...generated,
        country: place.country,
        postalCode: place.postalCode,
        region: "region" in place ? place.region : generated.region,
      })),
      arbitraryOf(AddressSchema),
    ),
    orderNumbers: fc.oneof(fc.constant([fixtures.orderNumber]), fc.array(fc.stringMatching(/^\d{1,20}$/), { maxLength: 5 })),
  };
}

function callsFor(path: string, procedure: AnyTRPCProcedure, fixtures: Fixtures): fc.Arbitrary<Call> {
  const schema = procedure._def.inputs[0] as Parameters<typeof arbitraryOf>[0];
  const generated = arbitraryOf(schema, { fields: fieldsFor(fixtures) });
  // A cart with its own quote and a live token: the combination that gets past every check to the card processor.
  const placeable = fc
    .tuple(fc.constantFrom(...fixtures.ready), fc.constantFrom(...fixtures.tokens))
    .map(([cart, paymentToken]) => ({ cartId: cart.cartId, quoteId: cart.quoteId, paymentToken }));
  const valid = path === "checkout.placeOrder" ? fc.oneof(generated, placeable) : generated;
  const payload: fc.Arbitrary<Mutant> = fc.oneof(
    { arbitrary: valid.map((value) => ({ mutation: "valid", json: value === undefined ? undefined : JSON.stringify(value) })), weight: 2 },
    { arbitrary: mutantsOf(schema, valid, { maxBodyBytes: MAX_BODY_BYTES }), weight: 3 },
  );
  const keyPlan: fc.Arbitrary<KeyPlan | null> =
    path === "checkout.placeOrder"
      ? fc.oneof(
          { arbitrary: fc.constant<KeyPlan>("fresh"), weight: 6 },
          { arbitrary: fc.constantFrom<KeyPlan>("none", "empty", "short", "spaces", "too long", "reused"), weight: 3 },
        )
      : fc.constant(null);
  const authPlan: fc.Arbitrary<AuthPlan | null> = path.startsWith("admin.")
    ? fc.oneof({ arbitrary: fc.constant<AuthPlan>("valid"), weight: 4 }, { arbitrary: fc.constantFrom<AuthPlan>("none", "unknown token", "malformed", "basic"), weight: 2 })
    : fc.constant(null);
  return fc.record({ payload, keyPlan, authPlan }).map(({ payload, keyPlan, authPlan }) => ({ ...payload, keyPlan, authPlan }));
}

/** The families of near miss mutantsOf makes (support/zod-arbitrary.ts), by the start or shape of their label. */
const MUTATION_FAMILIES: [string, RegExp][] = [
  ["valid", /^valid$/],
  ["drop key", /^drop key /],
  ["unknown key", / \+ key "/],
  ["at a bound", / at a bound: | wrapped in an array$/],
  ["huge string", / × \d+$/],
  ["nested deep", / nested \d+ deep \(/],
  ["long array", / copies\]$/],
  ["every string", /^every string \+ /],
  ["body shape", /^body as /],
  ["raw body", /^body /],
  ["a value replaced", / = /],
];

/** The cases one call stands for: its family of near miss, and its Idempotency-Key and auth plans where it has them. */
function casesOf(call: Call): string[] {
  const family = MUTATION_FAMILIES.find(([, pattern]) => pattern.test(call.mutation))?.[0] ?? call.mutation;
  return [`mutation: ${family}`, ...(call.keyPlan ? [`key: ${call.keyPlan}`] : []), ...(call.authPlan ? [`auth: ${call.authPlan}`] : [])];
}

/** From `sample`, in its order: each call that adds a case not yet held, then the next ones to make up `count`. */
function coveringPick(sample: Call[], count: number): Call[] {
  const held = new Set<string>();
  const picked = new Set<number>();
  for (const [index, call] of sample.entries()) {
    const cases = casesOf(call);
    if (cases.some((label) => !held.has(label))) {
      picked.add(index);
      for (const label of cases) held.add(label);
    }
  }
  for (let index = 0; index < sample.length && picked.size < count; index++) picked.add(index);
  return [...picked].sort((a, b) => a - b).map((index) => sample[index]!);
}

function headersOf(call: Call): Record<string, string> {
  const headers: Record<string, string> = {};
  const keys: Record<KeyPlan, string | undefined> = {
    fresh: randomUUID(),
    none: undefined,
    empty: "",
    short: "abc",
    spaces: "a key with spaces",
    "too long": "k".repeat(300),
    reused: "fuzz-the-same-key-every-time",
  };
  const key = call.keyPlan ? keys[call.keyPlan] : undefined;
  if (key !== undefined) headers["idempotency-key"] = key;
  const auth: Record<AuthPlan, string | undefined> = {
    valid: `Bearer ${ADMIN_TOKEN}`,
    none: undefined,
    "unknown token": `Bearer ${"z".repeat(48)}`,
    malformed: "Bearer",
    basic: `Basic ${Buffer.from(`fuzz:${ADMIN_TOKEN}`).toString("base64")}`,
  };
  const authorization = call.authPlan ? auth[call.authPlan] : undefined;
  if (authorization !== undefined) headers.authorization = authorization;
  return headers;
}

async function send(path: string, way: Way, call: Call, headers: Record<string, string>): Promise<{ status: number; text: string; url: string }> {
  const base = `${t.app.url}/trpc/${path}`;
  const url = way === "GET" && call.json !== undefined ? `${base}?input=${encodeURIComponent(call.json)}` : base;
  try {
    const response = await fetch(url, {
      method: way,
      headers: way === "POST" ? { ...headers, "content-type": "application/json" } : headers,
      body: way === "POST" ? (call.json ?? "") : undefined,
    });
    return { status: response.status, text: await response.text(), url };
  } catch (error) {
    // No HTTP answer at all (the connection reset or closed early): reported as status 0.
    return { status: 0, text: String((error as { cause?: unknown }).cause ?? error), url };
  }
}

interface WireError {
  error?: { data?: { appCode?: unknown; details?: { orderId?: unknown } | null } };
}

function parsed(text: string): WireError | null {
  try {
    return JSON.parse(text) as WireError;
  } catch {
    return null;
  }
}

function appCodeOf(text: string): string | undefined {
  const appCode = parsed(text)?.error?.data?.appCode;
  return typeof appCode === "string" ? appCode : undefined;
}

/** What is wrong with one answer, if anything: the status, the error's shape, the guards, and what the call wrote. */
async function problemsOf(path: string, call: Call, answer: { status: number; text: string; url: string }): Promise<string[]> {
  const problems: string[] = [];
  const { status } = answer;
  const body = parsed(answer.text);
  const appCode = body?.error?.data?.appCode;
  if (status === 0) problems.push(`no HTTP answer: ${answer.text}`);
  if (status >= 500) problems.push(`answered ${status}`);
  const isHeaderOverflow = status === 431 && answer.url.length > URL_NEAR_HEADER_LIMIT;
  if (status >= 400 && !isHeaderOverflow && typeof appCode !== "string") problems.push("an error without error.data.appCode");
  const isKeyMissing = call.keyPlan !== null && call.keyPlan !== "fresh" && call.keyPlan !== "reused";
  if (isKeyMissing && status < 400 && status !== 0) problems.push(`placeOrder accepted with Idempotency-Key plan "${call.keyPlan}"`);
  if (call.authPlan !== null && call.authPlan !== "valid" && status < 400 && status !== 0) problems.push(`${path} accepted with auth plan "${call.authPlan}"`);

  const writes = await takeWrites();
  if (status >= 400 || status === 0) {
    const isPaymentStage = typeof appCode === "string" && PAYMENT_STAGE_CODES.has(appCode);
    const forbidden = writes.filter(({ table }) => !WRITABLE_ON_ANY_REFUSAL.test(table) && !(isPaymentStage && PAYMENT_STAGE_TABLES.has(table)));
    if (forbidden.length > 0) {
      const counted = new Map<string, number>();
      for (const { table, op } of forbidden) counted.set(`${op} ${table}`, (counted.get(`${op} ${table}`) ?? 0) + 1);
      problems.push(`a refused call wrote: ${[...counted].map(([what, n]) => `${n} × ${what}`).join(", ")}`);
    }
    const orderId = body?.error?.data?.details?.orderId;
    if (isPaymentStage && typeof orderId === "string" && writes.some(({ table }) => table === "order")) {
      const order = await t.database.db.selectFrom("order").select("status").where("id", "=", orderId).executeTakeFirst();
      if (order?.status !== "payment_failed") problems.push(`a refused payment left its order ${order?.status ?? "missing"}`);
    }
  }
  return problems;
}

const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>);

describe(`every procedure over HTTP, fuzzed (FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`, () => {
  it("covers every procedure of the router", () => {
    expect(procedures.length).toBeGreaterThanOrEqual(20);
    for (const [path, procedure] of procedures) expect(procedure._def.inputs[0], `${path} has an input schema`).toBeDefined();
  });

  it('sees the rows a call writes (the detector behind "nothing written by a refusal" works)', async () => {
    await takeWrites();
    const response = await fetch(`${t.app.url}/trpc/cart.create`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(response.status).toBe(200);
    expect(await takeWrites()).toContainEqual({ table: "cart", op: "INSERT" });
    expect(await takeWrites()).toEqual([]);
  });

  let queryFixtures: Promise<Fixtures> | undefined;
  it.each(procedures.map(([path, procedure], index) => [path, procedure, index] as const))(
    "%s: never a 5xx, every refusal typed, nothing written by a refusal",
    async (path, procedure, index) => {
      // Queries change nothing a fixture holds, so they share one set; each mutation gets fresh ones.
      if (procedure._def.type === "query" && !queryFixtures) queryFixtures = buildFixtures(1);
      const built = procedure._def.type === "query" && queryFixtures ? queryFixtures : buildFixtures(path === "checkout.placeOrder" ? 4 : 1);
      const fixtures = await built.catch((error: unknown) => {
        const logged = t.logs.filter((line) => line.includes('"level":50')).at(-1) ?? "(no error logged)";
        throw new Error(`building the fixtures failed: ${String(error)}; the service's last error: ${logged.slice(0, 2000)}`);
      });
      const sample = fc.sample(callsFor(path, procedure, fixtures), { seed: SEED + index, numRuns: RUNS * SAMPLE_FACTOR });
      const calls = coveringPick(sample, RUNS);
      const ways: Way[] = procedure._def.type === "query" ? ["GET", "POST"] : ["POST"];
      const failures: Failure[] = [];
      const statuses = new Map<string, number>();
      for (const call of calls) {
        for (const way of ways) {
          const headers = headersOf(call);
          const answer = await send(path, way, call, headers);
          const label = `${answer.status} ${appCodeOf(answer.text) ?? ""}`.trim();
          statuses.set(label, (statuses.get(label) ?? 0) + 1);
          for (const problem of await problemsOf(path, call, answer)) {
            failures.push({
              procedure: path,
              way,
              mutation: call.mutation,
              headers: [call.keyPlan && `key: ${call.keyPlan}`, call.authPlan && `auth: ${call.authPlan}`].filter(Boolean).join(", "),
              input: (call.json ?? "(none)").slice(0, 300),
              status: answer.status,
              body: answer.text.slice(0, 300),
              problem,
            });
          }
        }
      }
      console.log(
        `${path}: ${[...statuses]
          .sort()
          .map(([label, n]) => `${label} ×${n}`)
          .join(", ")}`,
      );
      expect({ failures: failures.length, first: failures.slice(0, 10) }, `reproduce with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`).toEqual({ failures: 0, first: [] });
    },
    240_000,
  );
});
