// The header's currency picker. Switching keeps the cart: it moves to the new currency, priced from that
// currency's price list, and a polite announcement says so. Only when an item is not sold in the new
// currency does a dialog name it and ask before removing it; keeping the old currency changes nothing.
import { useEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { currencies, type Currency } from "@checkout/core/money";
import type { CartCurrencyChange, RemovedCartLine } from "@checkout/core/schemas";
import { useCart } from "../cart/cart-context.tsx";
import { currencyNames, useCurrency } from "../currency/currency-context.tsx";
import { isCurrency } from "../currency/currency-storage.ts";
import { describeError } from "../lib/errors.ts";

/** "Desk Lamp", "Everyday Tee (Black / M) and Desk Lamp": a product with one variant goes by its own name. */
function nameItems(lines: readonly Pick<RemovedCartLine, "productName" | "variantName">[]): string {
  const names = lines.map((line) => (line.variantName === "Default" ? line.productName : `${line.productName} (${line.variantName})`));
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/** The lines CURRENCY_MISMATCH named, as far as the details can be trusted. */
function unavailableLinesOf(details: Record<string, unknown>): RemovedCartLine[] {
  const lines = Array.isArray(details.lines) ? details.lines : [];
  return lines.flatMap((line: unknown) => {
    if (typeof line !== "object" || line === null) return [];
    const { sku, productName, variantName, quantity } = line as Record<string, unknown>;
    if (typeof sku !== "string" || typeof productName !== "string") return [];
    return [{ sku, productName, variantName: typeof variantName === "string" ? variantName : "Default", quantity: typeof quantity === "number" ? quantity : 1 }];
  });
}

/** What changed besides the prices, in words; empty when only the prices did. */
function describeLosses(change: CartCurrencyChange | null, next: Currency): string {
  if (!change) return "";
  const parts: string[] = [];
  if (change.removed.length > 0) {
    const verb = change.removed.length === 1 ? "is" : "are";
    parts.push(`${nameItems(change.removed)} ${verb} not sold in ${currencyNames[next]}, so ${change.removed.length === 1 ? "it was" : "they were"} removed from your cart.`);
  }
  if (change.removedPromoCode) parts.push(`The promo code ${change.removedPromoCode} does not work in ${currencyNames[next]}, so it was removed.`);
  return parts.join(" ");
}

interface PendingSwitch {
  currency: Currency;
  /** Lines not sold in `currency`: the dialog names them before anything is removed. */
  unavailable: RemovedCartLine[];
}

export function CurrencySelect() {
  const { currency } = useCurrency();
  const { cart, changeCurrency, announce } = useCart();
  const [switching, setSwitching] = useState<Currency | null>(null);
  const [pending, setPending] = useState<PendingSwitch | null>(null);
  const [notice, setNotice] = useState<{ kind: "info" | "error"; text: string } | null>(null);
  const select = useRef<HTMLSelectElement>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const element = dialog.current;
    if (pending && element && !element.open) element.showModal();
  }, [pending]);

  async function switchTo(next: Currency, removeUnavailable: boolean) {
    setSwitching(next);
    setNotice(null);
    try {
      const change = await changeCurrency(next, { removeUnavailable });
      const losses = describeLosses(change, next);
      announce(`Prices are now in ${next}.${losses ? ` ${losses}` : ""}`);
      if (losses) setNotice({ kind: "info", text: losses });
    } catch (switchError) {
      const info = describeError(switchError);
      const unavailable = info.code === "CURRENCY_MISMATCH" ? unavailableLinesOf(info.details) : [];
      if (unavailable.length > 0 && !removeUnavailable) {
        setPending({ currency: next, unavailable });
      } else {
        const text = `Prices are still in ${currency}: ${info.message}`;
        setNotice({ kind: "error", text });
        announce(text);
      }
    } finally {
      setSwitching(null);
    }
  }

  function onChange(value: string) {
    if (!isCurrency(value) || value === currency || switching) return;
    void switchTo(value, false);
  }

  function close() {
    dialog.current?.close();
  }

  function removeAndSwitch() {
    if (!pending) return;
    const next = pending.currency;
    close();
    void switchTo(next, true);
  }

  const cartCurrency = cart?.currency ?? currency;
  const count = pending?.unavailable.length ?? 0;
  return (
    <div className="currency-select">
      <label htmlFor="currency-select" className="visually-hidden">
        Currency
      </label>
      {/* Never disabled while switching: a disabled control would drop the shopper's focus to the page. */}
      <select
        id="currency-select"
        ref={select}
        value={switching ?? currency}
        onChange={(event) => onChange(event.target.value)}
        aria-busy={switching !== null}
        data-testid="currency-select"
      >
        {currencies.map((code) => (
          <option key={code} value={code}>
            {code}
          </option>
        ))}
      </select>
      {/* In the page's main landmark, not the header: the header's backdrop filter would make it the box a fixed note is placed in. */}
      {notice &&
        createPortal(
          <div className={`notice currency-select__notice ${notice.kind === "error" ? "notice--error" : "notice--warn"}`} data-testid="currency-notice">
            <p>{notice.text}</p>
            <button type="button" className="button button--link" onClick={() => setNotice(null)}>
              Dismiss
            </button>
          </div>,
          document.getElementById("main") ?? document.body,
        )}
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
              Remove {count === 1 ? "1 item" : `${count} items`} to switch to {pending.currency}?
            </h2>
            <p id="currency-dialog-text">
              {nameItems(pending.unavailable)} {count === 1 ? "is" : "are"} not sold in {currencyNames[pending.currency]}. Switching removes {count === 1 ? "it" : "them"} from your
              cart; everything else stays, priced in {currencyNames[pending.currency]}.
            </p>
            <div className="dialog__actions">
              {/* biome-ignore lint/a11y/noAutofocus: the WAI-ARIA dialog pattern focuses the least destructive action when the dialog opens */}
              <button type="button" className="button button--secondary" onClick={close} autoFocus data-testid="keep-cart-currency">
                Keep prices in {cartCurrency}
              </button>
              <button type="button" className="button button--primary" onClick={removeAndSwitch} data-testid="confirm-currency-switch">
                Remove and switch to {pending.currency}
              </button>
            </div>
          </>
        )}
      </dialog>
    </div>
  );
}
