// Every page is its own chunk, loaded when its route is first shown; what the shopper is likely to open next is
// fetched ahead (on a link's hover, focus or touch, or once the current page is idle), so navigating rarely waits.
import { use } from "react";
import { matchPath } from "./lib/match-path.ts";

/** The chunk loaders. Vite turns each into a separate file and preloads that file's own imports with it. */
const loaders = {
  catalog: () => import("./pages/catalog-page.tsx"),
  product: () => import("./pages/product-page.tsx"),
  cart: () => import("./pages/cart-page.tsx"),
  checkout: () => import("./pages/checkout-page.tsx"),
  order: () => import("./pages/order-page.tsx"),
} as const;

export type PageName = keyof typeof loaders;
type PageModule<P extends PageName> = Awaited<ReturnType<(typeof loaders)[P]>>;

const loading = new Map<PageName, Promise<unknown>>();
const loaded = new Map<PageName, unknown>();

/** Loads a page's chunk once; the same promise for every caller, so React's use() can wait on it. */
export function loadPage<P extends PageName>(page: P): Promise<PageModule<P>> {
  let promise = loading.get(page) as Promise<PageModule<P>> | undefined;
  if (!promise) {
    promise = loaders[page]().then(
      (module) => {
        loaded.set(page, module);
        return module as PageModule<P>;
      },
      (error: unknown) => {
        // Forgotten, so that showing the page again tries the network again.
        loading.delete(page);
        throw error;
      },
    );
    loading.set(page, promise);
  }
  return promise;
}

/**
 * A page's module for rendering: at once when its chunk is in (the first page is loaded before the app renders, so
 * the prerendered HTML is replaced by the same page, never by a placeholder); otherwise it suspends until it is.
 */
export function usePageModule<P extends PageName>(page: P): PageModule<P> {
  return (loaded.get(page) as PageModule<P> | undefined) ?? use(loadPage(page));
}

/** The page an in-app path shows, or null (another origin's path, a file, or no page). */
export function pageOf(pathname: string): PageName | null {
  if (matchPath("/", pathname)) return "catalog";
  if (matchPath("/products/:id", pathname)) return "product";
  if (matchPath("/cart", pathname)) return "cart";
  if (matchPath("/checkout", pathname)) return "checkout";
  if (matchPath("/orders", pathname) || matchPath("/orders/:orderId", pathname)) return "order";
  return null;
}

/** Starts loading a page's chunk without showing it; a failure is reported when the page is shown, not here. */
export function prefetchPage(page: PageName): void {
  loadPage(page).catch(() => undefined);
}

/** Prefetches the page behind an href of this origin; anything else is left alone. */
export function prefetchHref(href: string): void {
  if (typeof window === "undefined") return;
  let url: URL;
  try {
    url = new URL(href, window.location.href);
  } catch {
    return;
  }
  if (url.origin !== window.location.origin) return;
  const page = pageOf(url.pathname);
  if (page) prefetchPage(page);
}

/** Prefetches pages once the browser is idle (after the current page's own work), never competing with it. */
export function prefetchWhenIdle(pages: readonly PageName[]): () => void {
  if (typeof window === "undefined") return () => {};
  const run = () => {
    for (const page of pages) prefetchPage(page);
  };
  if ("requestIdleCallback" in window) {
    const handle = window.requestIdleCallback(run, { timeout: 5_000 });
    return () => window.cancelIdleCallback(handle);
  }
  const timer = globalThis.setTimeout(run, 2_000);
  return () => globalThis.clearTimeout(timer);
}
