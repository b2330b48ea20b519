// The demo catalogue loaded into an empty shop. Loading is idempotent: existing rows (and the
// stock already sold from them) are left alone, so a restart never resets inventory.
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";

interface SeedVariant {
  sku: string;
  name: string;
  options: Record<string, string>;
  usd: number;
  eur: number;
  grams: number;
  stock: number;
  /** The variant's own picture (its colour), when the product is drawn in each colour. */
  image?: string;
}

interface SeedProduct {
  id: string;
  name: string;
  category: string;
  description: string;
  variants: SeedVariant[];
}

/** A product's picture, or its picture in one colour (public/images/products, drawn by the web's generate-product-images). */
export function productImagePath(productId: string, colour?: string): string {
  const suffix = colour ? `--${colour.toLowerCase().replace(/[^a-z0-9]+/g, "-")}` : "";
  return `/images/products/${productId}${suffix}.svg`;
}

/** Every size in every colour; with `pictureEachColour`, each colour's variants show that colour's picture. */
function grid(input: { prefix: string; colours?: string[]; sizes?: string[]; pictureEachColour?: string; usd: number; eur: number; grams: number; stock: number }): SeedVariant[] {
  const colours = input.colours ?? [undefined];
  const sizes = input.sizes ?? [undefined];
  const variants: SeedVariant[] = [];
  for (const colour of colours) {
    for (const size of sizes) {
      const options: Record<string, string> = {};
      if (colour) options.colour = colour;
      if (size) options.size = size;
      const code = [colour?.slice(0, 3), size].filter(Boolean).join("-").toUpperCase();
      variants.push({
        sku: code ? `${input.prefix}-${code}` : input.prefix,
        name: [colour, size].filter(Boolean).join(" / ") || "Default",
        options,
        usd: input.usd,
        eur: input.eur,
        grams: input.grams,
        stock: input.stock,
        image: colour && input.pictureEachColour ? productImagePath(input.pictureEachColour, colour) : undefined,
      });
    }
  }
  return variants;
}

export const seedProducts: SeedProduct[] = [
  {
    id: "everyday-tee",
    name: "Everyday Tee",
    category: "Apparel",
    description: "A heavyweight organic-cotton T-shirt with a relaxed fit that keeps its shape wash after wash.",
    variants: grid({
      prefix: "TEE",
      pictureEachColour: "everyday-tee",
      colours: ["Black", "White", "Blue"],
      sizes: ["S", "M", "L", "XL"],
      usd: 2400,
      eur: 2200,
      grams: 220,
      stock: 60,
    }),
  },
  {
    id: "merino-hoodie",
    name: "Merino Hoodie",
    category: "Apparel",
    description: "Fine merino wool, warm without bulk, breathable on a run and soft enough to sleep in.",
    variants: grid({
      prefix: "HOOD",
      pictureEachColour: "merino-hoodie",
      colours: ["Charcoal", "Forest"],
      sizes: ["S", "M", "L", "XL"],
      usd: 8900,
      eur: 8200,
      grams: 480,
      stock: 30,
    }),
  },
  {
    id: "rain-jacket",
    name: "Packable Rain Jacket",
    category: "Apparel",
    description: "A fully taped 2.5-layer shell that packs into its own pocket. 20,000 mm waterproof rating.",
    variants: grid({ prefix: "RAIN", pictureEachColour: "rain-jacket", colours: ["Olive", "Navy"], sizes: ["S", "M", "L", "XL"], usd: 14900, eur: 13900, grams: 310, stock: 20 }),
  },
  {
    id: "running-socks",
    name: "Running Socks, 3-pack",
    category: "Apparel",
    description: "Cushioned heel and toe, arch support and a seamless toe box. Three pairs per pack.",
    variants: grid({ prefix: "SOCK", sizes: ["S", "M", "L"], usd: 1800, eur: 1700, grams: 120, stock: 100 }),
  },
  {
    id: "wool-beanie",
    name: "Wool Beanie",
    category: "Accessories",
    description: "A ribbed beanie knitted from recycled wool, with a fold-over cuff.",
    variants: grid({ prefix: "BEAN", pictureEachColour: "wool-beanie", colours: ["Rust", "Grey", "Navy"], usd: 2800, eur: 2600, grams: 90, stock: 45 }),
  },
  {
    id: "canvas-tote",
    name: "Canvas Tote",
    category: "Accessories",
    description: "A 12 oz canvas tote with an inner pocket and long handles that fit over a coat.",
    variants: grid({ prefix: "TOTE", usd: 1900, eur: 1800, grams: 250, stock: 80 }),
  },
  {
    id: "daypack-20",
    name: "Daypack 20L",
    category: "Accessories",
    description: "A 20-litre roll-top pack with a padded laptop sleeve and a water-resistant base.",
    variants: grid({ prefix: "PACK", pictureEachColour: "daypack-20", colours: ["Black", "Sand"], usd: 11900, eur: 10900, grams: 900, stock: 25 }),
  },
  {
    id: "sunglasses",
    name: "Polarised Sunglasses",
    category: "Accessories",
    description: "Acetate frames with polarised, UV400 lenses and a recycled-leather case.",
    variants: grid({ prefix: "SUN", usd: 7900, eur: 7400, grams: 60, stock: 40 }),
  },
  {
    id: "ceramic-mug",
    name: "Ceramic Mug",
    category: "Home",
    description: "A hand-glazed 350 ml stoneware mug. Dishwasher and microwave safe.",
    variants: grid({ prefix: "MUG", pictureEachColour: "ceramic-mug", colours: ["Sand", "Slate"], usd: 1600, eur: 1500, grams: 380, stock: 70 }),
  },
  {
    id: "desk-lamp",
    name: "Desk Lamp",
    category: "Home",
    description: "A dimmable LED lamp with a warm 2,700 K light and a weighted steel base.",
    variants: grid({ prefix: "LAMP", usd: 6400, eur: 5900, grams: 1600, stock: 15 }),
  },
  {
    id: "linen-napkins",
    name: "Linen Napkins, set of 4",
    category: "Home",
    description: "Stonewashed European linen napkins that soften with every wash.",
    variants: grid({ prefix: "NAPK", colours: ["Natural", "Indigo"], usd: 3200, eur: 2900, grams: 200, stock: 35 }),
  },
  {
    id: "water-bottle",
    name: "Insulated Water Bottle",
    category: "Outdoors",
    description: "Double-walled stainless steel: cold for 24 hours, hot for 12.",
    variants: [
      { sku: "BOTL-500", name: "500 ml", options: { size: "500 ml" }, usd: 2200, eur: 2000, grams: 320, stock: 50 },
      { sku: "BOTL-750", name: "750 ml", options: { size: "750 ml" }, usd: 2600, eur: 2400, grams: 410, stock: 50 },
    ],
  },
  {
    id: "leather-notebook",
    name: "Leather Notebook",
    category: "Stationery",
    description: "A refillable vegetable-tanned leather cover with a dot-grid notebook inside.",
    variants: [
      { sku: "NOTE-A5", name: "A5", options: { size: "A5" }, usd: 3400, eur: 3200, grams: 350, stock: 40 },
      { sku: "NOTE-A6", name: "A6", options: { size: "A6" }, usd: 2900, eur: 2700, grams: 220, stock: 40 },
    ],
  },
  {
    id: "espresso-beans",
    name: "Espresso Beans, 1 kg",
    category: "Pantry",
    description: "A chocolatey, low-acidity blend from Brazil and Ethiopia, roasted weekly.",
    variants: [
      { sku: "BEAN-WHOLE", name: "Whole bean", options: { grind: "Whole bean" }, usd: 2700, eur: 2500, grams: 1000, stock: 60 },
      { sku: "BEAN-GROUND", name: "Ground for espresso", options: { grind: "Espresso" }, usd: 2700, eur: 2500, grams: 1000, stock: 60 },
    ],
  },
  {
    id: "limited-print",
    name: "Limited Edition Print",
    category: "Home",
    description: "A signed riso print of the shop's mountain logo, A3, in an edition of five.",
    variants: grid({ prefix: "PRINT", usd: 4500, eur: 4200, grams: 150, stock: 5 }),
  },
];

/** Inserts the demo catalogue where it is missing. Returns the number of products inserted. */
export async function seedCatalog(db: Kysely<Database>): Promise<number> {
  return db.transaction().execute(async (trx) => {
    let inserted = 0;
    for (const [position, product] of seedProducts.entries()) {
      const result = await trx
        .insertInto("product")
        .values({
          id: product.id,
          name: product.name,
          description: product.description,
          category: product.category,
          image: productImagePath(product.id),
          position,
        })
        .onConflict((oc) => oc.column("id").doNothing())
        .executeTakeFirst();
      inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
      for (const [variantPosition, variant] of product.variants.entries()) {
        await trx
          .insertInto("variant")
          .values({
            sku: variant.sku,
            product_id: product.id,
            name: variant.name,
            options: JSON.stringify(variant.options),
            weight_grams: variant.grams,
            position: variantPosition,
            image: variant.image ?? null,
          })
          // A catalogue seeded before variants had pictures gets them; nothing else of an existing row changes.
          .onConflict((oc) => (variant.image ? oc.column("sku").doUpdateSet({ image: variant.image }).where("variant.image", "is", null) : oc.column("sku").doNothing()))
          .execute();
        await trx
          .insertInto("price")
          .values([
            { sku: variant.sku, currency: "USD", amount: variant.usd },
            { sku: variant.sku, currency: "EUR", amount: variant.eur },
          ])
          .onConflict((oc) => oc.columns(["sku", "currency"]).doNothing())
          .execute();
        await trx
          .insertInto("inventory")
          .values({ sku: variant.sku, available: variant.stock })
          .onConflict((oc) => oc.column("sku").doNothing())
          .execute();
      }
    }
    return inserted;
  });
}
