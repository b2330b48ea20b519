// Prepares what the benchmark reads, through the tRPC HTTP wire format like any client: a cart with two lines.
import { z } from "zod";

const Envelope = z.object({ result: z.object({ data: z.unknown() }) });
const CreatedCart = z.object({ id: z.string() });
const CatalogPage = z.object({ products: z.array(z.object({ variants: z.array(z.object({ sku: z.string(), inStock: z.boolean() })) })) });
const CartShape = z.object({ lines: z.array(z.object({ sku: z.string() })) });

interface Answer {
  data: unknown;
  bytes: number;
}

async function call(baseUrl: string, procedure: string, input: unknown, kind: "query" | "mutation"): Promise<Answer> {
  const url = kind === "query" ? queryUrl(baseUrl, procedure, input) : `${baseUrl}/trpc/${procedure}`;
  const response = await fetch(
    url,
    kind === "query"
      ? { signal: AbortSignal.timeout(10_000) }
      : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(input), signal: AbortSignal.timeout(10_000) },
  );
  const text = await response.text();
  if (!response.ok) throw new Error(`${procedure} answered ${response.status}: ${text.slice(0, 500)}`);
  return { data: Envelope.parse(JSON.parse(text)).result.data, bytes: Buffer.byteLength(text) };
}

/** The URL-encoded GET of a tRPC query, as the web app's client sends it. */
export function queryUrl(baseUrl: string, procedure: string, input?: unknown): string {
  return input === undefined ? `${baseUrl}/trpc/${procedure}` : `${baseUrl}/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`;
}

export interface BenchData {
  cartId: string;
  catalog: { products: number; bytes: number };
  cart: { lines: number; bytes: number };
}

export async function prepareBenchData(baseUrl: string): Promise<BenchData> {
  const catalogAnswer = await fetch(queryUrl(baseUrl, "catalog.list"), { signal: AbortSignal.timeout(10_000) });
  const catalogText = await catalogAnswer.text();
  if (!catalogAnswer.ok) throw new Error(`catalog.list answered ${catalogAnswer.status}: ${catalogText.slice(0, 500)}`);
  const { products } = CatalogPage.parse(Envelope.parse(JSON.parse(catalogText)).result.data);

  // Two lines from two products, so cart.get joins more than one product.
  const secondSku = products.at(-1)?.variants.find((variant) => variant.inStock && variant.sku !== "TEE-BLA-M")?.sku;
  if (!secondSku) throw new Error("The catalogue has no second product in stock to put in the cart");
  const { id: cartId } = CreatedCart.parse((await call(baseUrl, "cart.create", { currency: "USD" }, "mutation")).data);
  await call(baseUrl, "cart.addLine", { cartId, sku: "TEE-BLA-M", quantity: 2 }, "mutation");
  await call(baseUrl, "cart.addLine", { cartId, sku: secondSku, quantity: 1 }, "mutation");

  // A cart id never travels in a URL: the API takes cart.get's input as a POST body, as the bench measures it.
  const cartAnswer = await call(baseUrl, "cart.get", { cartId }, "mutation");
  const cart = CartShape.parse(cartAnswer.data);
  if (cart.lines.length < 2) throw new Error(`Expected a cart with two lines, got ${cart.lines.length}`);
  return {
    cartId,
    catalog: { products: products.length, bytes: Buffer.byteLength(catalogText) },
    cart: { lines: cart.lines.length, bytes: cartAnswer.bytes },
  };
}
