// The app shell: header, the page for the current path, footer; and focus moved to each new page's heading.
import { useEffect, useRef } from "react";
import { matchPath, useRouter } from "./router.tsx";
import { SiteFooter } from "./components/site-footer.tsx";
import { SiteHeader } from "./components/site-header.tsx";
import { CartPage } from "./pages/cart-page.tsx";
import { CatalogPage } from "./pages/catalog-page.tsx";
import { CheckoutPage } from "./pages/checkout-page.tsx";
import { NotFoundPage } from "./pages/not-found-page.tsx";
import { OrderPage } from "./pages/order-page.tsx";
import { ProductPage } from "./pages/product-page.tsx";

/** The id in `#<id>`, or null. */
function fragmentId(hash: string): string | null {
  try {
    return hash ? decodeURIComponent(hash) : null;
  } catch {
    return null;
  }
}

function CurrentPage({ pathname, hash }: { pathname: string; hash: string }) {
  if (matchPath("/", pathname)) return <CatalogPage />;
  const product = matchPath("/products/:id", pathname);
  if (product?.id) return <ProductPage key={product.id} productId={product.id} />;
  if (matchPath("/cart", pathname)) return <CartPage />;
  if (matchPath("/checkout", pathname)) return <CheckoutPage />;
  // The order id is a capability: it lives in the fragment (/orders#<id>), which never reaches a server or CDN log.
  const orderId = matchPath("/orders", pathname) ? fragmentId(hash) : null;
  if (orderId) return <OrderPage key={orderId} orderId={orderId} />;
  // Links from before the id moved to the fragment.
  const legacy = matchPath("/orders/:orderId", pathname);
  if (legacy?.orderId) return <OrderPage key={legacy.orderId} orderId={legacy.orderId} />;
  return <NotFoundPage />;
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

export function App() {
  const { location } = useRouter();
  useFocusOnNavigate(location.pathname);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <SiteHeader />
      <main id="main" className="site-main" tabIndex={-1}>
        <CurrentPage pathname={location.pathname} hash={location.hash} />
      </main>
      <SiteFooter />
    </>
  );
}
