// Catalogue queries: one query per function, rows out; mapping to domain shapes lives in catalog.ts.
import { CompiledQuery, sql } from "kysely";
import type { Currency } from "../money.ts";
import type { Db } from "../db/database.ts";
import { compileOnce } from "../db/compiled-query.ts";

export interface VariantListingRow {
  product_id: string;
  product_name: string;
  description: string;
  category: string;
  image: string;
  /** The variant's own picture, or null for the product's. */
  variant_image: string | null;
  sku: string;
  variant_name: string;
  options: Record<string, string>;
  weight_grams: number;
  amount: number;
  available: number;
}

function selectVariants(db: Db, currency: Currency) {
  return db
    .selectFrom("product as p")
    .innerJoin("variant as v", "v.product_id", "p.id")
    .innerJoin("price as pr", (join) => join.onRef("pr.sku", "=", "v.sku").on("pr.currency", "=", currency))
    .leftJoin("inventory as i", "i.sku", "v.sku")
    .select([
      "p.id as product_id",
      "p.name as product_name",
      "p.description",
      "p.category",
      "p.image",
      "v.image as variant_image",
      "v.sku",
      "v.name as variant_name",
      "v.options",
      "v.weight_grams",
      "pr.amount",
    ])
    .select((eb) => eb.fn.coalesce("i.available", eb.lit(0)).as("available"))
    .orderBy("p.position")
    .orderBy("p.id")
    .orderBy("v.position");
}

/** Where a page starts: after this product in the listing order (position, id). */
export interface ListingKey {
  position: number;
  id: string;
}

export interface ProductPageQuery {
  currency: Currency;
  /** Exactly this category (product_category_listing_idx). */
  category?: string;
  /** An ILIKE pattern matched against name and description (product_search_trgm_idx); the caller escapes it. */
  pattern?: string;
  after?: ListingKey;
  /** Products to read: the page and one more, which tells whether a next page exists. */
  take: number;
}

/**
 * The variant rows of one page of products in the listing order, keyset-paged: the products come from an index walk
 * that starts after `after` (never OFFSET, so a deep page costs what the first does), and only those products' variants
 * are joined. A product with no price in the currency is not listed, as before paging.
 */
export async function listPageVariants(db: Db, query: ProductPageQuery): Promise<(VariantListingRow & { position: number })[]> {
  const { currency, category, pattern, after, take } = query;
  let page = db
    .selectFrom("product as p")
    .select(["p.id", "p.name", "p.description", "p.category", "p.image", "p.position"])
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom("variant as pv")
          .innerJoin("price as ppr", (join) => join.onRef("ppr.sku", "=", "pv.sku").on("ppr.currency", "=", currency))
          .select(eb.lit(1).as("one"))
          .whereRef("pv.product_id", "=", "p.id"),
      ),
    );
  if (category !== undefined) page = page.where("p.category", "=", category);
  // The same expression as product_search_trgm_idx, so the index serves it (the ' ' must stay a literal, not a parameter).
  if (pattern !== undefined) page = page.where(sql<string>`p.name || ' ' || p.description`, "ilike", pattern);
  if (after) page = page.where((eb) => eb(eb.refTuple("p.position", "p.id"), ">", eb.tuple(after.position, after.id)));
  // The page's products carry their own columns, so the outer query joins only their variants (no second product read).
  const listing = db
    .selectFrom(page.orderBy("p.position").orderBy("p.id").limit(take).as("pg"))
    .innerJoin("variant as v", "v.product_id", "pg.id")
    .innerJoin("price as pr", (join) => join.onRef("pr.sku", "=", "v.sku").on("pr.currency", "=", currency))
    .leftJoin("inventory as i", "i.sku", "v.sku")
    .select([
      "pg.id as product_id",
      "pg.name as product_name",
      "pg.description",
      "pg.category",
      "pg.image",
      "pg.position",
      "v.image as variant_image",
      "v.sku",
      "v.name as variant_name",
      "v.options",
      "v.weight_grams",
      "pr.amount",
    ])
    .select((eb) => eb.fn.coalesce("i.available", eb.lit(0)).as("available"))
    .orderBy("pg.position")
    .orderBy("pg.id")
    .orderBy("v.position");
  if (pattern === undefined) return listing.execute();
  // A search is planned with its pattern on every call: a rare term through product_search_trgm_idx, a common one by
  // walking the listing order until the page is full. A named prepared statement settles on one generic plan after five
  // calls, and for a search that is the walk: every product read for a term only one matches (10,026 rows for one product
  // among 10,000 in the year-of-data benchmark). prepared-statements.ts names only texts that start with a data keyword,
  // so this one, starting with a comment, goes unnamed and is planned with its values.
  const compiled = listing.compile();
  const result = await db.executeQuery<VariantListingRow & { position: number }>(
    CompiledQuery.raw(`/* catalogue search: planned per call */ ${compiled.sql}`, [...compiled.parameters]),
  );
  return result.rows;
}

/** The distinct categories, read by skipping through product_category_listing_idx: one index probe per category. */
export async function listCategories(db: Db): Promise<string[]> {
  const { rows } = await sql<{ category: string }>`
    with recursive c(category) as (
      (select category from product order by category limit 1)
      union all
      select (select p.category from product p where p.category > c.category order by p.category limit 1) from c where c.category is not null
    )
    select category from c where category is not null`.execute(db);
  return rows.map((row) => row.category);
}

export function listVariantsOfProduct(db: Db, currency: Currency, productId: string): Promise<VariantListingRow[]> {
  return selectVariants(db, currency).where("p.id", "=", productId).execute();
}

/** One variant as sold in `currency` (none when it is not sold in it or does not exist); every cart edit asks. */
export async function findVariantBySku(db: Db, currency: Currency, sku: string): Promise<VariantListingRow | undefined> {
  const [row] = await variantBySku.execute(db, { currency, sku });
  return row;
}

const variantBySku = compileOnce(["currency", "sku"], (db, { currency, sku }: { currency: Currency; sku: string }) => selectVariants(db, currency).where("v.sku", "=", sku));

export function variantExists(db: Db, sku: string) {
  return db.selectFrom("variant").select("sku").where("sku", "=", sku).executeTakeFirst();
}
