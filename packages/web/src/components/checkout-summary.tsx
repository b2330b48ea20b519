// The order summary beside the checkout: what is in the cart and the totals as they stand. On a phone it is a bar held
// at the top of the screen ("Show order summary · $42.50") that opens into the full summary; on a desktop a side column
// that stays in view.
import { useState } from "react";
import type { Cart, Quote } from "@checkout/core/schemas";
import { Link } from "../router.tsx";
import { Money } from "./money.tsx";
import { ProductImage } from "./product-image.tsx";
import { TotalsList } from "./order-lines.tsx";

interface CheckoutSummaryProps {
  cart: Cart;
  /** The latest totals; may be a moment out of date while `isUpdating`. */
  quote: Quote | null;
  isUpdating: boolean;
  /** When shipping and tax will be known, while there are no totals yet. */
  pendingText: string;
}

export function CheckoutSummary({ cart, quote, isUpdating, pendingText }: CheckoutSummaryProps) {
  const [isOpen, setIsOpen] = useState(false);
  const total = quote ? quote.total : cart.subtotal;
  return (
    <section className={`checkout-summary ${isOpen ? "" : "checkout-summary--collapsed"}`.trim()} aria-labelledby="checkout-summary-heading" data-testid="checkout-summary">
      <button
        type="button"
        className="summary-toggle"
        aria-expanded={isOpen}
        aria-controls="checkout-summary-body"
        onClick={() => setIsOpen((open) => !open)}
        data-testid="summary-toggle"
      >
        <span className="summary-toggle__label">
          <svg viewBox="0 0 24 24" className="summary-toggle__chevron" aria-hidden="true" focusable="false">
            <path d="M6 9l6 6 6-6" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          {isOpen ? "Hide order summary" : "Show order summary"}
        </span>
        <span className="summary-toggle__total" data-testid="summary-bar-total" aria-busy={isUpdating}>
          <span className="visually-hidden">{quote ? ", total " : ", subtotal "}</span>
          <Money amount={total} currency={cart.currency} />
        </span>
      </button>
      <div className="summary-card checkout-summary__body" id="checkout-summary-body">
        <div className="summary-card__header">
          <h2 id="checkout-summary-heading">Order summary</h2>
          <Link href="/cart" className="small">
            Edit cart
          </Link>
        </div>
        <ul className="summary-lines">
          {cart.lines.map((line) => (
            <li key={line.id} className="summary-lines__row">
              <span className="summary-lines__thumb">
                <ProductImage src={line.image} alt="" />
                <span className="summary-lines__qty">
                  <span className="visually-hidden">Quantity </span>
                  {line.quantity}
                </span>
              </span>
              <span className="summary-lines__name">
                {line.productName}
                {line.variantName !== "Default" && <span className="muted small"> {line.variantName}</span>}
              </span>
              <Money amount={line.lineTotal} currency={cart.currency} />
            </li>
          ))}
        </ul>
        {quote ? (
          <div className={isUpdating ? "review__totals--updating" : ""} aria-busy={isUpdating}>
            <TotalsList totals={quote} testIdPrefix="summary" />
          </div>
        ) : (
          <>
            <dl className="totals">
              <div className="totals__row">
                <dt>Subtotal</dt>
                <dd>
                  <Money amount={cart.subtotal} currency={cart.currency} testId="summary-subtotal" />
                </dd>
              </div>
              {cart.promoCode && (
                <div className="totals__row">
                  <dt>Promo code</dt>
                  <dd data-testid="summary-promo">{cart.promoCode}</dd>
                </div>
              )}
            </dl>
            <p className="muted small" data-testid="summary-pending">
              {pendingText}
            </p>
          </>
        )}
      </div>
    </section>
  );
}
