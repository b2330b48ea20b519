// The header on every page: the shop's name, the way back to the catalogue, the currency, and the cart with its count.
import { Link } from "../router.tsx";
import { useCart } from "../cart/cart-context.tsx";
import { CurrencySelect } from "./currency-select.tsx";

export function SiteHeader() {
  const { cart, announcement } = useCart();
  const count = cart?.itemCount ?? 0;
  return (
    <header className="site-header">
      <div className="site-header__inner">
        <Link href="/" className="brand" aria-label="Northwind Supply, home">
          <svg className="brand__mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
            <circle cx="16" cy="16" r="15" fill="currentColor" />
            <path d="M6 22 L13 12 L17 17 L20 13 L26 22 Z" fill="#f6f1e7" />
          </svg>
          <span className="brand__name">Northwind Supply</span>
        </Link>
        <div className="site-header__end">
          <CurrencySelect />
          <nav aria-label="Main" className="site-nav">
            <Link href="/" className="site-nav__link">
              Shop
            </Link>
            <Link href="/cart" className="cart-link" aria-label={`Cart, ${count} ${count === 1 ? "item" : "items"}`}>
              <svg viewBox="0 0 24 24" className="cart-link__icon" aria-hidden="true" focusable="false">
                <path
                  d="M3 4h2l2.2 10.2a1.5 1.5 0 0 0 1.5 1.2h8.6a1.5 1.5 0 0 0 1.5-1.1L20.5 8H6.2"
                  fill="none"
                  stroke="currentColor"
                  strokeWidth="1.8"
                  strokeLinecap="round"
                  strokeLinejoin="round"
                />
                <circle cx="9.5" cy="19.5" r="1.4" fill="currentColor" />
                <circle cx="17" cy="19.5" r="1.4" fill="currentColor" />
              </svg>
              <span className="cart-link__label">Cart</span>
              <span className="cart-count" data-testid="cart-count" aria-hidden="true">
                {count}
              </span>
            </Link>
          </nav>
        </div>
      </div>
      <p className="visually-hidden" aria-live="polite" role="status">
        {announcement}
      </p>
    </header>
  );
}
