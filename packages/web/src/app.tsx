// The app shell: header, the page for the current path (each page its own chunk), footer; and focus moved to each new
// page's heading.
import { Component, Suspense, useEffect, useRef, type ReactNode } from "react";
import { matchPath, useRouter } from "./router.tsx";
import { PagePlaceholder } from "./components/page-placeholder.tsx";
import { ErrorPanel } from "./components/status-panels.tsx";
import { SiteFooter } from "./components/site-footer.tsx";
import { SiteHeader } from "./components/site-header.tsx";
import { NotFoundPage } from "./pages/not-found-page.tsx";
import { pageOf, prefetchWhenIdle, usePageModule, type PageName } from "./routes.tsx";

/** The id in `#<id>`, or null. */
function fragmentId(hash: string): string | null {
  try {
    return hash ? decodeURIComponent(hash) : null;
  } catch {
    return null;
  }
}

/** A page whose chunk could not be fetched (offline, or a deploy replaced it): say so and offer to load it again. */
class PageErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override render() {
    if (this.state.error === null) return this.props.children;
    return <ErrorPanel error={this.state.error} title="We couldn't load this page" onRetry={() => window.location.reload()} />;
  }
}

function Catalog() {
  const { CatalogPage } = usePageModule("catalog");
  return <CatalogPage />;
}

function Product({ productId }: { productId: string }) {
  const { ProductPage } = usePageModule("product");
  return <ProductPage productId={productId} />;
}

function Cart() {
  const { CartPage } = usePageModule("cart");
  return <CartPage />;
}

function Checkout() {
  const { CheckoutPage } = usePageModule("checkout");
  return <CheckoutPage />;
}

function Order({ orderId }: { orderId: string }) {
  const { OrderPage } = usePageModule("order");
  return <OrderPage orderId={orderId} />;
}

function CurrentPage({ pathname, hash }: { pathname: string; hash: string }) {
  if (matchPath("/", pathname)) return <Catalog />;
  const product = matchPath("/products/:id", pathname);
  if (product?.id) return <Product key={product.id} productId={product.id} />;
  if (matchPath("/cart", pathname)) return <Cart />;
  if (matchPath("/checkout", pathname)) return <Checkout />;
  // The order id is a capability: it lives in the fragment (/orders#<id>), which never reaches a server or CDN log.
  const orderId = matchPath("/orders", pathname) ? fragmentId(hash) : null;
  if (orderId) return <Order key={orderId} orderId={orderId} />;
  // Links from before the id moved to the fragment.
  const legacy = matchPath("/orders/:orderId", pathname);
  if (legacy?.orderId) return <Order key={legacy.orderId} orderId={legacy.orderId} />;
  return <NotFoundPage />;
}

/** Where a shopper usually goes from each page: its chunk is fetched once the current page is idle. */
const likelyNext: Partial<Record<PageName, readonly PageName[]>> = {
  product: ["cart"],
  cart: ["checkout"],
};

function usePrefetchLikelyNext(pathname: string) {
  const page = pageOf(pathname);
  useEffect(() => {
    const next = page ? likelyNext[page] : undefined;
    return next ? prefetchWhenIdle(next) : undefined;
  }, [page]);
}

/** After an in-app navigation, screen-reader and keyboard users land on the new page's heading. */
function useFocusOnNavigate(pathname: string) {
  const focusedPath = useRef(pathname);
  useEffect(() => {
    if (focusedPath.current === pathname) return;
    focusedPath.current = pathname;
    const frame = window.requestAnimationFrame(() => {
      const target = document.getElementById("page-title") ?? document.getElementById("main");
      target?.focus({ preventScroll: true });
    });
    return () => window.cancelAnimationFrame(frame);
  }, [pathname]);
}

/** `isShell` renders the frame every route starts from (the build's prerendered shell), with no page in it. */
export function App({ isShell = false }: { isShell?: boolean }) {
  const { location } = useRouter();
  useFocusOnNavigate(location.pathname);
  usePrefetchLikelyNext(location.pathname);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <SiteHeader />
      <main id="main" className="site-main" tabIndex={-1}>
        {isShell ? (
          <PagePlaceholder />
        ) : (
          <PageErrorBoundary key={location.pathname}>
            <Suspense fallback={<PagePlaceholder />}>
              <CurrentPage pathname={location.pathname} hash={location.hash} />
            </Suspense>
          </PageErrorBoundary>
        )}
      </main>
      <SiteFooter />
    </>
  );
}
