// Express checkout at the top of the checkout page: one button that pays the priced total with the sandbox wallet
// through the browser's Payment Request API. Shown only when the browser says the wallet can pay. The order is placed
// exactly as with a typed card (same quote confirmation, Idempotency-Key rules, declines and 3-D Secure); a cancelled
// sheet changes nothing and gives focus back to the button.
import { useEffect, useRef, useState } from "react";
import { usePlaceOrder, type PlaceOrderOptions } from "../checkout/use-place-order.ts";
import { canPayWithWallet, walletSource } from "../checkout/wallet-payment.ts";
import { formatMoney } from "../lib/money.ts";
import { PlacementChallenge } from "./lazy-payment.tsx";

export interface ExpressCheckoutProps extends Omit<PlaceOrderOptions, "cardField" | "resumesChallenge"> {
  /** The cart's currency, for asking the browser whether the wallet can pay before there is a quote. */
  currency: string;
}

export default function ExpressCheckout({ currency, ...options }: ExpressCheckoutProps) {
  /** Null while the browser is asked: the section holds its place meanwhile, so nothing below it moves. */
  const [canPay, setCanPay] = useState<boolean | null>(null);
  const [isInWallet, setIsInWallet] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  // The page's own placement resumes an unanswered challenge after a reload; this one never does it twice.
  const placement = usePlaceOrder({ ...options, resumesChallenge: false });
  const { quote } = options;

  useEffect(() => {
    let isCurrent = true;
    void canPayWithWallet(currency).then((answer) => {
      if (isCurrent) setCanPay(answer);
    });
    return () => {
      isCurrent = false;
    };
  }, [currency]);

  if (canPay === false) return null;

  async function payWithWallet() {
    if (!quote || !canPay || placement.isPlacing) return;
    const wallet = walletSource();
    await placement.placeOrder(quote, {
      ...wallet,
      tokenize: async (confirmed) => {
        setIsInWallet(true);
        try {
          return await wallet.tokenize(confirmed);
        } finally {
          setIsInWallet(false);
        }
      },
    });
    // Still here (cancelled, declined, or waiting on the bank): focus goes back where the shopper left it.
    if (!placement.challenge) button.current?.focus();
  }

  const total = quote ? formatMoney(quote.total, quote.currency) : null;
  const error = placement.error;
  return (
    <section className="checkout-step express-checkout" aria-labelledby="express-heading" data-testid="express-checkout">
      <h2 id="express-heading" className="checkout-step__title">
        Express checkout
      </h2>
      {/* One line of text and one button in every state, so the section keeps its height as the page fills in. */}
      <p className="muted small express-checkout__hint" id="express-hint" data-testid={quote ? undefined : "express-pending"}>
        {quote ? "Pay with a card saved in the sandbox wallet." : "Fill in your address below, then pay here in one step."}
      </p>
      {!placement.challenge && (
        // Never disabled, so focus stays on it while the order is placed; a press does nothing until there is a total.
        <button
          ref={button}
          type="button"
          // A wallet's own button, not a second primary one: the card form's Pay stays the page's one primary action.
          className="button button--wallet button--wide"
          data-testid={quote && canPay ? "express-pay" : undefined}
          onClick={() => void payWithWallet()}
          aria-describedby="express-hint"
          aria-busy={placement.isPlacing}
          aria-disabled={!quote || !canPay || placement.isPlacing || undefined}
        >
          {isInWallet ? "Waiting for the wallet…" : placement.isPlacing ? "Placing your order…" : total ? `Pay ${total} with the sandbox wallet` : "Pay with the sandbox wallet"}
        </button>
      )}
      {placement.priceChange && (
        <div className="notice notice--warn" role="alert" data-testid="express-price-changed">
          <p className="notice__title">Your total has changed</p>
          <p>
            It was {formatMoney(placement.priceChange.was, placement.priceChange.currency)} and is now {formatMoney(placement.priceChange.now, placement.priceChange.currency)}.
            Check the summary, then pay to accept the new total.
          </p>
        </div>
      )}
      {error && (
        <div className="notice notice--error" role="alert" data-testid="express-error">
          <p className="notice__title">{error.isRetry ? "Your order is not confirmed yet" : "Your order was not placed"}</p>
          <p>{error.message}</p>
        </div>
      )}
      <PlacementChallenge placement={placement} />
    </section>
  );
}
