// The end of the one-page checkout: the priced totals as they stand (updated as the cart, address and shipping change),
// any notice about them, the one primary button, and the shop's returns and contact details beside it.
import { useEffect, useRef, type ReactNode } from "react";
import type { Quote } from "@checkout/core/schemas";
import type { PlacementError, PriceChange } from "../checkout/use-place-order.ts";
import { formatMoney } from "../lib/money.ts";
import { formatTime } from "../lib/format.ts";
import { TotalsList } from "./order-lines.tsx";

interface OrderReviewProps {
  /** The latest totals; may be a moment out of date while `isUpdating`. */
  quote: Quote | null;
  isUpdating: boolean;
  /** Why there are no totals yet (nothing priced, or the pricing failed). */
  pendingText: string;
  quoteError: string | null;
  /** The totals on show are the ones the button pays. */
  canPayTotal: boolean;
  isBusy: boolean;
  /** The card issuer's challenge is showing: the order is placed, its payment not yet confirmed. */
  isAuthenticating: boolean;
  error: PlacementError | null;
  priceChange: PriceChange | null;
  /** A warning shown just above the button (a promo code typed but not applied, a total that changed). */
  notice: ReactNode;
  onPay: () => void;
}

/** Takes the shopper back to the card frame to type another card. */
function focusCardField() {
  const frame = document.querySelector<HTMLIFrameElement>("[data-testid=card-frame]");
  frame?.scrollIntoView({ block: "center", behavior: "smooth" });
  frame?.focus();
}

export function OrderReview({ quote, isUpdating, pendingText, quoteError, canPayTotal, isBusy, isAuthenticating, error, priceChange, notice, onPay }: OrderReviewProps) {
  const errorNotice = useRef<HTMLDivElement>(null);
  // When what had focus went away (the card issuer's frame closing), keyboard users land on the error.
  useEffect(() => {
    if (error && (document.activeElement === document.body || document.activeElement === null)) errorNotice.current?.focus();
  }, [error]);
  const label = isBusy ? "Placing your order…" : canPayTotal && quote ? `Pay ${formatMoney(quote.total, quote.currency)}` : "Place order";
  return (
    <div className="review">
      {quote ? (
        <div className={`review__totals ${isUpdating ? "review__totals--updating" : ""}`.trim()} data-testid="order-review" aria-busy={isUpdating}>
          <TotalsList totals={quote} testIdPrefix="review" shippingLabel={`Shipping (${quote.shippingOption.name})`} />
          <p className="muted small" aria-live="polite">
            {isUpdating ? "Updating the total…" : `Prices held until ${formatTime(quote.expiresAt)}.`}
          </p>
        </div>
      ) : (
        <p className="muted small" data-testid="review-pending">
          {pendingText}
        </p>
      )}
      {quoteError && (
        <p className="notice notice--error" role="alert" data-testid="quote-error">
          {quoteError}
        </p>
      )}
      {priceChange && (
        <div className="notice notice--warn" role="alert" data-testid="price-changed">
          <p className="notice__title">Your total has changed</p>
          <p>
            It was {formatMoney(priceChange.was, priceChange.currency)} and is now {formatMoney(priceChange.now, priceChange.currency)}. Check the summary, then pay to accept the
            new total.
          </p>
        </div>
      )}
      {notice}
      {error && (
        <div className="notice notice--error" data-testid="payment-error" role="alert" tabIndex={-1} ref={errorNotice}>
          <p className="notice__title">{error.isRetry ? "Your order is not confirmed yet" : "Your order was not placed"}</p>
          <p>{error.message}</p>
          {error.isCardProblem && (
            <button type="button" className="button button--secondary button--small" onClick={focusCardField}>
              Change card details
            </button>
          )}
        </div>
      )}
      {!isAuthenticating && (
        // Never disabled, so focus stays on it while the order is placed; a second press does nothing meanwhile.
        <button
          type="button"
          className="button button--primary button--wide button--large"
          data-testid="place-order"
          onClick={onPay}
          aria-busy={isBusy}
          aria-disabled={isBusy || undefined}
        >
          {label}
        </button>
      )}
      <ul className="review__assurance small">
        <li>
          <svg viewBox="0 0 24 24" className="review__icon" aria-hidden="true" focusable="false">
            <path d="M7 11V8a5 5 0 0 1 10 0v3M6 11h12v9H6z" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
          </svg>
          Your card is charged only when you pay, through our payment provider's secure field.
        </li>
        <li>Free returns within 30 days of delivery.</li>
        <li>
          <span>
            Questions? Email <a href="mailto:help@northwind-supply.example">help@northwind-supply.example</a>.
          </span>
        </li>
      </ul>
    </div>
  );
}
