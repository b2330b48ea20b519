// The cart at "/cart": editable lines, the subtotal, and the way to checkout; or an empty state.
import type { Cart } from "@checkout/core/schemas";
import { Link } from "../router.tsx";
import { trpc } from "../trpc.ts";
import { useQuery } from "../lib/use-query.ts";
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
            <ShippingAndTax cart={cart} isShort={isShort} />
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

/**
 * Shipping and tax for a cart that already has an address and a shipping method (back from checkout): priced by the
 * server as at checkout. Otherwise the shopper learns exactly when they will see them.
 */
function ShippingAndTax({ cart, isShort }: { cart: Cart; isShort: boolean }) {
  const isComplete = Boolean(cart.email && cart.shippingAddress && cart.shippingOptionId) && !isShort;
  const key = isComplete ? JSON.stringify([cart.id, cart.subtotal, cart.itemCount, cart.shippingAddress, cart.shippingOptionId, cart.promoCode]) : null;
  const { state } = useQuery(key, () => trpc.checkout.quote.mutate({ cartId: cart.id }));
  const quote = key !== null && state.status === "success" ? state.data : null;
  if (!quote) {
    return (
      <p className="muted small" data-testid="cart-shipping-note">
        Shipping and tax are shown at checkout as soon as you enter your address, before you pay. You can add a promo code there too.
      </p>
    );
  }
  return (
    <>
      <dl className="totals" data-testid="cart-estimate">
        {quote.discount > 0 && (
          <div className="totals__row totals__row--discount">
            <dt>Discount</dt>
            <dd>
              <Money amount={-quote.discount} currency={quote.currency} />
            </dd>
          </div>
        )}
        <div className="totals__row">
          <dt>Shipping ({quote.shippingOption.name})</dt>
          <dd>
            <Money amount={quote.shipping} currency={quote.currency} testId="cart-shipping" />
          </dd>
        </div>
        <div className="totals__row">
          <dt>{quote.taxInclusive ? "Includes VAT" : "Tax"}</dt>
          <dd>
            <Money amount={quote.tax} currency={quote.currency} testId="cart-tax" />
          </dd>
        </div>
        <div className="totals__row totals__row--grand">
          <dt>Total</dt>
          <dd>
            <Money amount={quote.total} currency={quote.currency} testId="cart-total" />
          </dd>
        </div>
      </dl>
      <p className="muted small" data-testid="cart-shipping-note">
        For delivery to {cart.shippingAddress?.postalCode}, as at checkout.
      </p>
    </>
  );
}
