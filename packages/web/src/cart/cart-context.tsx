// The shopper's cart, shared by every page: loaded from the stored id, created lazily on the first add,
// and replaced by a fresh one when the stored cart is gone or already checked out. A cart has one
// currency: switching currency moves the cart to it (re-priced there), and on load the display currency
// follows a stored cart with items, while an empty cart in another currency is dropped.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { Cart, CartCurrencyChange, Currency } from "@checkout/core/schemas";
import { trpc } from "../trpc.ts";
import { errorCodeOf } from "../lib/errors.ts";
import { useCurrency } from "../currency/currency-context.tsx";
import { clearCartId, readCartId, writeCartId } from "./cart-storage.ts";

type CartStatus = "loading" | "ready" | "error";

interface CartValue {
  /** null until the shopper adds something (or after an order is placed). */
  cart: Cart | null;
  status: CartStatus;
  error: unknown;
  reload: () => void;
  /** Re-reads the cart in the background (prices may have moved) without a loading state. */
  refresh: () => Promise<void>;
  addLine: (sku: string, quantity: number) => Promise<Cart>;
  updateLine: (lineId: string, quantity: number) => Promise<Cart>;
  removeLine: (lineId: string) => Promise<Cart>;
  /** Takes the cart a checkout mutation returned. */
  replaceCart: (cart: Cart) => void;
  /**
   * Shows prices in `currency` and moves the cart there, re-priced from that currency's price list (null when there is
   * no cart to move). A line not sold in it fails the call with CURRENCY_MISMATCH naming it, unless `removeUnavailable`.
   */
  changeCurrency: (currency: Currency, options?: { removeUnavailable?: boolean }) => Promise<CartCurrencyChange | null>;
  /** Drops the stored cart, e.g. once it became an order. */
  forgetCart: () => void;
  /** The latest cart change in words, for the polite live region. */
  announcement: string;
  announce: (message: string) => void;
}

const CartContext = createContext<CartValue | null>(null);

/** A stored cart we can no longer use: deleted, malformed, or already checked out. */
function isStaleCartError(error: unknown): boolean {
  const code = errorCodeOf(error);
  return code === "NOT_FOUND" || code === "CART_CLOSED" || code === "BAD_INPUT";
}

export function CartProvider({ children }: { children: ReactNode }) {
  const { currency, setCurrency } = useCurrency();
  const [cart, setCart] = useState<Cart | null>(null);
  const [status, setStatus] = useState<CartStatus>(() => (readCartId() ? "loading" : "ready"));
  const [error, setError] = useState<unknown>(undefined);
  const [attempt, setAttempt] = useState(0);
  const [announcement, setAnnouncement] = useState("");
  // Cart changes run one after another so the last response is always the latest cart.
  const queue = useRef<Promise<unknown>>(Promise.resolve());

  const forgetCart = useCallback(() => {
    clearCartId();
    setCart(null);
  }, []);

  // Never mix currencies: prices follow the cart the shopper is filling; an empty cart is not worth keeping.
  useEffect(() => {
    if (!cart || cart.currency === currency) return;
    if (cart.lines.length > 0) setCurrency(cart.currency);
    else forgetCart();
  }, [cart, currency, setCurrency, forgetCart]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the retry trigger: "Try again" bumps it to load the cart again
  useEffect(() => {
    const cartId = readCartId();
    if (!cartId) {
      setStatus("ready");
      return;
    }
    let isCurrent = true;
    setStatus("loading");
    trpc.cart.get.query({ cartId }).then(
      (loaded) => {
        if (!isCurrent) return;
        if (loaded.status === "open") setCart(loaded);
        else forgetCart();
        setStatus("ready");
      },
      (loadError: unknown) => {
        if (!isCurrent) return;
        if (isStaleCartError(loadError)) {
          forgetCart();
          setStatus("ready");
        } else {
          setError(loadError);
          setStatus("error");
        }
      },
    );
    return () => {
      isCurrent = false;
    };
  }, [attempt, forgetCart]);

  const enqueue = useCallback(<T,>(task: () => Promise<T>): Promise<T> => {
    const run = queue.current.then(task, task);
    queue.current = run.catch(() => undefined);
    return run;
  }, []);

  const accept = useCallback((next: Cart): Cart => {
    setCart(next);
    setStatus("ready");
    setError(undefined);
    return next;
  }, []);

  const createCart = useCallback(async (): Promise<string> => {
    const created = await trpc.cart.create.mutate({ currency });
    writeCartId(created.id);
    accept(created);
    return created.id;
  }, [accept, currency]);

  const addLine = useCallback(
    (sku: string, quantity: number) =>
      enqueue(async () => {
        const cartId = readCartId() ?? (await createCart());
        try {
          return accept(await trpc.cart.addLine.mutate({ cartId, sku, quantity }));
        } catch (addError) {
          if (!isStaleCartError(addError) || errorCodeOf(addError) === "BAD_INPUT") throw addError;
          // The stored cart was checked out or expired: start a new one and add there.
          forgetCart();
          const freshId = await createCart();
          return accept(await trpc.cart.addLine.mutate({ cartId: freshId, sku, quantity }));
        }
      }),
    [accept, createCart, enqueue, forgetCart],
  );

  const requireCartId = useCallback((): string => {
    const cartId = readCartId();
    if (!cartId) throw new Error("Your cart is empty.");
    return cartId;
  }, []);

  const updateLine = useCallback(
    (lineId: string, quantity: number) => enqueue(async () => accept(await trpc.cart.updateLine.mutate({ cartId: requireCartId(), lineId, quantity }))),
    [accept, enqueue, requireCartId],
  );

  const removeLine = useCallback(
    (lineId: string) => enqueue(async () => accept(await trpc.cart.removeLine.mutate({ cartId: requireCartId(), lineId }))),
    [accept, enqueue, requireCartId],
  );

  const changeCurrency = useCallback(
    (next: Currency, options: { removeUnavailable?: boolean } = {}) =>
      enqueue(async (): Promise<CartCurrencyChange | null> => {
        const cartId = readCartId();
        if (!cartId) {
          setCurrency(next);
          return null;
        }
        try {
          const change = await trpc.cart.setCurrency.mutate({ cartId, currency: next, removeUnavailable: options.removeUnavailable ?? false });
          // One render for both: the cart and the prices around it change currency together.
          accept(change.cart);
          setCurrency(next);
          return change;
        } catch (changeError) {
          if (!isStaleCartError(changeError) || errorCodeOf(changeError) === "BAD_INPUT") throw changeError;
          // The stored cart was checked out or expired: nothing to move.
          forgetCart();
          setCurrency(next);
          return null;
        }
      }),
    [accept, enqueue, forgetCart, setCurrency],
  );

  const reload = useCallback(() => setAttempt((count) => count + 1), []);
  const refresh = useCallback(
    () =>
      enqueue(async () => {
        const cartId = readCartId();
        if (!cartId) return;
        const latest = await trpc.cart.get.query({ cartId });
        if (latest.status === "open") accept(latest);
      }),
    [accept, enqueue],
  );
  const announce = useCallback((message: string) => {
    // Clearing first makes screen readers repeat an identical message.
    setAnnouncement("");
    window.setTimeout(() => setAnnouncement(message), 50);
  }, []);

  const value = useMemo<CartValue>(
    () => ({ cart, status, error, reload, refresh, addLine, updateLine, removeLine, replaceCart: accept, changeCurrency, forgetCart, announcement, announce }),
    [cart, status, error, reload, refresh, addLine, updateLine, removeLine, accept, changeCurrency, forgetCart, announcement, announce],
  );
  return <CartContext.Provider value={value}>{children}</CartContext.Provider>;
}

export function useCart(): CartValue {
  const value = useContext(CartContext);
  if (!value) throw new Error("useCart must be used inside <CartProvider>");
  return value;
}
