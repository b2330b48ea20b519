// The side summary during checkout: what is in the cart and, once reviewed, the full totals.
import type { Cart, Quote } from "@checkout/core/schemas";
import { Link } from "../router.tsx";
import { Money } from "./money.tsx";
import { ProductImage } from "./product-image.tsx";
import { TotalsList } from "./order-lines.tsx";

export function CheckoutSummary({ cart, quote }: { cart: Cart; quote: Quote | null }) {
  return (
    <aside className="summary-card checkout-summary" aria-labelledby="checkout-summary-heading">
      <div className="summary-card__header">
        <h2 id="checkout-summary-heading">In your cart</h2>
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
        <TotalsList totals={quote} testIdPrefix="summary" />
      ) : (
        <>
          <dl className="totals">
            <div className="totals__row">
              <dt>Subtotal</dt>
              <dd>
                <Money amount={cart.subtotal} currency={cart.currency} />
              </dd>
            </div>
            {cart.promoCode && (
              <div className="totals__row">
                <dt>Promo code</dt>
                <dd data-testid="summary-promo">{cart.promoCode}</dd>
              </div>
            )}
          </dl>
          <p className="muted small">
            {cart.promoCode ? "Your discount, shipping and tax are worked out when you review your order." : "Shipping and tax are worked out when you review your order."}
          </p>
        </>
      )}
    </aside>
  );
}
