// Checkout at "/checkout", on one page: contact, address, shipping and card in order, then the totals and one button to
// pay, with the order summary always in view. The address is saved as soon as it is valid and the cheapest shipping is
// chosen for it, so shipping and tax show without a click; every change to the cart prices it again. What the shopper
// typed is kept for the tab's session (never the card). A card that asks for 3-D Secure gets its challenge here.
import { useEffect, useRef, useState, type FocusEvent } from "react";
import type { Cart, Quote } from "@checkout/core/schemas";
import { trpc } from "../trpc.ts";
import { Link, useRouter } from "../router.tsx";
import { useCart } from "../cart/cart-context.tsx";
import { describeError } from "../lib/errors.ts";
import { formatMoney } from "../lib/money.ts";
import { useDocumentTitle } from "../lib/use-document-title.ts";
import { prefetchPage } from "../routes.tsx";
import { fieldNames, isSameValues, issuesToFieldErrors, validateForm, valuesFromCart, type FieldErrors, type FieldName, type FormValues } from "../checkout/address-form.ts";
import { clearCheckoutDraft, readCheckoutDraft, writeCheckoutDraft } from "../checkout/checkout-draft-storage.ts";
import { ExpressCheckout } from "../checkout/lazy-express-checkout.tsx";
import { usePlaceOrder } from "../checkout/use-place-order.ts";
import { AddressFields, ContactFields } from "../components/address-fields.tsx";
import type { CardFieldHandle } from "../components/card-field.tsx";
import { CardField, PlacementChallenge, prefetchCardField } from "../components/lazy-payment.tsx";
import { CheckoutSummary } from "../components/checkout-summary.tsx";
import { OrderReview } from "../components/order-review.tsx";
import { PromoCodeForm } from "../components/promo-code-form.tsx";
import { ShippingOptions } from "../components/shipping-options.tsx";
import { ErrorPanel, Loading } from "../components/status-panels.tsx";

/** How long typing pauses before a valid address is saved (and priced). */
const SAVE_DELAY_MS = 600;

export function CheckoutPage() {
  useDocumentTitle("Checkout");
  const { cart, status, error, reload } = useCart();
  return (
    <section aria-labelledby="page-title" className="checkout-page">
      <h1 id="page-title" tabIndex={-1} className="visually-hidden">
        Checkout
      </h1>
      {status === "loading" && <Loading label="Loading your cart…" />}
      {status === "error" && <ErrorPanel error={error} onRetry={reload} title="We couldn't load your cart" />}
      {status === "ready" && (!cart || cart.lines.length === 0) && (
        <div className="empty-state">
          <p>Your cart is empty, so there is nothing to check out yet.</p>
          <Link href="/" className="button button--primary">
            Browse the shop
          </Link>
        </div>
      )}
      {status === "ready" && cart && cart.lines.length > 0 && <CheckoutFlow key={cart.id} cart={cart} />}
    </section>
  );
}

function focusField(name: FieldName) {
  const element = document.getElementById(name);
  element?.focus();
  element?.scrollIntoView({ block: "center", behavior: "smooth" });
}

/** Everything the price depends on: a quote is current only for the cart it was made for. */
function pricingKey(cart: Cart): string {
  return JSON.stringify([
    cart.currency,
    cart.email,
    cart.shippingAddress,
    cart.shippingOptionId,
    cart.promoCode,
    cart.subtotal,
    cart.lines.map((line) => [line.sku, line.quantity]),
  ]);
}

function canBePriced(cart: Cart): boolean {
  return Boolean(cart.email && cart.shippingAddress && cart.shippingOptionId && cart.lines.length > 0);
}

function CheckoutFlow({ cart }: { cart: Cart }) {
  const { replaceCart, forgetCart, refresh } = useCart();
  const { navigate } = useRouter();
  const [draft] = useState(() => readCheckoutDraft(cart.id));
  const [values, setValues] = useState<FormValues>(() => draft?.values ?? valuesFromCart(cart));
  const [savedValues, setSavedValues] = useState<FormValues | null>(() => (cart.email && cart.shippingAddress ? valuesFromCart(cart) : null));
  const [promoDraft, setPromoDraft] = useState(() => draft?.promoCode ?? "");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [isSaving, setIsSaving] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [priced, setPriced] = useState<{ key: string; quote: Quote } | null>(null);
  const [quoteError, setQuoteError] = useState<{ key: string; message: string } | null>(null);
  const [isPreparing, setIsPreparing] = useState(false);
  const [payNotice, setPayNotice] = useState<{ kind: "promo" | "total"; text: string } | null>(null);
  const promoWarnedFor = useRef<string | null>(null);
  const cardField = useRef<CardFieldHandle>(null);
  const saveRequest = useRef(0);
  // The card field's chunk comes once the shopper starts on the form (or already has an address): a visit that only
  // looks at the page fetches none of it.
  const [wantsCard, setWantsCard] = useState(() => Boolean(cart.email && cart.shippingAddress) || draft !== null);
  function startCard() {
    if (wantsCard) return;
    prefetchCardField();
    setWantsCard(true);
  }

  const key = pricingKey(cart);
  const keyRef = useRef(key);
  keyRef.current = key;
  const currentQuote = priced?.key === key ? priced.quote : null;
  const hasSavedAddress = Boolean(cart.email && cart.shippingAddress);
  const isDirty = savedValues === null || !isSameValues(values, savedValues);
  const isPriceable = canBePriced(cart);
  const isUpdating = isPriceable && currentQuote === null && quoteError?.key !== key;

  useEffect(() => {
    if (currentQuote) prefetchPage("order");
  }, [currentQuote]);

  // What was typed survives a reload (per cart, for this tab only).
  useEffect(() => {
    writeCheckoutDraft(cart.id, { values, promoCode: promoDraft });
  }, [cart.id, values, promoDraft]);

  const placeOptions = {
    cartId: cart.id,
    quote: currentQuote,
    setQuote: (quote: Quote) => setPriced({ key: keyRef.current, quote }),
    onPlaced: (orderId: string) => {
      clearCheckoutDraft(cart.id);
      navigate(`/orders#${encodeURIComponent(orderId)}`);
      forgetCart();
    },
    onRepriced: () => void refresh().catch(() => undefined),
  };
  const placement = usePlaceOrder({ ...placeOptions, cardField });
  const isAuthenticating = placement.challenge !== null;
  const isBusy = isPreparing || placement.isPlacing;

  function acceptCart(next: Cart) {
    replaceCart(next);
    placement.reset();
  }

  // Prices the cart whenever something the price depends on changed: shipping and tax show without a click.
  useEffect(() => {
    if (!isPriceable || priced?.key === key) return;
    let isCurrent = true;
    setQuoteError(null);
    trpc.checkout.quote.mutate({ cartId: cart.id }).then(
      (quote) => {
        if (isCurrent) setPriced({ key, quote });
      },
      (error: unknown) => {
        if (isCurrent) setQuoteError({ key, message: describeError(error).message });
      },
    );
    return () => {
      isCurrent = false;
    };
  }, [key, isPriceable, cart.id, priced?.key]);

  async function saveAddress(submitted: FormValues): Promise<Cart | null> {
    const result = validateForm(submitted);
    if (!result.ok) return null;
    const request = ++saveRequest.current;
    setIsSaving(true);
    setFormError(null);
    try {
      await trpc.checkout.setContact.mutate({ cartId: cart.id, email: result.email });
      const updated = await trpc.checkout.setShippingAddress.mutate({ cartId: cart.id, address: result.address });
      if (request === saveRequest.current) {
        acceptCart(updated);
        setSavedValues(submitted);
      }
      return updated;
    } catch (saveError) {
      const info = describeError(saveError);
      const fieldErrors = issuesToFieldErrors(info.issues);
      if (Object.keys(fieldErrors).length > 0) setErrors((current) => ({ ...current, ...fieldErrors }));
      else setFormError(info.message);
      return null;
    } finally {
      if (request === saveRequest.current) setIsSaving(false);
    }
  }

  // A valid address is saved once typing pauses; nothing moves focus, nothing is disabled while it saves.
  // biome-ignore lint/correctness/useExhaustiveDependencies: saved when the values settle; saveAddress reads the latest state
  useEffect(() => {
    if (!isDirty || isPreparing || !validateForm(values).ok) return;
    const timer = window.setTimeout(() => void saveAddress(values), SAVE_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [values, isDirty, isPreparing]);

  function onChange(name: FieldName, value: string) {
    setValues((current) => {
      const next = { ...current, [name]: value };
      // A US state makes no sense abroad and vice versa.
      if (name === "country" && (current.country === "US") !== (value === "US")) next.region = "";
      return next;
    });
    if (errors[name]) setErrors((current) => ({ ...current, [name]: undefined }));
  }

  /** Leaving a field that holds something says at once what is wrong with it (empty fields wait for the button). */
  function onFieldBlur(event: FocusEvent<HTMLFormElement>) {
    const name = (event.target as unknown as HTMLInputElement).name as FieldName;
    if (!(fieldNames as readonly string[]).includes(name) || values[name].trim() === "") return;
    const result = validateForm(values);
    const message = result.ok ? undefined : result.errors[name];
    setErrors((current) => (current[name] === message ? current : { ...current, [name]: message }));
  }

  async function onPay() {
    if (isBusy || isAuthenticating) return;
    setPayNotice(null);
    placement.reset();
    const result = validateForm(values);
    if (!result.ok) {
      setErrors(result.errors);
      const first = fieldNames.find((name) => result.errors[name]);
      if (first) focusField(first);
      return;
    }
    // A card the field already knows is incomplete or wrong is fixed there, before anything is charged or saved.
    const card = cardField.current;
    if (card && !card.validate()) {
      setPayNotice({ kind: "total", text: "Check your card details: the card field says what to fix." });
      card.focus();
      return;
    }
    const typedCode = promoDraft.trim();
    if (typedCode && !cart.promoCode && promoWarnedFor.current !== typedCode) {
      promoWarnedFor.current = typedCode;
      setPayNotice({
        kind: "promo",
        text: `You typed the promo code ${typedCode} but did not apply it. Apply it first, or pay again to continue without it.`,
      });
      return;
    }
    // The total on the button is what the shopper agreed to: anything else is shown before paying.
    const shownTotal = currentQuote?.total ?? null;
    setIsPreparing(true);
    try {
      let latest = cart;
      if (isDirty) {
        const saved = await saveAddress(values);
        if (!saved) return;
        latest = saved;
      }
      if (!latest.shippingOptionId) {
        setPayNotice({ kind: "total", text: "Choose a shipping method first." });
        document.querySelector<HTMLInputElement>("[data-testid=shipping-option]")?.focus();
        return;
      }
      let quote = currentQuote && pricingKey(latest) === key ? currentQuote : null;
      if (!quote) {
        quote = await trpc.checkout.quote.mutate({ cartId: cart.id });
        setPriced({ key: pricingKey(latest), quote });
        if (quote.total !== shownTotal) {
          setPayNotice({ kind: "total", text: `Your total is ${formatMoney(quote.total, quote.currency)}. Check it, then pay.` });
          return;
        }
      }
      await placement.placeOrder(quote);
    } catch (payError) {
      setPayNotice({ kind: "total", text: describeError(payError).message });
    } finally {
      setIsPreparing(false);
    }
  }

  const pendingText = isPriceable
    ? "Working out shipping and tax…"
    : hasSavedAddress
      ? "Shipping and tax show as soon as a shipping method is chosen."
      : "Shipping and tax show as soon as your address is complete.";
  const shownQuote = currentQuote ?? (isUpdating ? (priced?.quote ?? null) : null);

  return (
    <div className="checkout-layout">
      <CheckoutSummary cart={cart} quote={shownQuote} isUpdating={isUpdating} pendingText={pendingText} />
      <div className="checkout-steps">
        <ExpressCheckout {...placeOptions} currency={cart.currency} />
        <form
          className="checkout-step"
          onSubmit={(event) => event.preventDefault()}
          onBlur={onFieldBlur}
          onFocus={startCard}
          noValidate
          aria-labelledby="contact-heading"
          data-testid="address-form"
        >
          <h2 id="contact-heading" className="checkout-step__title">
            Contact
          </h2>
          <ContactFields values={values} errors={errors} disabled={false} onChange={onChange} />
          <h2 className="checkout-step__title checkout-step__title--sub">Shipping address</h2>
          <AddressFields values={values} errors={errors} disabled={false} onChange={onChange} />
          <p className="muted small checkout-step__status" role="status" data-testid="address-status">
            {isSaving ? "Saving your address…" : hasSavedAddress && !isDirty ? "✓ Address saved" : ""}
          </p>
          {formError && (
            <p className="notice notice--error" role="alert">
              {formError}
            </p>
          )}
        </form>

        <section className="checkout-step" aria-labelledby="shipping-heading">
          <h2 id="shipping-heading" className="checkout-step__title" tabIndex={-1}>
            Shipping method
          </h2>
          {hasSavedAddress ? (
            <ShippingOptions cart={cart} onSaved={acceptCart} />
          ) : (
            <p className="muted" data-testid="shipping-pending">
              Shipping methods and their prices show here as soon as your address is complete.
            </p>
          )}
        </section>

        <section className="checkout-step" aria-labelledby="payment-heading">
          <h2 id="payment-heading" className="checkout-step__title">
            Payment
          </h2>
          {wantsCard ? (
            <CardField ref={cardField} />
          ) : (
            // As tall as the field, so nothing moves when it arrives.
            <div className="card-field card-field--pending" data-testid="card-placeholder">
              <p className="muted">The secure card field appears as you fill in your details.</p>
            </div>
          )}
        </section>

        <section className="checkout-step" aria-labelledby="review-heading">
          <h2 id="review-heading" className="checkout-step__title">
            Promo code and total
          </h2>
          <PromoCodeForm cart={cart} onChanged={acceptCart} code={promoDraft} onCodeChange={setPromoDraft} disabled={isBusy || isAuthenticating} />
          <OrderReview
            quote={shownQuote}
            isUpdating={isUpdating}
            pendingText={pendingText}
            quoteError={quoteError?.key === key ? quoteError.message : null}
            canPayTotal={currentQuote !== null}
            isBusy={isBusy}
            isAuthenticating={isAuthenticating}
            error={placement.error}
            priceChange={placement.priceChange}
            notice={
              payNotice && (
                <div className="notice notice--warn" role="alert" data-testid={payNotice.kind === "promo" ? "promo-warning" : "pay-notice"}>
                  <p>{payNotice.text}</p>
                  {payNotice.kind === "promo" && (
                    <button type="button" className="button button--secondary button--small" onClick={() => document.getElementById("promo-code")?.focus()}>
                      Go to the promo code
                    </button>
                  )}
                </div>
              )
            }
            onPay={() => void onPay()}
          />
          <PlacementChallenge placement={placement} />
        </section>
      </div>
    </div>
  );
}
