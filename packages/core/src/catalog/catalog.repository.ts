// Catalogue queries: one query per function, rows out; mapping to domain shapes lives in catalog.ts.
import type { Currency } from "../money.ts";
import type { Db } from "../db/database.ts";

export interface VariantListingRow {
  product_id: string;
  product_name: string;
  description: string;
  category: string;
  image: string;
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

export function listVariants(db: Db, currency: Currency): Promise<VariantListingRow[]> {
  return selectVariants(db, currency).execute();
}

export function listVariantsOfProduct(db: Db, currency: Currency, productId: string): Promise<VariantListingRow[]> {
  return selectVariants(db, currency).where("p.id", "=", productId).execute();
}

export function findVariantsBySku(db: Db, currency: Currency, skus: readonly string[]): Promise<VariantListingRow[]> {
  if (skus.length === 0) return Promise.resolve([]);
  return selectVariants(db, currency).where("v.sku", "in", skus).execute();
}

export function variantExists(db: Db, sku: string) {
  return db.selectFrom("variant").select("sku").where("sku", "=", sku).executeTakeFirst();
}
