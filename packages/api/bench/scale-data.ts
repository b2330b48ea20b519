// A year of a shop's data, loaded with set-based SQL (generate_series, INSERT … SELECT): products with variants,
// prices and stock; orders with their completed carts, quotes, lines, payments and audit rows; abandoned carts.
// Audit rows go in like any other writer's: the database seals each into the hash chain at COMMIT (its trigger), so
// the chain a year of orders leaves is a valid one, at about 45 µs a row.
import { sql, type Kysely } from "kysely";
import type { Database } from "@checkout/core";

export interface YearOfData {
  products: number;
  orders: number;
  abandonedCarts: number;
}

/** Forty categories, the demo catalogue's six among them; the generated products spread over them evenly. */
const CATEGORIES = [
  "Home",
  "Apparel",
  "Bikes",
  "Books",
  "Camping",
  "Accessories",
  "Ceramics",
  "Climbing",
  "Coffee",
  "Cookware",
  "Cycling Wear",
  "Desk",
  "Dog",
  "Footwear",
  "Gardening",
  "Glassware",
  "Hats",
  "Jewellery",
  "Knitwear",
  "Lighting",
  "Linen",
  "Luggage",
  "Maps",
  "Music",
  "Stationery",
  "Outdoors",
  "Pantry",
  "Pens",
  "Plants",
  "Rugs",
  "Running",
  "Scarves",
  "Skin Care",
  "Sleep",
  "Spices",
  "Storage",
  "Swim",
  "Tea",
  "Tools",
  "Toys",
] as const;
const ADJECTIVES = [
  "Linen",
  "Oak",
  "Walnut",
  "Copper",
  "Brass",
  "Canvas",
  "Merino",
  "Cedar",
  "Stoneware",
  "Waxed",
  "Cotton",
  "Slate",
  "Juniper",
  "Harbour",
  "Alpine",
  "Meadow",
  "Granite",
  "Willow",
  "Amber",
  "Indigo",
] as const;
const NOUNS = [
  "Tray",
  "Bowl",
  "Bag",
  "Lamp",
  "Jacket",
  "Throw",
  "Planter",
  "Notebook",
  "Mug",
  "Crate",
  "Blanket",
  "Bottle",
  "Basket",
  "Apron",
  "Scarf",
  "Stool",
  "Pouch",
  "Jar",
  "Board",
  "Kettle",
  "Cap",
  "Sock",
  "Brush",
  "Candle",
  "Tote",
] as const;

const textArray = (values: readonly string[]) => sql.raw(`array[${values.map((value) => `'${value.replace(/'/g, "''")}'`).join(", ")}]::text[]`);

/** The generated products' ids and SKUs: item-000042 has ITEM-000042-1, -2 and -3. */
export const generatedProductId = (n: number) => `item-${String(n).padStart(6, "0")}`;
export const generatedSku = (n: number, variant: 1 | 2 | 3) => `ITEM-${String(n).padStart(6, "0")}-${variant}`;

/** Products after the demo catalogue in the listing order, three variants each, priced in USD and EUR, with stock. */
export async function loadProducts(db: Kysely<Database>, count: number): Promise<void> {
  await sql`
    insert into product (id, name, description, category, image, position)
    select format('item-%s', lpad(g::text, 6, '0')),
      (${textArray(ADJECTIVES)})[1 + g % ${sql.lit(ADJECTIVES.length)}] || ' ' || (${textArray(NOUNS)})[1 + (g / ${sql.lit(ADJECTIVES.length)}) % ${sql.lit(NOUNS.length)}] || ' no. ' || g,
      'Made in a small workshop: item ' || g || ', finished by hand and built to last for years of daily use.',
      (${textArray(CATEGORIES)})[1 + g % ${sql.lit(CATEGORIES.length)}],
      '/images/products/everyday-tee.svg',
      1000 + g
    from generate_series(1, ${count}::int) g`.execute(db);
  await sql`
    insert into variant (sku, product_id, name, options, weight_grams, position)
    select format('ITEM-%s-%s', lpad(g::text, 6, '0'), v), format('item-%s', lpad(g::text, 6, '0')),
      (array['Small', 'Medium', 'Large'])[v], jsonb_build_object('size', (array['S', 'M', 'L'])[v]), 200 + 100 * v, v - 1
    from generate_series(1, ${count}::int) g, generate_series(1, 3) v`.execute(db);
  await sql`
    insert into price (sku, currency, amount)
    select format('ITEM-%s-%s', lpad(g::text, 6, '0'), v), c, (500 + (g * 37) % 20000 + 200 * v) * (case c when 'EUR' then 9 else 10 end) / 10
    from generate_series(1, ${count}::int) g, generate_series(1, 3) v, unnest(array['USD', 'EUR']) c`.execute(db);
  await sql`
    insert into inventory (sku, available)
    select format('ITEM-%s-%s', lpad(g::text, 6, '0'), v), 100000
    from generate_series(1, ${count}::int) g, generate_series(1, 3) v`.execute(db);
}

/**
 * Orders `from`..`to` of `total`, spread over the past year, each with the completed cart and the quote it came from,
 * two lines, one payment and two audit rows (the order placed; its payment captured, declined or voided). 60 % are
 * fulfilled, 33 % captured, 5 % failed payment and 2 % cancelled: the shop's invariants hold over all of them.
 */
export async function loadOrders(db: Kysely<Database>, input: { from: number; to: number; total: number; products: number }): Promise<void> {
  const { from, to, total, products } = input;
  await db.transaction().execute(async (trx) => {
    await sql`
      with src as (
        select g, gen_random_uuid() as cart_id, gen_random_uuid() as quote_id, gen_random_uuid() as order_id, gen_random_uuid() as payment_id,
          case when g % 100 < 60 then 'fulfilled' when g % 100 < 93 then 'captured' when g % 100 < 98 then 'payment_failed' else 'cancelled' end as status,
          case when g % 3 = 0 then 'EUR' else 'USD' end as currency,
          1000 + (g * 37) % 9000 as p1, 1000 + (g * 53) % 9000 as p2, 1 + g % 3 as q1,
          format('ITEM-%s-%s', lpad((1 + (g * 7919) % ${products}::int)::text, 6, '0'), 1 + g % 3) as sku1,
          format('ITEM-%s-%s', lpad((1 + (g * 104729) % ${products}::int)::text, 6, '0'), 1 + (g + 1) % 3) as sku2,
          now() - interval '366 days' + (g::float8 / ${total}::int) * interval '365 days' as at,
          format('shopper%s@example.com', g % 200000) as email
        from generate_series(${from}::bigint, ${to}::bigint) g
      ),
      priced as (select *, p1 * q1 + p2 as subtotal, 500 as shipping from src),
      carts as (
        insert into cart (id, currency, status, email, shipping_address, shipping_option_id, created_at, updated_at)
        select cart_id, currency, 'completed', email,
          jsonb_build_object('name', 'Shopper ' || g, 'line1', g || ' Main St', 'city', 'Springfield', 'postalCode', '94105', 'country', 'US', 'region', 'CA'),
          'standard', at - interval '20 minutes', at
        from priced
      ),
      quotes as (
        insert into quote (id, cart_id, currency, subtotal, shipping, tax, total, snapshot, expires_at, created_at)
        select quote_id, cart_id, currency, subtotal, shipping, 0, subtotal + shipping, '{"lines": []}'::jsonb, at + interval '15 minutes', at - interval '1 minute'
        from priced
      ),
      orders as (
        insert into "order" (id, cart_id, quote_id, status, email, shipping_address, shipping_option, currency, subtotal, shipping, tax, total,
          created_at, updated_at, payment_token_hash)
        select order_id, cart_id, quote_id, status, email,
          jsonb_build_object('name', 'Shopper ' || g, 'line1', g || ' Main St', 'city', 'Springfield', 'postalCode', '94105', 'country', 'US', 'region', 'CA'),
          '{"id": "standard", "label": "Standard", "amount": 500}'::jsonb, currency, subtotal, shipping, 0, subtotal + shipping,
          at, at + interval '2 hours', encode(sha256(convert_to('tok_' || g, 'UTF8')), 'hex')
        from priced
        returning id, number
      ),
      lines as (
        insert into order_line (order_id, position, sku, product_name, variant_name, unit_price, quantity, line_total, tax)
        select order_id, 0, sku1, 'Item', 'Medium', p1, q1, p1 * q1, 0 from priced
        union all
        select order_id, 1, sku2, 'Item', 'Small', p2, 1, p2, 0 from priced
      ),
      payments as (
        insert into payment (id, order_id, provider, provider_reference, status, amount, currency, card_brand, card_last4, decline_code,
          created_at, updated_at, captured_amount)
        select payment_id, order_id, 'sandbox', 'auth_' || g,
          case status when 'payment_failed' then 'declined' when 'cancelled' then 'voided' else 'captured' end,
          subtotal + shipping, currency, 'visa', '4242', case status when 'payment_failed' then 'card_declined' end,
          at, at + interval '1 hour', case when status in ('fulfilled', 'captured') then subtotal + shipping else 0 end
        from priced
      )
      insert into audit_log (entity, entity_id, action, actor, data)
      select 'order', p.order_id::text, 'order.placed', 'shopper', jsonb_build_object('orderId', p.order_id, 'number', o.number, 'total', p.subtotal + p.shipping)
      from priced p join orders o on o.id = p.order_id
      union all
      select 'payment', payment_id::text,
        case status when 'payment_failed' then 'payment.declined' when 'cancelled' then 'payment.voided' else 'payment.captured' end,
        'system', jsonb_build_object('orderId', order_id, 'amount', subtotal + shipping)
      from priced`.execute(trx);
  });
}

/** Carts `from`..`to` left open over the past year, two lines each: what shoppers abandon. */
export async function loadAbandonedCarts(db: Kysely<Database>, input: { from: number; to: number; total: number; products: number }): Promise<void> {
  const { from, to, total, products } = input;
  await sql`
    with src as (
      select g, gen_random_uuid() as id, case when g % 3 = 0 then 'EUR' else 'USD' end as currency,
        now() - interval '366 days' + (g::float8 / ${total}::int) * interval '365 days' as at,
        lpad((1 + (g * 7919) % ${products}::int)::text, 6, '0') as item
      from generate_series(${from}::bigint, ${to}::bigint) g
    ),
    carts as (insert into cart (id, currency, status, created_at, updated_at) select id, currency, 'open', at, at from src)
    insert into cart_line (id, cart_id, sku, quantity, created_at)
    select gen_random_uuid(), id, format('ITEM-%s-%s', item, v), v, at from src, generate_series(1, 2) v`.execute(db);
}

/** Stock received = available + units live orders hold, per SKU: the stock invariant holds over the loaded orders. */
export async function balanceStock(db: Kysely<Database>): Promise<void> {
  await sql`
    update inventory i set stock_received = i.available + h.held
    from (
      select l.sku, sum(l.quantity)::int as held from order_line l join "order" o on o.id = l.order_id
      where o.status not in ('payment_failed', 'cancelled') group by l.sku
    ) h
    where h.sku = i.sku`.execute(db);
}

/** Loads the whole year in batches, telling `progress` after each; then VACUUM ANALYZE. */
export async function loadYearOfData(input: { db: Kysely<Database>; size: YearOfData; batch?: number; progress: (line: string) => void }): Promise<void> {
  const { db, size, progress } = input;
  const batch = input.batch ?? 50_000;
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
  await loadProducts(db, size.products);
  progress(`${size.products.toLocaleString("en-US")} products with 3 variants, 2 prices and stock each (${elapsed()})`);
  for (let from = 1; from <= size.orders; from += batch) {
    const to = Math.min(size.orders, from + batch - 1);
    await loadOrders(db, { from, to, total: size.orders, products: size.products });
    progress(`orders ${to.toLocaleString("en-US")} / ${size.orders.toLocaleString("en-US")} (${elapsed()})`);
  }
  for (let from = 1; from <= size.abandonedCarts; from += batch * 2) {
    const to = Math.min(size.abandonedCarts, from + batch * 2 - 1);
    await loadAbandonedCarts(db, { from, to, total: size.abandonedCarts, products: size.products });
    progress(`abandoned carts ${to.toLocaleString("en-US")} / ${size.abandonedCarts.toLocaleString("en-US")} (${elapsed()})`);
  }
  await balanceStock(db);
  await sql`vacuum analyze`.execute(db);
  progress(`stock balanced, VACUUM ANALYZE done (${elapsed()})`);
}
