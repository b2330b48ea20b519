// A short-lived, single-flight cache in front of the catalogue reads: under load every product page
// and listing would otherwise run the same query; here one query per currency per TTL serves them all.
// Availability shown may be up to `ttlMs` old; cart and checkout always re-check stock in the database.
// What it serves is deeply frozen: every caller shares it, none may change it, and the API serialises a frozen answer
// once (packages/api/src/http/ready-bodies.ts) and sends those bytes to every caller while the entry lives.
import type { Currency } from "../money.ts";
import type { Product } from "../schemas.ts";
import type { Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as Catalog from "./catalog.ts";

export interface CatalogReader {
  list(input: { currency: Currency }): Promise<Product[]>;
  get(input: { productId: string; currency: Currency }): Promise<Product>;
}

interface Entry {
  expiresAt: number;
  products: Promise<Product[]>;
  byId: Promise<Map<string, Product>>;
}

export function createCatalogReader(input: { db: Db; ttlMs: number; now?: () => number }): CatalogReader {
  const { db, ttlMs } = input;
  const now = input.now ?? Date.now;
  if (ttlMs <= 0) {
    return {
      list: ({ currency }) => Catalog.list({ db, currency }),
      get: ({ productId, currency }) => Catalog.get({ db, productId, currency }),
    };
  }
  const entries = new Map<Currency, Entry>();

  function load(currency: Currency): Entry {
    const cached = entries.get(currency);
    if (cached && cached.expiresAt > now()) return cached;
    const products = Catalog.list({ db, currency }).then(deepFreeze);
    const entry: Entry = {
      expiresAt: now() + ttlMs,
      products,
      byId: products.then((list) => new Map(list.map((product) => [product.id, product]))),
    };
    // A failed load must not be served from the cache for the rest of the TTL. (Callers still see
    // the rejection: these handlers only stop the derived promises from counting as unhandled.)
    products.catch(() => {
      if (entries.get(currency) === entry) entries.delete(currency);
    });
    entry.byId.catch(() => undefined);
    entries.set(currency, entry);
    return entry;
  }

  return {
    list: ({ currency }) => load(currency).products,
    async get({ productId, currency }) {
      const product = (await load(currency).byId).get(productId);
      if (!product) throw new AppError("NOT_FOUND", `No product with id "${productId}"`, { productId });
      return product;
    },
  };
}

/** Freezes a value and everything reachable from it (plain data: arrays and objects). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
