// The priced summary the shopper confirms: quote lines and totals, and the "Place order" button.
import { useEffect, useRef } from "react";
import type { Quote } from "@checkout/core/schemas";
import type { PlacementError, PriceChange } from "../checkout/use-place-order.ts";
import { formatMoney } from "../lib/money.ts";
import { OrderLines, TotalsList } from "./order-lines.tsx";

interface OrderReviewProps {
  quote: Quote;
  isPlacing: boolean;
  /** The card issuer's challenge is showing: the order is placed, its payment not yet confirmed. */
  isAuthenticating: boolean;
  error: PlacementError | null;
  priceChange: PriceChange | null;
  onPlaceOrder: () => void;
}

/** Takes the shopper back to the card frame to type another card. */
function focusCardField() {
  const frame = document.querySelector<HTMLIFrameElement>("[data-testid=card-frame]");
  frame?.scrollIntoView({ block: "center", behavior: "smooth" });
  frame?.focus();
}

function timeOf(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

export function OrderReview({ quote, isPlacing, isAuthenticating, error, priceChange, onPlaceOrder }: OrderReviewProps) {
  const errorNotice = useRef<HTMLDivElement>(null);
  // When what had focus went away (the card issuer's frame closing), keyboard users land on the error.
  useEffect(() => {
    if (error && (document.activeElement === document.body || document.activeElement === null)) errorNotice.current?.focus();
  }, [error]);
  return (
    <div className="review" data-testid="order-review">
      <OrderLines lines={quote.lines} currency={quote.currency} />
      <TotalsList totals={quote} testIdPrefix="review" shippingLabel={`Shipping (${quote.shippingOption.name})`} />
      <p className="muted small">Prices held until {timeOf(quote.expiresAt)}.</p>
      {priceChange && (
        <div className="notice notice--warn" role="alert" data-testid="price-changed">
          <p className="notice__title">Your total has changed</p>
          <p>
            It was {formatMoney(priceChange.was, priceChange.currency)} and is now {formatMoney(priceChange.now, priceChange.currency)}. Check the summary above, then place your
            order to accept the new total.
          </p>
        </div>
      )}
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
        <button
          type="button"
          className="button button--primary button--wide button--large"
          data-testid="place-order"
          onClick={onPlaceOrder}
          disabled={isPlacing}
          aria-busy={isPlacing}
        >
          {isPlacing ? "Placing order…" : `Place order · ${formatMoney(quote.total, quote.currency)}`}
        </button>
      )}
    </div>
  );
}
