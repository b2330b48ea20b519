// The cart at "/cart": editable lines, the subtotal, and the way to checkout; or an empty state.
import { Link } from "../router.tsx";
import { useCart } from "../cart/cart-context.tsx";
import { useDocumentTitle } from "../lib/use-document-title.ts";
import { CartLineRow } from "../components/cart-line-row.tsx";
import { Money } from "../components/money.tsx";
import { ErrorPanel, Loading } from "../components/status-panels.tsx";

export function CartPage() {
  useDocumentTitle("Your cart");
  const { cart, status, error, reload } = useCart();
  const isEmpty = !cart || cart.lines.length === 0;
  const isShort = cart?.lines.some((line) => line.available < line.quantity) ?? false;

  return (
    <section aria-labelledby="page-title" className="cart-page">
      <h1 id="page-title" tabIndex={-1}>
        Your cart
      </h1>
      {status === "loading" && <Loading label="Loading your cart…" />}
      {status === "error" && <ErrorPanel error={error} onRetry={reload} title="We couldn't load your cart" />}
      {status === "ready" && isEmpty && (
        <div className="empty-state" data-testid="cart-empty">
          <p>Your cart is empty.</p>
          <Link href="/" className="button button--primary">
            Browse the shop
          </Link>
        </div>
      )}
      {status === "ready" && cart && !isEmpty && (
        <div className="cart-layout">
          <ul className="cart-lines" aria-label="Items in your cart">
            {cart.lines.map((line) => (
              <CartLineRow key={line.id} line={line} currency={cart.currency} />
            ))}
          </ul>
          <aside className="summary-card" aria-labelledby="summary-heading">
            <h2 id="summary-heading">Summary</h2>
            <dl className="totals">
              <div className="totals__row">
                <dt>
                  Subtotal ({cart.itemCount} {cart.itemCount === 1 ? "item" : "items"})
                </dt>
                <dd>
                  <Money amount={cart.subtotal} currency={cart.currency} testId="cart-subtotal" />
                </dd>
              </div>
            </dl>
            <p className="muted small" data-testid="cart-shipping-note">
              Shipping and tax are shown at checkout as soon as you enter your address, before you pay. You can add a promo code there too.
            </p>
            {isShort ? (
              <p className="field__error">Some items are short of stock. Lower their quantity to continue.</p>
            ) : (
              <Link href="/checkout" className="button button--primary button--wide" data-testid="go-to-checkout">
                Checkout
              </Link>
            )}
            <Link href="/" className="button button--link">
              Continue shopping
            </Link>
          </aside>
        </div>
      )}
    </section>
  );
}
