// The catalogue: products with their variants, priced in one currency with live availability.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Currency } from "../money.ts";
import { CATALOG_PAGE_LIMIT, ProductIdSchema, type CatalogPage, type Product } from "../schemas.ts";
import type { Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import { DEFAULT_STOCK_POLICY, maxUnitsOfSku, type StockPolicy } from "../inventory/stock-policy.ts";
import * as CatalogRepository from "./catalog.repository.ts";
import type { ListingKey, VariantListingRow } from "./catalog.repository.ts";

function rowsToProducts(rows: readonly VariantListingRow[], currency: Currency, policy: StockPolicy): Product[] {
  const products = new Map<string, Product>();
  for (const row of rows) {
    let product = products.get(row.product_id);
    if (!product) {
      product = {
        id: row.product_id,
        name: row.product_name,
        description: row.description,
        category: row.category,
        image: row.image,
        currency,
        priceFrom: row.amount,
        variants: [],
      };
      products.set(row.product_id, product);
    }
    product.priceFrom = Math.min(product.priceFrom, row.amount);
    product.variants.push({
      sku: row.sku,
      name: row.variant_name,
      options: row.options,
      price: row.amount,
      currency,
      inStock: row.available > 0,
      available: row.available,
      maxPerOrder: maxUnitsOfSku(policy, row.available),
      image: row.variant_image ?? row.image,
    });
  }
  return [...products.values()];
}

/** What a page is of: a cursor carries a digest of it, so it cannot be replayed against another listing. */
interface Listing {
  currency: Currency;
  category?: string;
  q?: string;
}

export interface ListInput extends Listing {
  db: Db;
  /** The shop's stock policy, for each variant's maxPerOrder (the default when not given). */
  policy?: StockPolicy;
  cursor?: string;
  limit?: number;
}

/** [position, id, listing digest]: the last product of the page before, and which listing it belongs to. */
const CursorContent = z.tuple([z.int().min(-2_147_483_648).max(2_147_483_647), ProductIdSchema, z.string().length(16)]);

function listingDigest(listing: Listing): string {
  return createHash("sha256")
    .update(JSON.stringify([listing.currency, listing.category ?? null, listing.q ?? null]))
    .digest("base64url")
    .slice(0, 16);
}

export function encodeCursor(input: { listing: Listing; after: ListingKey }): string {
  return Buffer.from(JSON.stringify([input.after.position, input.after.id, listingDigest(input.listing)])).toString("base64url");
}

/**
 * The place a cursor points at, or BAD_INPUT. A cursor is not secret: one edited by hand can only start a page at
 * another place in the same public listing, so it is checked for shape and listing, not signed.
 */
export function decodeCursor(input: { listing: Listing; cursor: string }): ListingKey {
  let content: unknown;
  try {
    content = JSON.parse(Buffer.from(input.cursor, "base64url").toString("utf8"));
  } catch {
    content = undefined;
  }
  const parsed = CursorContent.safeParse(content);
  if (!parsed.success) throw new AppError("BAD_INPUT", "That page cursor was not issued by this catalogue", { field: "cursor" });
  const [position, id, digest] = parsed.data;
  if (digest !== listingDigest(input.listing)) {
    throw new AppError("BAD_INPUT", "That page cursor belongs to another listing (currency, category or search)", { field: "cursor" });
  }
  return { position, id };
}

/** Escapes LIKE's wildcards and its escape character, so the shopper's text matches literally (backslash is the default escape). */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/** One page of the catalogue in the listing order (position, then id), optionally of one category or matching a search. */
export async function list(input: ListInput): Promise<CatalogPage> {
  const { db, currency, category, q, cursor } = input;
  const limit = input.limit ?? CATALOG_PAGE_LIMIT.default;
  const listing: Listing = { currency, category, q };
  const after = cursor === undefined ? undefined : decodeCursor({ listing, cursor });
  const rows = await CatalogRepository.listPageVariants(db, {
    currency,
    category,
    pattern: q === undefined ? undefined : likePattern(q),
    after,
    take: limit + 1,
  });
  const products = rowsToProducts(rows, currency, input.policy ?? DEFAULT_STOCK_POLICY);
  if (products.length <= limit) return { products, nextCursor: null };
  const page = products.slice(0, limit);
  const last = rows.findLast((row) => row.product_id === page[page.length - 1]?.id);
  if (!last) throw new Error("The last product of a page has no row");
  return { products: page, nextCursor: encodeCursor({ listing, after: { position: last.position, id: last.product_id } }) };
}

/** The shop's categories in alphabetical order. */
export function categories(input: { db: Db }): Promise<string[]> {
  return CatalogRepository.listCategories(input.db);
}

export async function get(input: { db: Db; productId: string; currency: Currency; policy?: StockPolicy }): Promise<Product> {
  const rows = await CatalogRepository.listVariantsOfProduct(input.db, input.currency, input.productId);
  const [product] = rowsToProducts(rows, input.currency, input.policy ?? DEFAULT_STOCK_POLICY);
  if (!product) throw new AppError("NOT_FOUND", `No product with id "${input.productId}"`, { productId: input.productId });
  return product;
}
