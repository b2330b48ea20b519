// Checkout at "/checkout": contact and address, shipping, card, then promo code, review and place the
// order, answering the card issuer's 3-D Secure challenge when the card asks for one.
import { useEffect, useRef, useState, type FormEvent } from "react";
import type { Cart, Quote } from "@checkout/core/schemas";
import { trpc } from "../trpc.ts";
import { Link, useRouter } from "../router.tsx";
import { useCart } from "../cart/cart-context.tsx";
import { describeError } from "../lib/errors.ts";
import { useDocumentTitle } from "../lib/use-document-title.ts";
import { prefetchPage } from "../routes.tsx";
import { fieldNames, isSameValues, issuesToFieldErrors, validateForm, valuesFromCart, type FieldErrors, type FieldName, type FormValues } from "../checkout/address-form.ts";
import { usePlaceOrder } from "../checkout/use-place-order.ts";
import { AddressFields, ContactFields } from "../components/address-fields.tsx";
import type { CardFieldHandle } from "../components/card-field.tsx";
import { CardField, prefetchCardField, ThreeDSecureChallenge } from "../components/lazy-payment.tsx";
import { CheckoutSummary } from "../components/checkout-summary.tsx";
import { OrderReview } from "../components/order-review.tsx";
import { PromoCodeForm } from "../components/promo-code-form.tsx";
import { ShippingOptions } from "../components/shipping-options.tsx";
import { ErrorPanel, Loading } from "../components/status-panels.tsx";

export function CheckoutPage() {
  useDocumentTitle("Checkout");
  const { cart, status, error, reload } = useCart();
  return (
    <section aria-labelledby="page-title" className="checkout-page">
      <h1 id="page-title" tabIndex={-1}>
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

function CheckoutFlow({ cart }: { cart: Cart }) {
  const { replaceCart, forgetCart, refresh } = useCart();
  const { navigate } = useRouter();
  const [values, setValues] = useState<FormValues>(() => valuesFromCart(cart));
  const [savedValues, setSavedValues] = useState<FormValues>(() => valuesFromCart(cart));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [isSaving, setIsSaving] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [quote, setQuote] = useState<Quote | null>(null);
  const [isQuoting, setIsQuoting] = useState(false);
  const [reviewError, setReviewError] = useState<string | null>(null);
  const cardField = useRef<CardFieldHandle>(null);
  const shippingHeading = useRef<HTMLHeadingElement>(null);
  const reviewHeading = useRef<HTMLHeadingElement>(null);

  const hasSavedAddress = Boolean(cart.email && cart.shippingAddress);
  // The card field comes once an address is saved, the order page once the order is reviewed: each chunk loads a step ahead.
  useEffect(() => {
    if (hasSavedAddress) prefetchCardField();
  }, [hasSavedAddress]);
  useEffect(() => {
    if (quote) prefetchPage("order");
  }, [quote]);
  const isDirty = !hasSavedAddress || !isSameValues(values, savedValues);
  const hasShipping = hasSavedAddress && cart.shippingOptionId !== null;

  const placement = usePlaceOrder({
    cartId: cart.id,
    quote,
    setQuote,
    cardField,
    onPlaced: (orderId) => {
      navigate(`/orders#${encodeURIComponent(orderId)}`);
      forgetCart();
    },
    onRepriced: () => void refresh().catch(() => undefined),
  });
  const isAuthenticating = placement.challenge !== null;

  function acceptCart(next: Cart) {
    replaceCart(next);
    // Anything that changes the price invalidates the summary the shopper reviewed.
    setQuote(null);
    placement.reset();
  }

  function onChange(name: FieldName, value: string) {
    setValues((current) => {
      const next = { ...current, [name]: value };
      // A US state makes no sense abroad and vice versa.
      if (name === "country" && (current.country === "US") !== (value === "US")) next.region = "";
      return next;
    });
    if (errors[name]) setErrors((current) => ({ ...current, [name]: undefined }));
  }

  async function onSaveAddress(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setFormError(null);
    const result = validateForm(values);
    if (!result.ok) {
      setErrors(result.errors);
      const first = fieldNames.find((name) => result.errors[name]);
      if (first) focusField(first);
      return;
    }
    setErrors({});
    setIsSaving(true);
    try {
      await trpc.checkout.setContact.mutate({ cartId: cart.id, email: result.email });
      const updated = await trpc.checkout.setShippingAddress.mutate({ cartId: cart.id, address: result.address });
      acceptCart(updated);
      const saved = valuesFromCart(updated);
      setValues(saved);
      setSavedValues(saved);
      window.setTimeout(() => shippingHeading.current?.focus(), 0);
    } catch (saveError) {
      const info = describeError(saveError);
      const fieldErrors = issuesToFieldErrors(info.issues);
      if (Object.keys(fieldErrors).length > 0) setErrors(fieldErrors);
      else setFormError(info.message);
    } finally {
      setIsSaving(false);
    }
  }

  async function onReview() {
    setReviewError(null);
    placement.reset();
    if (isDirty) {
      setReviewError("Save your contact details and address first.");
      return;
    }
    setIsQuoting(true);
    try {
      setQuote(await trpc.checkout.quote.mutate({ cartId: cart.id }));
      window.setTimeout(() => reviewHeading.current?.focus(), 0);
    } catch (quoteError) {
      setReviewError(describeError(quoteError).message);
    } finally {
      setIsQuoting(false);
    }
  }

  return (
    <div className="checkout-layout">
      <div className="checkout-steps">
        <form className="checkout-step" onSubmit={onSaveAddress} noValidate aria-labelledby="contact-heading">
          <h2 id="contact-heading" className="checkout-step__title">
            <span className="step-number" aria-hidden="true">
              1
            </span>{" "}
            Contact
          </h2>
          <ContactFields values={values} errors={errors} disabled={isSaving} onChange={onChange} />
          <h2 className="checkout-step__title checkout-step__title--sub">Shipping address</h2>
          <AddressFields values={values} errors={errors} disabled={isSaving} onChange={onChange} />
          {formError && (
            <p className="notice notice--error" role="alert">
              {formError}
            </p>
          )}
          <div className="checkout-step__actions">
            <button type="submit" className="button button--primary" data-testid="save-address" disabled={isSaving}>
              {isSaving ? "Saving…" : hasSavedAddress ? "Save and continue to shipping" : "Continue to shipping"}
            </button>
            {hasSavedAddress && !isDirty && (
              <span className="ok small" role="status">
                ✓ Saved
              </span>
            )}
          </div>
        </form>

        <section className={`checkout-step ${hasSavedAddress ? "" : "checkout-step--locked"}`} aria-labelledby="shipping-heading">
          <h2 id="shipping-heading" className="checkout-step__title" tabIndex={-1} ref={shippingHeading}>
            <span className="step-number" aria-hidden="true">
              2
            </span>{" "}
            Shipping
          </h2>
          {hasSavedAddress ? <ShippingOptions cart={cart} onSaved={acceptCart} /> : <p className="muted">Enter your address to see shipping options.</p>}
        </section>

        <section className={`checkout-step ${hasShipping ? "" : "checkout-step--locked"}`} aria-labelledby="payment-heading">
          <h2 id="payment-heading" className="checkout-step__title">
            <span className="step-number" aria-hidden="true">
              3
            </span>{" "}
            Payment
          </h2>
          {hasShipping ? <CardField ref={cardField} /> : <p className="muted">Choose a shipping method to enter your card.</p>}
        </section>

        <section className={`checkout-step ${hasShipping ? "" : "checkout-step--locked"}`} aria-labelledby="review-heading">
          <h2 id="review-heading" className="checkout-step__title" tabIndex={-1} ref={reviewHeading}>
            <span className="step-number" aria-hidden="true">
              4
            </span>{" "}
            Review and place order
          </h2>
          {hasShipping && (
            <>
              <PromoCodeForm cart={cart} onChanged={acceptCart} isReviewed={quote !== null} disabled={placement.isPlacing || isAuthenticating} />
              {!quote && <p className="muted">Check the final price, including shipping, discounts and tax, before you pay.</p>}
              <button
                type="button"
                className={`button ${quote ? "button--secondary button--small" : "button--primary"}`}
                data-testid="review-order"
                onClick={() => void onReview()}
                disabled={isQuoting || placement.isPlacing || isAuthenticating}
              >
                {isQuoting ? "Calculating…" : quote ? "Refresh the summary" : "Review order"}
              </button>
              {reviewError && (
                <p className="notice notice--error" role="alert" data-testid="review-error">
                  {reviewError}
                </p>
              )}
              {quote && (
                <OrderReview
                  quote={quote}
                  isPlacing={placement.isPlacing}
                  isAuthenticating={isAuthenticating}
                  error={placement.error}
                  priceChange={placement.priceChange}
                  onPlaceOrder={() => void placement.placeOrder()}
                />
              )}
              {!quote && placement.error && (
                <p className="notice notice--error" role="alert" data-testid="payment-error">
                  {placement.error.message}
                </p>
              )}
              {placement.challenge && (
                <ThreeDSecureChallenge
                  key={placement.challenge.orderId}
                  nextActionUrl={placement.challenge.nextActionUrl}
                  isConfirming={placement.isConfirming}
                  onAnswered={() => void placement.completeChallenge()}
                />
              )}
            </>
          )}
        </section>
      </div>
      <CheckoutSummary cart={cart} quote={quote} />
    </div>
  );
}
