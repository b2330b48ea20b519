// The shopper's chosen display currency between visits: localStorage, tolerating browsers that refuse it.
import { currencies, type Currency } from "@checkout/core/money";

const CURRENCY_KEY = "checkout.currency";
export const DEFAULT_CURRENCY: Currency = "USD";

export function isCurrency(value: unknown): value is Currency {
  return typeof value === "string" && (currencies as readonly string[]).includes(value);
}

export function readCurrency(): Currency {
  try {
    const stored = window.localStorage.getItem(CURRENCY_KEY);
    return isCurrency(stored) ? stored : DEFAULT_CURRENCY;
  } catch {
    return DEFAULT_CURRENCY;
  }
}

export function writeCurrency(currency: Currency): void {
  try {
    window.localStorage.setItem(CURRENCY_KEY, currency);
  } catch {
    // Private mode: the choice lasts as long as the tab.
  }
}
