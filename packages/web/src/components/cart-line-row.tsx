// One cart line: picture, names, unit price, a quantity box that saves itself, and a remove button.
import { useEffect, useRef, useState } from "react";
import type { CartLine } from "@checkout/core/schemas";
import { Link } from "../router.tsx";
import { useCart } from "../cart/cart-context.tsx";
import { describeError } from "../lib/errors.ts";
import { formatMoney } from "../lib/money.ts";
import { MAX_OF_ONE_ITEM, quantityErrorMessage, quantityProblem } from "../lib/quantity-message.ts";
import { Money } from "./money.tsx";
import { ProductImage } from "./product-image.tsx";

const SAVE_DELAY_MS = 450;

export function CartLineRow({ line, currency }: { line: CartLine; currency: string }) {
  const { updateLine, removeLine, announce } = useCart();
  const [quantityText, setQuantityText] = useState(String(line.quantity));
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setIsBusy] = useState(false);
  const timer = useRef<number | undefined>(undefined);
  const inputId = `quantity-${line.id}`;
  // What the cart says this line may hold: the cap per item, the share of scarce stock and the room left in the order.
  const lineLimit = line.maxQuantity ?? MAX_OF_ONE_ITEM;
  const maxQuantity = Math.max(1, Math.min(MAX_OF_ONE_ITEM, line.available, lineLimit));

  // Follow the server's quantity unless the shopper is mid-edit.
  useEffect(() => {
    if (timer.current === undefined) setQuantityText(String(line.quantity));
  }, [line.quantity]);

  useEffect(() => () => window.clearTimeout(timer.current), []);

  async function save(text: string) {
    window.clearTimeout(timer.current);
    timer.current = undefined;
    const quantity = Number(text);
    // Lowering a quantity is always allowed, even below what the shop now has: that is how a shopper fixes it.
    const kept = Math.min(quantity, line.quantity);
    const problem = quantityProblem(text, Math.max(line.available, kept), "Enter a quantity of at least 1, or remove the item", Math.max(lineLimit, kept));
    if (problem) {
      setError(problem);
      return;
    }
    if (quantity === line.quantity) {
      setError(null);
      return;
    }
    setIsBusy(true);
    try {
      const cart = await updateLine(line.id, quantity);
      setError(null);
      announce(`${line.productName} quantity updated to ${quantity}. Subtotal ${formatMoney(cart.subtotal, cart.currency)}.`);
    } catch (updateError) {
      setError(quantityErrorMessage(describeError(updateError), quantity));
      setQuantityText(String(line.quantity));
    } finally {
      setIsBusy(false);
    }
  }

  function onChange(text: string) {
    setQuantityText(text);
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void save(text), SAVE_DELAY_MS);
  }

  async function onRemove() {
    window.clearTimeout(timer.current);
    timer.current = undefined;
    setIsBusy(true);
    try {
      await removeLine(line.id);
      announce(`${line.productName} removed from your cart.`);
    } catch (removeError) {
      setError(describeError(removeError).message);
      setIsBusy(false);
    }
  }

  return (
    <li className="cart-line" data-testid="cart-line" aria-busy={isBusy}>
      <Link href={`/products/${encodeURIComponent(line.productId)}`} className="cart-line__media" tabIndex={-1} aria-hidden="true">
        <ProductImage src={line.image} alt="" />
      </Link>
      <div className="cart-line__info">
        <h2 className="cart-line__name">
          <Link href={`/products/${encodeURIComponent(line.productId)}`}>{line.productName}</Link>
        </h2>
        {line.variantName !== "Default" && <p className="cart-line__variant muted">{line.variantName}</p>}
        <p className="cart-line__unit">
          <Money amount={line.unitPrice} currency={currency} /> <span className="muted">each</span>
        </p>
        {line.available < line.quantity && <p className="field__error">Only {line.available} left: lower the quantity to check out.</p>}
      </div>
      <div className="cart-line__controls">
        <div className="field field--inline">
          <label htmlFor={inputId}>Qty</label>
          <input
            id={inputId}
            type="number"
            inputMode="numeric"
            min={1}
            max={maxQuantity}
            step={1}
            value={quantityText}
            onChange={(event) => onChange(event.target.value)}
            onBlur={() => timer.current !== undefined && void save(quantityText)}
            onKeyDown={(event) => {
              if (event.key === "Enter") void save(quantityText);
            }}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${inputId}-error` : undefined}
            data-testid="line-quantity"
          />
        </div>
        <button type="button" className="button button--link" onClick={() => void onRemove()} disabled={isBusy} data-testid="remove-line">
          Remove<span className="visually-hidden"> {line.productName}</span>
        </button>
      </div>
      <p className="cart-line__total">
        <Money amount={line.lineTotal} currency={currency} testId="line-total" />
      </p>
      {error && (
        <p className="field__error cart-line__error" id={`${inputId}-error`} role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
