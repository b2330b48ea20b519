// The promo code box at checkout: apply a code to the cart (checked with the API's own schema first),
// or remove the one applied. The discount itself is priced by the server and shown in the totals. What is typed is
// kept by the page (a reload keeps it, and paying with a code typed but not applied gets a warning).
import { useRef, useState, type FormEvent } from "react";
import { PromoCodeSchema, type Cart } from "../lib/schemas.ts";
import { trpc } from "../trpc.ts";
import { describeError } from "../lib/errors.ts";

interface PromoCodeFormProps {
  cart: Cart;
  /** Takes the cart applyPromoCode / removePromoCode returned (which invalidates any quote). */
  onChanged: (cart: Cart) => void;
  /** The code typed but not applied yet. */
  code: string;
  onCodeChange: (code: string) => void;
  disabled?: boolean;
}

function messageOf(error: unknown): string {
  const info = describeError(error);
  // A malformed code is refused by the schema before the cart is touched; say what the schema says.
  if (info.code === "BAD_INPUT" && info.issues[0]?.message) return info.issues[0].message;
  return info.message;
}

export function PromoCodeForm({ cart, onChanged, code, onCodeChange: setCode, disabled = false }: PromoCodeFormProps) {
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [isBusy, setIsBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const removeButton = useRef<HTMLButtonElement>(null);
  const isDisabled = disabled || isBusy;

  async function onApply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (isDisabled) return;
    setStatus("");
    const parsed = PromoCodeSchema.safeParse(code);
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? "Enter a promo code");
      input.current?.focus();
      return;
    }
    setIsBusy(true);
    setError(null);
    try {
      const updated = await trpc.checkout.applyPromoCode.mutate({ cartId: cart.id, code: parsed.data });
      setCode("");
      onChanged(updated);
      setStatus(`Promo code ${updated.promoCode ?? parsed.data} applied. The total includes it.`);
      window.setTimeout(() => removeButton.current?.focus(), 0);
    } catch (applyError) {
      setError(messageOf(applyError));
      window.setTimeout(() => input.current?.focus(), 0);
    } finally {
      setIsBusy(false);
    }
  }

  async function onRemove() {
    if (isDisabled) return;
    setIsBusy(true);
    setError(null);
    setStatus("");
    try {
      const updated = await trpc.checkout.removePromoCode.mutate({ cartId: cart.id });
      onChanged(updated);
      setStatus("Promo code removed. The total is updated.");
      window.setTimeout(() => input.current?.focus(), 0);
    } catch (removeError) {
      setError(messageOf(removeError));
    } finally {
      setIsBusy(false);
    }
  }

  return (
    <div className="promo">
      {cart.promoCode ? (
        <div className="promo__applied">
          <p className="promo__code">
            <span className="muted">Promo code</span> <strong data-testid="promo-applied">{cart.promoCode}</strong>
          </p>
          <button type="button" className="button button--link" ref={removeButton} onClick={() => void onRemove()} disabled={isDisabled} data-testid="remove-promo">
            {isBusy ? "Removing…" : "Remove"}
            <span className="visually-hidden"> promo code {cart.promoCode}</span>
          </button>
        </div>
      ) : (
        <form className="promo__form" onSubmit={(event) => void onApply(event)} noValidate aria-label="Promo code">
          <div className={`field ${error ? "field--invalid" : ""}`.trim()}>
            <label htmlFor="promo-code">Promo code</label>
            <div className="promo__row">
              <input
                id="promo-code"
                ref={input}
                name="promoCode"
                type="text"
                autoComplete="off"
                autoCapitalize="characters"
                spellCheck={false}
                maxLength={32}
                value={code}
                onChange={(event) => {
                  setCode(event.target.value);
                  if (error) setError(null);
                }}
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? "promo-code-error" : undefined}
                readOnly={isBusy}
                disabled={disabled}
                data-testid="promo-code"
              />
              <button type="submit" className="button button--secondary" disabled={isDisabled} data-testid="apply-promo">
                {isBusy ? "Applying…" : "Apply"}
              </button>
            </div>
          </div>
        </form>
      )}
      {error && (
        <p className="field__error" id="promo-code-error" role="alert" data-testid="promo-error">
          {error}
        </p>
      )}
      <p className="promo__status muted small" role="status" aria-live="polite">
        {status}
      </p>
    </div>
  );
}
