// Shipping options for the saved address as radio buttons; choosing one saves it straight away. With none chosen yet
// the cheapest is chosen for the shopper, so shipping and tax show as soon as the address is saved. While a choice is
// saved the radios stay enabled (aria-busy on the group), so keyboard focus stays on the option just chosen.
import { useEffect, useRef, useState } from "react";
import type { Cart, ShippingOptionId } from "@checkout/core/schemas";
import { trpc } from "../trpc.ts";
import { describeError } from "../lib/errors.ts";
import { useQuery } from "../lib/use-query.ts";
import { Money } from "./money.tsx";
import { ErrorPanel, Loading } from "./status-panels.tsx";

interface ShippingOptionsProps {
  cart: Cart;
  onSaved: (cart: Cart) => void;
}

export function ShippingOptions({ cart, onSaved }: ShippingOptionsProps) {
  // Rates depend on destination, weight and subtotal, so any of them changing refetches.
  const key = `shipping:${cart.id}:${JSON.stringify(cart.shippingAddress)}:${cart.subtotal}:${cart.itemCount}`;
  const { state, reload } = useQuery(key, () => trpc.checkout.listShippingOptions.query({ cartId: cart.id }));
  const [pendingId, setPendingId] = useState<ShippingOptionId | null>(null);
  const [error, setError] = useState<string | null>(null);
  const selectedId = pendingId ?? cart.shippingOptionId;

  const options = state.data;
  const hasDefaulted = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: chosen once, when the options first arrive for a cart without one
  useEffect(() => {
    if (hasDefaulted.current || cart.shippingOptionId !== null || pendingId !== null || !options || options.length === 0) return;
    hasDefaulted.current = true;
    const cheapest = options.reduce((best, option) => (option.price < best.price ? option : best));
    void choose(cheapest.id);
  }, [options, cart.shippingOptionId]);

  const latest = useRef(0);
  async function choose(optionId: ShippingOptionId) {
    const request = ++latest.current;
    setPendingId(optionId);
    setError(null);
    try {
      const updated = await trpc.checkout.setShippingOption.mutate({ cartId: cart.id, optionId });
      // A quicker second choice wins: only the last request's cart is taken.
      if (request === latest.current) onSaved(updated);
    } catch (saveError) {
      if (request === latest.current) setError(describeError(saveError).message);
    } finally {
      if (request === latest.current) setPendingId(null);
    }
  }

  if (state.status === "loading" && !state.data) return <Loading label="Finding shipping options…" />;
  if (state.status === "error" && !state.data) return <ErrorPanel error={state.error} onRetry={reload} title="We couldn't load shipping options" />;

  return (
    <fieldset className="shipping-options" aria-busy={pendingId !== null}>
      <legend className="visually-hidden">Shipping method</legend>
      {(options ?? []).map((option) => (
        <label key={option.id} className={`radio-card ${selectedId === option.id ? "radio-card--selected" : ""}`}>
          <input type="radio" name="shippingOption" value={option.id} checked={selectedId === option.id} onChange={() => void choose(option.id)} data-testid="shipping-option" />
          <span className="radio-card__text">
            <span className="radio-card__title">{option.name}</span>
            <span className="radio-card__description muted">{option.description}</span>
          </span>
          <span className="radio-card__price">{option.price === 0 ? "Free" : <Money amount={option.price} currency={option.currency} />}</span>
        </label>
      ))}
      <p className="muted small" role="status">
        {pendingId ? "Saving your choice…" : ""}
      </p>
      {error && (
        <p className="notice notice--error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
