// A short-lived, single-flight cache in front of the catalogue reads: under load every shopper opening the shop asks
// for the same first page; here one query per (currency, category, page size) per TTL serves them all.
// Availability shown may be up to `ttlMs` old; cart and checkout always re-check stock in the database.
// What it serves is deeply frozen: every caller shares it, none may change it, and the API serialises a frozen answer
// once (packages/api/src/http/ready-bodies.ts) and sends those bytes to every caller while the entry lives.
//
// Only what many shoppers share is cached, and every cache has a bound: first pages (no cursor, no search) of a
// category the shop has, and single products. A search or a deeper page goes to the database (an indexed, keyset read),
// so random search text or cursors cannot fill memory or push the hot entries out.
import type { Currency } from "../money.ts";
import type { CatalogPage, Product } from "../schemas.ts";
import type { Db } from "../db/database.ts";
import type { StockPolicy } from "../inventory/stock-policy.ts";
import * as Catalog from "./catalog.ts";

export interface CatalogListQuery {
  currency: Currency;
  category?: string;
  q?: string;
  cursor?: string;
  limit?: number;
}

export interface CatalogReader {
  list(input: CatalogListQuery): Promise<CatalogPage>;
  get(input: { productId: string; currency: Currency }): Promise<Product>;
  categories(): Promise<readonly string[]>;
  /** Entries held now, per cache: what the bound tests read. */
  entryCounts(): { pages: number; products: number };
}

/** The most first pages and products held at once (each is a few kB; the oldest goes first). */
export const CATALOG_CACHE_MAX_ENTRIES = { pages: 256, products: 1024 } as const;

/** An empty page for a category the shop does not have: frozen, shared, and never a cache entry. */
const NO_PRODUCTS: CatalogPage = deepFreeze({ products: [], nextCursor: null });

export function createCatalogReader(input: {
  db: Db;
  ttlMs: number;
  /** The shop's stock policy, for each variant's maxPerOrder (the default when not given). */
  policy?: StockPolicy;
  now?: () => number;
  maxEntries?: { pages?: number; products?: number };
}): CatalogReader {
  // Every read carries the policy: a cached page holds each variant's maxPerOrder under the limits the shop applies.
  const { db, ttlMs, policy } = input;
  const now = input.now ?? Date.now;
  if (ttlMs <= 0) {
    return {
      list: (query) => Catalog.list({ db, policy, ...query }),
      get: ({ productId, currency }) => Catalog.get({ db, productId, currency, policy }),
      categories: () => Catalog.categories({ db }),
      entryCounts: () => ({ pages: 0, products: 0 }),
    };
  }
  const pages = createBoundedCache<CatalogPage>({ ttlMs, now, maxEntries: input.maxEntries?.pages ?? CATALOG_CACHE_MAX_ENTRIES.pages });
  const products = createBoundedCache<Product>({ ttlMs, now, maxEntries: input.maxEntries?.products ?? CATALOG_CACHE_MAX_ENTRIES.products });
  const categories = createBoundedCache<string[]>({ ttlMs, now, maxEntries: 1 });
  const readCategories = () => categories.read("all", () => Catalog.categories({ db }));

  return {
    async list(query) {
      if (query.cursor !== undefined || query.q !== undefined) return Catalog.list({ db, policy, ...query });
      // A category the shop does not have is answered without a query and without an entry: only real categories
      // (a handful) times page sizes can take room, and the bound covers even those.
      if (query.category !== undefined && !(await readCategories()).includes(query.category)) return NO_PRODUCTS;
      const key = JSON.stringify([query.currency, query.category ?? null, query.limit ?? null]);
      return pages.read(key, () => Catalog.list({ db, policy, ...query }));
    },
    get: ({ productId, currency }) => products.read(JSON.stringify([currency, productId]), () => Catalog.get({ db, productId, currency, policy })),
    categories: readCategories,
    entryCounts: () => ({ pages: pages.size(), products: products.size() }),
  };
}

interface BoundedCache<V> {
  /** The live value for `key`, or `load()`'s, shared by every caller until it expires; a failed load is not kept. */
  read(key: string, load: () => Promise<V>): Promise<V>;
  size(): number;
}

function createBoundedCache<V>(input: { ttlMs: number; now: () => number; maxEntries: number }): BoundedCache<V> {
  const entries = new Map<string, { expiresAt: number; value: Promise<V> }>();
  return {
    read(key, load) {
      const cached = entries.get(key);
      if (cached && cached.expiresAt > input.now()) return cached.value;
      entries.delete(key);
      // Map keeps insertion order: the first key is the oldest entry.
      while (entries.size >= input.maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
      const value = load().then(deepFreeze);
      const entry = { expiresAt: input.now() + input.ttlMs, value };
      // A failed load must not be served from the cache for the rest of the TTL (callers still see the rejection).
      value.catch(() => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      entries.set(key, entry);
      return value;
    },
    size: () => entries.size,
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
