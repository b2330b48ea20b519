// The catalogue at "/": a short welcome and the grid of products.
import { trpc } from "../trpc.ts";
import { useCurrency } from "../currency/currency-context.tsx";
import { useQuery } from "../lib/use-query.ts";
import { useDocumentTitle } from "../lib/use-document-title.ts";
import { ProductCard } from "../components/product-card.tsx";
import { ErrorPanel, Loading } from "../components/status-panels.tsx";

export function CatalogPage() {
  useDocumentTitle(undefined);
  const { currency } = useCurrency();
  const { state, reload } = useQuery(`catalog:${currency}`, () => trpc.catalog.list.query({ currency }));
  return (
    <>
      <section className="hero" aria-labelledby="page-title">
        <p className="eyebrow">Spring collection</p>
        <h1 id="page-title" tabIndex={-1}>
          Everyday things, made to last
        </h1>
        <p className="hero__lead">Clothing, carry and kitchen goods from small workshops. Free standard shipping on US orders over $75.</p>
      </section>
      <section aria-labelledby="products-heading">
        <h2 id="products-heading" className="visually-hidden">
          Products
        </h2>
        {state.status === "loading" && <Loading label="Loading products…" />}
        {state.status === "error" && <ErrorPanel error={state.error} onRetry={reload} title="We couldn't load the catalogue" />}
        {state.status === "success" &&
          (state.data.length === 0 ? (
            <p className="empty">Nothing in the shop yet. Please check back soon.</p>
          ) : (
            <ul className="product-grid">
              {state.data.map((product) => (
                <ProductCard key={product.id} product={product} />
              ))}
            </ul>
          ))}
      </section>
    </>
  );
}
