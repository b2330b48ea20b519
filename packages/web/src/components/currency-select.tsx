// The header's currency picker. A cart has one currency, so switching with items in the cart asks
// first: start a new cart in the new currency, or keep the cart (and its currency) as it is.
import { useEffect, useRef, useState } from "react";
import { currencies, type Currency } from "@checkout/core/money";
import { useCart } from "../cart/cart-context.tsx";
import { currencyNames, useCurrency } from "../currency/currency-context.tsx";
import { isCurrency } from "../currency/currency-storage.ts";

export function CurrencySelect() {
  const { currency, setCurrency } = useCurrency();
  const { cart, forgetCart, announce } = useCart();
  const [pending, setPending] = useState<Currency | null>(null);
  const select = useRef<HTMLSelectElement>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const element = dialog.current;
    if (pending && element && !element.open) element.showModal();
  }, [pending]);

  function switchTo(next: Currency) {
    setCurrency(next);
    announce(`Prices are now shown in ${currencyNames[next]}.`);
  }

  function onChange(value: string) {
    if (!isCurrency(value) || value === currency) return;
    if (cart && cart.lines.length > 0 && cart.currency !== value) {
      setPending(value);
      return;
    }
    switchTo(value);
  }

  function close() {
    dialog.current?.close();
  }

  function startNewCart() {
    if (!pending) return;
    forgetCart();
    switchTo(pending);
    close();
  }

  const cartCurrency = cart?.currency ?? currency;
  return (
    <div className="currency-select">
      <label htmlFor="currency-select" className="visually-hidden">
        Currency
      </label>
      <select id="currency-select" ref={select} value={currency} onChange={(event) => onChange(event.target.value)} data-testid="currency-select">
        {currencies.map((code) => (
          <option key={code} value={code}>
            {code}
          </option>
        ))}
      </select>
      <dialog
        ref={dialog}
        className="dialog"
        aria-labelledby="currency-dialog-title"
        aria-describedby="currency-dialog-text"
        data-testid="currency-dialog"
        onClose={() => {
          setPending(null);
          select.current?.focus();
        }}
      >
        {pending && (
          <>
            <h2 id="currency-dialog-title" className="dialog__title">
              Start a new cart in {pending}?
            </h2>
            <p id="currency-dialog-text">
              Your cart is in {currencyNames[cartCurrency]}, and a cart can only use one currency. Switching to {currencyNames[pending]} starts a new, empty cart; the items in your
              current cart are not carried over.
            </p>
            <div className="dialog__actions">
              {/* biome-ignore lint/a11y/noAutofocus: the WAI-ARIA dialog pattern focuses the least destructive action when the dialog opens */}
              <button type="button" className="button button--secondary" onClick={close} autoFocus data-testid="keep-cart-currency">
                Keep my {cartCurrency} cart
              </button>
              <button type="button" className="button button--primary" onClick={startNewCart} data-testid="confirm-new-cart">
                Start a new cart in {pending}
              </button>
            </div>
          </>
        )}
      </dialog>
    </div>
  );
}
