// The catalogue at "/": a short welcome, a category filter and search, and the grid of products a page at a time.
import { type FormEvent, useEffect, useRef, useState } from "react";
import type { Product } from "@checkout/core/schemas";
import { trpc } from "../trpc.ts";
import { useCurrency } from "../currency/currency-context.tsx";
import { useQuery } from "../lib/use-query.ts";
import { useDocumentTitle } from "../lib/use-document-title.ts";
import { ProductCard } from "../components/product-card.tsx";
import { ErrorPanel, Loading } from "../components/status-panels.tsx";

/** Pages loaded with "Show more products" after the first, and the cursor of the page after them. */
interface MorePages {
  listing: string;
  products: Product[];
  nextCursor: string | null;
}

export function CatalogPage() {
  useDocumentTitle(undefined);
  const { currency } = useCurrency();
  const [category, setCategory] = useState("");
  const [searchText, setSearchText] = useState("");
  const [searchError, setSearchError] = useState<string | undefined>(undefined);
  const [q, setQ] = useState("");
  const listing = `catalog:${currency}:${category}:${q}`;
  const filters = { currency, ...(category ? { category } : {}), ...(q ? { q } : {}) };
  const { state, reload } = useQuery(listing, () => trpc.catalog.list.query(filters));
  const categories = useQuery("catalog:categories", () => trpc.catalog.categories.query());
  const [more, setMore] = useState<MorePages | null>(null);
  const [moreState, setMoreState] = useState<{ status: "idle" | "loading" } | { status: "error"; error: unknown }>({ status: "idle" });
  const grid = useRef<HTMLUListElement>(null);
  const focusIndex = useRef<number | null>(null);

  // Pages loaded for another listing (currency, category or search) are not this one's.
  const extra = more?.listing === listing ? more : null;
  const products = state.status === "success" ? [...state.data.products, ...(extra?.products ?? [])] : [];
  const nextCursor = extra ? extra.nextCursor : state.status === "success" ? state.data.nextCursor : null;

  // After "Show more products", focus moves to the first product just added, so keyboard and screen-reader users
  // continue where the new products start rather than at a button that moved down the page.
  useEffect(() => {
    if (focusIndex.current === null) return;
    const link = grid.current?.querySelectorAll<HTMLAnchorElement>("li a")[focusIndex.current];
    focusIndex.current = null;
    link?.focus();
  });

  async function showMore() {
    if (!nextCursor) return;
    setMoreState({ status: "loading" });
    try {
      const page = await trpc.catalog.list.query({ ...filters, cursor: nextCursor });
      focusIndex.current = products.length;
      setMore({ listing, products: [...(extra?.products ?? []), ...page.products], nextCursor: page.nextCursor });
      setMoreState({ status: "idle" });
    } catch (error) {
      setMoreState({ status: "error", error });
    }
  }

  async function search(event: FormEvent) {
    event.preventDefault();
    const text = searchText.trim();
    if (text === "") {
      setSearchError(undefined);
      setQ("");
      return;
    }
    // The schemas (and zod) load only when a shopper searches: the catalogue's first load carries no validation code.
    let schemas: typeof import("../lib/schemas.ts");
    try {
      schemas = await import("../lib/schemas.ts");
    } catch {
      setSearchError("Search could not start. Check your connection and try again.");
      return;
    }
    const parsed = schemas.CatalogSearchSchema.safeParse(text);
    if (!parsed.success) {
      setSearchError(parsed.error.issues[0]?.message);
      return;
    }
    setSearchError(undefined);
    setQ(parsed.data);
  }

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
        <div className="catalog-filters">
          <div className="field">
            <label htmlFor="catalog-category">Category</label>
            <select id="catalog-category" value={category} onChange={(event) => setCategory(event.target.value)} data-testid="catalog-category">
              <option value="">All products</option>
              {categories.state.status === "success" &&
                categories.state.data.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
            </select>
          </div>
          <search>
            <form className={`field ${searchError ? "field--invalid" : ""}`.trim()} onSubmit={(event) => void search(event)}>
              <label htmlFor="catalog-search">Search products</label>
              <input
                id="catalog-search"
                type="search"
                value={searchText}
                onChange={(event) => setSearchText(event.target.value)}
                aria-invalid={searchError ? true : undefined}
                aria-describedby={searchError ? "catalog-search-error" : undefined}
                data-testid="catalog-search"
              />
              <button type="submit" className="button button--secondary button--small">
                Search
              </button>
              {searchError && (
                <p className="field__error" id="catalog-search-error">
                  {searchError}
                </p>
              )}
            </form>
          </search>
        </div>
        {state.status === "loading" && <Loading label="Loading products…" />}
        {state.status === "error" && <ErrorPanel error={state.error} onRetry={reload} title="We couldn't load the catalogue" />}
        {state.status === "success" &&
          (products.length === 0 ? (
            <p className="empty">{q || category ? "No products match. Try another search or category." : "Nothing in the shop yet. Please check back soon."}</p>
          ) : (
            <>
              <ul className="product-grid" ref={grid}>
                {products.map((product) => (
                  <ProductCard key={product.id} product={product} />
                ))}
              </ul>
              {moreState.status === "error" && <ErrorPanel error={moreState.error} onRetry={showMore} title="We couldn't load more products" />}
              {nextCursor && (
                <p className="catalog-more">
                  <button type="button" className="button button--secondary" onClick={showMore} disabled={moreState.status === "loading"} data-testid="show-more">
                    {moreState.status === "loading" ? "Loading more products…" : "Show more products"}
                  </button>
                </p>
              )}
            </>
          ))}
      </section>
    </>
  );
}
