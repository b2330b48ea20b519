// The catalogue: products with their variants, priced in one currency with live availability.
import type { Currency } from "../money.ts";
import type { Product } from "../schemas.ts";
import type { Db } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as CatalogRepository from "./catalog.repository.ts";
import type { VariantListingRow } from "./catalog.repository.ts";

function rowsToProducts(rows: readonly VariantListingRow[], currency: Currency): Product[] {
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
    });
  }
  return [...products.values()];
}

export async function list(input: { db: Db; currency: Currency }): Promise<Product[]> {
  return rowsToProducts(await CatalogRepository.listVariants(input.db, input.currency), input.currency);
}

export async function get(input: { db: Db; productId: string; currency: Currency }): Promise<Product> {
  const rows = await CatalogRepository.listVariantsOfProduct(input.db, input.currency, input.productId);
  const [product] = rowsToProducts(rows, input.currency);
  if (!product) throw new AppError("NOT_FOUND", `No product with id "${input.productId}"`, { productId: input.productId });
  return product;
}
