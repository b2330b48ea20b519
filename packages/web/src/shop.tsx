// The whole shop as one element: router, display currency, cart and the app. The browser renders it over the
// prerendered HTML; the build renders it to HTML (scripts/prerender.ts) with a given location.
import { App } from "./app.tsx";
import { CartProvider } from "./cart/cart-context.tsx";
import { CurrencyProvider } from "./currency/currency-context.tsx";
import { RouterProvider, type Location } from "./router.tsx";

export function Shop({ location, isShell = false }: { location?: Location; isShell?: boolean }) {
  return (
    <RouterProvider location={location}>
      <CurrencyProvider>
        <CartProvider>
          <App isShell={isShell} />
        </CartProvider>
      </CurrencyProvider>
    </RouterProvider>
  );
}
