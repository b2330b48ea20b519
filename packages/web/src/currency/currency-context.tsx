// The currency prices are shown and new carts are created in, chosen in the header and remembered.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import type { Currency } from "@checkout/core/schemas";
import { readCurrency, writeCurrency } from "./currency-storage.ts";

interface CurrencyValue {
  currency: Currency;
  setCurrency: (currency: Currency) => void;
}

/** Names for sentences such as "Your cart is in US dollars". */
export const currencyNames: Record<Currency, string> = {
  USD: "US dollars",
  EUR: "euros",
};

const CurrencyContext = createContext<CurrencyValue | null>(null);

export function CurrencyProvider({ children }: { children: ReactNode }) {
  const [currency, setCurrencyState] = useState<Currency>(readCurrency);
  const setCurrency = useCallback((next: Currency) => {
    writeCurrency(next);
    setCurrencyState(next);
  }, []);
  const value = useMemo(() => ({ currency, setCurrency }), [currency, setCurrency]);
  return <CurrencyContext.Provider value={value}>{children}</CurrencyContext.Provider>;
}

export function useCurrency(): CurrencyValue {
  const value = useContext(CurrencyContext);
  if (!value) throw new Error("useCurrency must be used inside <CurrencyProvider>");
  return value;
}
