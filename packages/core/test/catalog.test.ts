// The catalogue against real PostgreSQL: keyset pages without gaps or duplicates, cursors bound to their listing,
// category and search filters (LIKE's wildcards taken literally), and the cache in front of it with its bounds.
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, Catalog, createCatalogReader, seedCatalog, seedProducts, type Database, type Product } from "../src/index.ts";
import { createTestDatabase, type TestDatabase } from "./support/index.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  // Products that share a position with a seeded one, and names with LIKE's wildcards in them: the listing order must
  // break ties by id, and a search for "100%" or "a_b" must not match everything.
  const extra = [
    { id: "aaa-tie", name: "Tie Clip", description: "Brass.", category: "Accessories", position: 3 },
    { id: "zzz-tie", name: "Tie Bar", description: "Steel.", category: "Accessories", position: 3 },
    { id: "wool-100", name: "Wool Throw 100%", description: "Pure wool.", category: "Home", position: 40 },
    { id: "wool-90", name: "Wool Throw 90", description: "Wool and cashmere.", category: "Home", position: 41 },
    { id: "snake-a", name: "Label a_b", description: "An underscore.", category: "Stationery", position: 42 },
    { id: "snake-b", name: "Label axb", description: "No underscore.", category: "Stationery", position: 43 },
    { id: "usd-only", name: "Dollar Tray", description: "Priced in USD only.", category: "Home", position: 44 },
  ];
  for (const product of extra) {
    await database.db
      .insertInto("product")
      .values({ ...product, image: `/images/products/${product.id}.svg` })
      .execute();
    const sku = product.id.toUpperCase();
    await database.db
      .insertInto("variant")
      .values({ sku, product_id: product.id, name: "Default", options: JSON.stringify({}), weight_grams: 100, position: 0 })
      .execute();
    const prices = [{ sku, currency: "USD", amount: 1000 }];
    if (product.id !== "usd-only") prices.push({ sku, currency: "EUR", amount: 900 });
    await database.db.insertInto("price").values(prices).execute();
    await database.db.insertInto("inventory").values({ sku, available: 5 }).execute();
  }
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;

/** A handle on the database that counts the statements sent through it. */
function counted(): { db: Kysely<Database>; statements: () => number } {
  let count = 0;
  const db = database.db.withPlugin({
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      count += 1;
      return args.result;
    },
  });
  return { db, statements: () => count };
}

async function allPages(input: Omit<Parameters<typeof Catalog.list>[0], "db" | "cursor">): Promise<{ pages: Product[][] }> {
  const pages: Product[][] = [];
  let cursor: string | undefined;
  do {
    const page = await Catalog.list({ db: db(), ...input, cursor });
    pages.push(page.products);
    cursor = page.nextCursor ?? undefined;
    expect(pages.length).toBeLessThan(100);
  } while (cursor);
  return { pages };
}

async function badInput(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => new Error("expected BAD_INPUT"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe("BAD_INPUT");
  return error as AppError;
}

describe("Catalog.list", () => {
  it("pages through the whole catalogue in the listing order with no duplicate and no gap", async () => {
    const expected = await db().selectFrom("product").select("id").orderBy("position").orderBy("id").execute();
    const { pages } = await allPages({ currency: "USD", limit: 4 });
    const ids = pages.flat().map((product) => product.id);
    expect(ids).toEqual(expected.map((row) => row.id));
    expect(pages.slice(0, -1).every((page) => page.length === 4)).toBe(true);
    // Three products share position 3: ties are broken by id, across page boundaries too.
    expect(ids.indexOf("aaa-tie")).toBeGreaterThan(-1);
    expect(ids.indexOf("aaa-tie")).toBeLessThan(ids.indexOf("zzz-tie"));
  });

  it("answers a last page with a null nextCursor, and pages of any size the same products", async () => {
    const whole = await Catalog.list({ db: db(), currency: "USD", limit: 100 });
    expect(whole.nextCursor).toBeNull();
    const { pages } = await allPages({ currency: "USD", limit: 7 });
    expect(pages.flat().map((product) => product.id)).toEqual(whole.products.map((product) => product.id));
    const first = await Catalog.list({ db: db(), currency: "USD" });
    expect(first.products).toHaveLength(Math.min(24, whole.products.length));
  });

  it("lists only products priced in the currency, each with all its variants", async () => {
    const eur = (await allPages({ currency: "EUR", limit: 5 })).pages.flat();
    expect(eur.map((product) => product.id)).not.toContain("usd-only");
    const usd = (await allPages({ currency: "USD", limit: 5 })).pages.flat();
    expect(usd.map((product) => product.id)).toContain("usd-only");
    const tee = usd.find((product) => product.id === seedProducts[0]?.id);
    expect(tee?.variants.map((variant) => variant.sku)).toEqual(seedProducts[0]?.variants.map((variant) => variant.sku));
  });

  it("shows each colour its own picture, and the product's picture where a variant has none", async () => {
    const tee = await Catalog.get({ db: db(), productId: "everyday-tee", currency: "USD" });
    const black = tee.variants.find((variant) => variant.options.colour === "Black");
    const white = tee.variants.find((variant) => variant.options.colour === "White");
    expect(black?.image).toBe("/images/products/everyday-tee--black.svg");
    expect(white?.image).toBe("/images/products/everyday-tee--white.svg");
    expect(tee.image).toBe("/images/products/everyday-tee.svg");
    const socks = await Catalog.get({ db: db(), productId: "running-socks", currency: "USD" });
    expect(new Set(socks.variants.map((variant) => variant.image))).toEqual(new Set([socks.image]));
    const [listed] = (await Catalog.list({ db: db(), currency: "USD", q: "Everyday Tee" })).products;
    expect(listed?.variants.find((variant) => variant.sku === black?.sku)?.image).toBe(black?.image);
  });

  it("gives a catalogue seeded before variants had pictures its pictures on the next seed, leaving its stock alone", async () => {
    await db().updateTable("variant").set({ image: null }).where("product_id", "=", "everyday-tee").execute();
    await db().updateTable("inventory").set({ available: 7 }).where("sku", "=", "TEE-BLA-S").execute();
    expect(await seedCatalog(db())).toBe(0);
    const black = (await Catalog.get({ db: db(), productId: "everyday-tee", currency: "USD" })).variants.find((variant) => variant.sku === "TEE-BLA-S");
    expect(black).toMatchObject({ image: "/images/products/everyday-tee--black.svg", available: 7 });
  });

  it("gives each variant the most one order may take of it under the shop's stock policy", async () => {
    await db().updateTable("inventory").set({ available: 7 }).where("sku", "=", "TEE-BLA-S").execute();
    await db().updateTable("inventory").set({ available: 500 }).where("sku", "=", "TEE-WHI-S").execute();
    const policy = { maxUnitsPerSku: 4, maxUnitsPerCart: 30, maxStockSharePercent: 50, holdMs: 1000 };
    const pick = (product: Product) => Object.fromEntries(product.variants.filter((v) => ["TEE-BLA-S", "TEE-WHI-S"].includes(v.sku)).map((v) => [v.sku, v.maxPerOrder]));
    // Half of 7 is 3; the cap is 4 (the default policy's 10 where the policy is not given).
    expect(pick(await Catalog.get({ db: db(), productId: "everyday-tee", currency: "USD", policy }))).toEqual({ "TEE-BLA-S": 3, "TEE-WHI-S": 4 });
    expect(pick(await Catalog.get({ db: db(), productId: "everyday-tee", currency: "USD" }))).toEqual({ "TEE-BLA-S": 3, "TEE-WHI-S": 10 });
    const listed = (await Catalog.list({ db: db(), currency: "USD", q: "Everyday Tee", policy })).products[0];
    expect(listed && pick(listed)).toEqual({ "TEE-BLA-S": 3, "TEE-WHI-S": 4 });
    const reader = createCatalogReader({ db: db(), ttlMs: 1000, policy });
    expect(pick(await reader.get({ productId: "everyday-tee", currency: "USD" }))).toEqual({ "TEE-BLA-S": 3, "TEE-WHI-S": 4 });
  });

  it("filters by category, paging inside it", async () => {
    const { pages } = await allPages({ currency: "USD", category: "Accessories", limit: 2 });
    const ids = pages.flat().map((product) => product.id);
    const expected = await db().selectFrom("product").select("id").where("category", "=", "Accessories").orderBy("position").orderBy("id").execute();
    expect(ids).toEqual(expected.map((row) => row.id));
    expect(ids.length).toBeGreaterThan(2);
    expect(pages.flat().every((product) => product.category === "Accessories")).toBe(true);
    expect((await Catalog.list({ db: db(), currency: "USD", category: "Nothing Here" })).products).toEqual([]);
  });

  it("searches name and description, case-insensitively", async () => {
    const byName = await Catalog.list({ db: db(), currency: "USD", q: "WOOL THROW" });
    expect(byName.products.map((product) => product.id)).toEqual(["wool-100", "wool-90"]);
    const byDescription = await Catalog.list({ db: db(), currency: "USD", q: "cashmere" });
    expect(byDescription.products.map((product) => product.id)).toEqual(["wool-90"]);
    const paged = await allPages({ currency: "USD", q: "wool", limit: 1 });
    expect(paged.pages.flat().map((product) => product.id)).toContain("wool-90");
  });

  it("takes % and _ in the search text literally", async () => {
    expect((await Catalog.list({ db: db(), currency: "USD", q: "100%" })).products.map((product) => product.id)).toEqual(["wool-100"]);
    expect((await Catalog.list({ db: db(), currency: "USD", q: "l a_b" })).products.map((product) => product.id)).toEqual(["snake-a"]);
    expect((await Catalog.list({ db: db(), currency: "USD", q: "%%%" })).products).toEqual([]);
    expect((await Catalog.list({ db: db(), currency: "USD", q: "\\%_" })).products).toEqual([]);
  });

  it("refuses a cursor of another currency, category or search as BAD_INPUT", async () => {
    const page = await Catalog.list({ db: db(), currency: "USD", limit: 2 });
    const cursor = page.nextCursor ?? "";
    expect(cursor).not.toBe("");
    await badInput(Catalog.list({ db: db(), currency: "EUR", limit: 2, cursor }));
    await badInput(Catalog.list({ db: db(), currency: "USD", category: "Home", limit: 2, cursor }));
    await badInput(Catalog.list({ db: db(), currency: "USD", q: "wool", limit: 2, cursor }));
    // The same listing with another page size is the same order: the cursor still holds.
    expect((await Catalog.list({ db: db(), currency: "USD", limit: 3, cursor })).products[0]?.id).toBeDefined();
  });

  it("refuses a forged or mangled cursor as BAD_INPUT", async () => {
    const forged = [
      "x",
      Buffer.from("not json").toString("base64url"),
      Buffer.from(JSON.stringify({ position: 1 })).toString("base64url"),
      Buffer.from(JSON.stringify([1e12, "tee", "AAAAAAAAAAAAAAAA"])).toString("base64url"),
      Buffer.from(JSON.stringify([1, "'; drop table product; --", "AAAAAAAAAAAAAAAA"])).toString("base64url"),
      Buffer.from(JSON.stringify([1, "tee", "AAAAAAAAAAAAAAAA"])).toString("base64url"),
    ];
    for (const cursor of forged) await badInput(Catalog.list({ db: db(), currency: "USD", cursor }));
  });
});

describe("Catalog.categories", () => {
  it("lists each category once, in alphabetical order", async () => {
    const expected = [...new Set(seedProducts.map((product) => product.category))].sort();
    expect(await Catalog.categories({ db: db() })).toEqual(expected);
  });
});

describe("createCatalogReader", () => {
  it("serves first pages and products deeply frozen, from one statement per TTL", async () => {
    let clock = 0;
    const { db, statements } = counted();
    const reader = createCatalogReader({ db, ttlMs: 1000, now: () => clock });
    const [a, b] = await Promise.all([reader.list({ currency: "USD", limit: 5 }), reader.list({ currency: "USD", limit: 5 })]);
    expect(a).toBe(b);
    expect(statements()).toBe(1);
    expect(Object.isFrozen(a) && Object.isFrozen(a.products) && Object.isFrozen(a.products[0]?.variants)).toBe(true);
    expect(() => (a.products as Product[]).push(a.products[0] as Product)).toThrow(TypeError);
    const product = await reader.get({ productId: "aaa-tie", currency: "USD" });
    expect(Object.isFrozen(product)).toBe(true);
    expect(await reader.get({ productId: "aaa-tie", currency: "USD" })).toBe(product);
    expect(statements()).toBe(2);
    clock = 1000;
    expect(await reader.list({ currency: "USD", limit: 5 })).not.toBe(a);
    expect(statements()).toBe(3);
  });

  it("keeps currencies, categories and page sizes apart", async () => {
    const reader = createCatalogReader({ db: db(), ttlMs: 60_000, now: () => 0 });
    const usd = await reader.list({ currency: "USD", limit: 5 });
    const eur = await reader.list({ currency: "EUR", limit: 5 });
    expect(usd.products[0]?.currency).toBe("USD");
    expect(eur.products[0]?.currency).toBe("EUR");
    expect((await reader.list({ currency: "USD", category: "Home", limit: 5 })).products.every((product) => product.category === "Home")).toBe(true);
    expect((await reader.list({ currency: "USD", limit: 2 })).products).toHaveLength(2);
    expect(reader.entryCounts().pages).toBe(4);
  });

  it("sends searches and deeper pages to the database without keeping them", async () => {
    const { db, statements } = counted();
    const reader = createCatalogReader({ db, ttlMs: 60_000, now: () => 0 });
    const first = await reader.list({ currency: "USD", limit: 3 });
    const cursor = first.nextCursor ?? undefined;
    await reader.list({ currency: "USD", limit: 3, cursor });
    await reader.list({ currency: "USD", limit: 3, cursor });
    await reader.list({ currency: "USD", q: "wool" });
    await reader.list({ currency: "USD", q: "wool" });
    expect(statements()).toBe(5);
    expect(reader.entryCounts().pages).toBe(1);
  });

  it("cannot be grown past its bounds by random categories, page sizes, searches, cursors or product ids", async () => {
    const reader = createCatalogReader({ db: db(), ttlMs: 60_000, now: () => 0, maxEntries: { pages: 5, products: 3 } });
    for (let i = 0; i < 50; i += 1) {
      expect((await reader.list({ currency: "USD", category: `Random ${i}` })).products).toEqual([]);
      await reader.list({ currency: "USD", q: `random ${i}` });
      await reader.list({ currency: "USD", limit: (i % 100) + 1, category: "Home" });
      await reader.get({ productId: `no-such-${i}`, currency: "USD" }).catch(() => undefined);
    }
    for (const id of ["aaa-tie", "zzz-tie", "wool-100", "wool-90", "snake-a"]) await reader.get({ productId: id, currency: "USD" });
    expect(reader.entryCounts()).toEqual({ pages: 5, products: 3 });
  });

  it("answers NOT_FOUND for an unknown product and does not keep it", async () => {
    const reader = createCatalogReader({ db: db(), ttlMs: 60_000, now: () => 0 });
    await expect(reader.get({ productId: "nope", currency: "USD" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(reader.entryCounts().products).toBe(0);
  });

  it("does not keep a failed load", async () => {
    let fail = true;
    const failing = database.db.withPlugin({
      transformQuery: (args) => {
        if (fail) throw new Error("connection refused");
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const reader = createCatalogReader({ db: failing, ttlMs: 60_000, now: () => 0 });
    await expect(reader.list({ currency: "USD", limit: 2 })).rejects.toThrow("connection refused");
    expect(reader.entryCounts().pages).toBe(0);
    fail = false;
    expect((await reader.list({ currency: "USD", limit: 2 })).products).toHaveLength(2);
  });

  it("queries every time when the TTL is zero", async () => {
    const { db, statements } = counted();
    const reader = createCatalogReader({ db, ttlMs: 0 });
    await reader.list({ currency: "USD" });
    await reader.list({ currency: "USD" });
    expect(statements()).toBe(2);
  });
});
