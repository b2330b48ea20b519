// The header on every page: the shop's name, the way back to the catalogue, the currency, and the cart with its count.
// During checkout only what helps there: the logo leads back to the cart, and a note says the checkout is secure.
import { Link, useRouter } from "../router.tsx";
import { useCart } from "../cart/cart-context.tsx";
import { CurrencySelect } from "./currency-select.tsx";

function BrandMark() {
  return (
    <svg className="brand__mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <circle cx="16" cy="16" r="15" fill="currentColor" />
      <path d="M6 22 L13 12 L17 17 L20 13 L26 22 Z" fill="#f6f1e7" />
    </svg>
  );
}

function CheckoutHeader({ count, announcement }: { count: number; announcement: string }) {
  return (
    <header className="site-header site-header--checkout">
      <div className="site-header__inner">
        {/* Named by what it shows ("Northwind Supply 2") and then words, so speech and sight agree. */}
        <Link href="/cart" className="brand" data-testid="checkout-brand">
          <BrandMark />
          <span className="brand__name">Northwind Supply</span>{" "}
          <span className="cart-count cart-count--brand" data-testid="cart-count">
            {count}
          </span>
          <span className="visually-hidden"> {count === 1 ? "item" : "items"}, back to your cart</span>
        </Link>
        <div className="site-header__end">
          <p className="secure-note" data-testid="secure-note">
            <svg viewBox="0 0 24 24" className="secure-note__icon" aria-hidden="true" focusable="false">
              <path d="M7 11V8a5 5 0 0 1 10 0v3M6 11h12v9H6z" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
            </svg>
            Secure checkout
          </p>
          {/* Prices can still change currency here: the cart moves with them and nothing typed is lost. */}
          <CurrencySelect />
        </div>
      </div>
      <p className="visually-hidden" aria-live="polite" role="status">
        {announcement}
      </p>
    </header>
  );
}

export function SiteHeader() {
  const { cart, announcement } = useCart();
  const { location } = useRouter();
  const count = cart?.itemCount ?? 0;
  if (location.pathname === "/checkout") return <CheckoutHeader count={count} announcement={announcement} />;
  return (
    <header className="site-header">
      <div className="site-header__inner">
        <Link href="/" className="brand" aria-label="Northwind Supply, home">
          <BrandMark />
          <span className="brand__name">Northwind Supply</span>
        </Link>
        <div className="site-header__end">
          <CurrencySelect />
          <nav aria-label="Main" className="site-nav">
            <Link href="/" className="site-nav__link">
              Shop
            </Link>
            {/* Named by what it shows ("Cart 2", or "2" on a phone) and then words, so speech and sight agree. */}
            <Link href="/cart" className="cart-link">
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
              <span className="cart-link__label">Cart</span>{" "}
              <span className="cart-count" data-testid="cart-count">
                {count}
              </span>
              <span className="visually-hidden"> {count === 1 ? "item" : "items"} in your cart</span>
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
