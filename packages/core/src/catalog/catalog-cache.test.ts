import { describe, expect, it } from "vitest";
import type { Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import { createCatalogReader } from "./catalog-cache.ts";
import type { VariantListingRow } from "./catalog.repository.ts";

const row: VariantListingRow = {
  product_id: "mug",
  product_name: "Mug",
  description: "A mug",
  category: "Home",
  image: "/images/products/mug.svg",
  sku: "MUG",
  variant_name: "Default",
  options: {},
  weight_grams: 300,
  amount: 1600,
  available: 3,
};

/** A stand-in database that answers the catalogue query from memory and counts the queries. */
function fakeDb(rows: () => VariantListingRow[] | Error): { db: Db; queries: () => number } {
  let count = 0;
  const builder: Record<string, unknown> = {};
  for (const method of ["selectFrom", "innerJoin", "leftJoin", "select", "orderBy", "where"]) builder[method] = () => builder;
  builder.execute = async () => {
    count += 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const result = rows();
    if (result instanceof Error) throw result;
    return result;
  };
  return { db: builder as unknown as Db, queries: () => count };
}

describe("createCatalogReader", () => {
  it("serves deeply frozen products: every caller shares them and none can change them", async () => {
    const { db } = fakeDb(() => [row]);
    const reader = createCatalogReader({ db, ttlMs: 1000, now: () => 0 });
    const list = await reader.list({ currency: "USD" });
    const [product] = list;
    expect(Object.isFrozen(list)).toBe(true);
    expect(product && Object.isFrozen(product) && Object.isFrozen(product.variants)).toBe(true);
    expect(() => {
      (product as { name: string }).name = "Changed";
    }).toThrow(TypeError);
    expect(() => (list as unknown[]).push(product)).toThrow(TypeError);
    expect(await reader.get({ productId: "mug", currency: "USD" })).toBe(product);
  });

  it("serves concurrent and repeated reads within the TTL from one query", async () => {
    let clock = 0;
    const { db, queries } = fakeDb(() => [row]);
    const reader = createCatalogReader({ db, ttlMs: 1000, now: () => clock });
    const results = await Promise.all([reader.list({ currency: "USD" }), reader.list({ currency: "USD" }), reader.get({ productId: "mug", currency: "USD" })]);
    expect(queries()).toBe(1);
    expect(results[0]?.[0]?.variants[0]?.available).toBe(3);
    expect(results[2]).toMatchObject({ id: "mug", priceFrom: 1600 });
    clock = 999;
    await reader.list({ currency: "USD" });
    expect(queries()).toBe(1);
    clock = 1000;
    await reader.list({ currency: "USD" });
    expect(queries()).toBe(2);
  });

  it("keeps currencies apart", async () => {
    const { db, queries } = fakeDb(() => [row]);
    const reader = createCatalogReader({ db, ttlMs: 1000, now: () => 0 });
    await reader.list({ currency: "USD" });
    await reader.list({ currency: "EUR" });
    expect(queries()).toBe(2);
  });

  it("answers NOT_FOUND for an unknown product", async () => {
    const { db } = fakeDb(() => [row]);
    const reader = createCatalogReader({ db, ttlMs: 1000 });
    await expect(reader.get({ productId: "nope", currency: "USD" })).rejects.toBeInstanceOf(AppError);
  });

  it("does not keep a failed load", async () => {
    let fail = true;
    const { db, queries } = fakeDb(() => (fail ? new Error("connection refused") : [row]));
    const reader = createCatalogReader({ db, ttlMs: 60_000, now: () => 0 });
    await expect(reader.list({ currency: "USD" })).rejects.toThrow("connection refused");
    fail = false;
    expect(await reader.list({ currency: "USD" })).toHaveLength(1);
    expect(queries()).toBe(2);
  });

  it("queries every time when the TTL is zero", async () => {
    const { db, queries } = fakeDb(() => [row]);
    const reader = createCatalogReader({ db, ttlMs: 0 });
    await reader.list({ currency: "USD" });
    await reader.list({ currency: "USD" });
    expect(queries()).toBe(2);
  });
});
