// The confirmation at "/orders#<orderId>" (the id in the fragment, never sent to a server): fetched with order.get, so a reload shows the same order.
// An order still waiting on the card issuer's 3-D Secure challenge shows the challenge again here.
import { useEffect, useRef, useState } from "react";
import { formatAddressLines, type Order } from "../lib/schemas.ts";
import { trpc } from "../trpc.ts";
import { Link } from "../router.tsx";
import { describeError, errorCodeOf } from "../lib/errors.ts";
import { formatDateTime } from "../lib/format.ts";
import { useQuery } from "../lib/use-query.ts";
import { useDocumentTitle } from "../lib/use-document-title.ts";
import { OrderLines, TotalsList } from "../components/order-lines.tsx";
import { ErrorPanel, Loading } from "../components/status-panels.tsx";
import { ThreeDSecureChallenge } from "../components/lazy-payment.tsx";
import { NotFoundPage } from "./not-found-page.tsx";

const PENDING_POLL_MS = 2000;
/** A confirmation email still on its way is looked at again this often, this many times (the outbox sends within seconds). */
const EMAIL_POLL_MS = 3000;
const EMAIL_POLLS = 20;

/** order.get's answer: the order, and what the shop knows of its confirmation email. */
type OrderView = Awaited<ReturnType<typeof trpc.order.get.query>>;

/** What the shop knows of the confirmation email, in a sentence; only what is true (sent, on its way, not sent). */
function confirmationEmailText(order: OrderView): string | null {
  switch (order.confirmationEmail) {
    case "sent":
      return `We've emailed a confirmation to ${order.email}.`;
    case "sending":
      return `We're emailing a confirmation to ${order.email}.`;
    case "failed":
      return `We couldn't email a confirmation to ${order.email}. Keep this page's address: it always shows your order.`;
    default:
      return null;
  }
}

const statusText: Record<Order["status"], string> = {
  pending_payment: "Confirming your payment…",
  payment_failed: "Payment failed",
  authorised: "Payment authorised",
  captured: "Paid",
  fulfilled: "Shipped",
  cancelled: "Cancelled",
  partially_refunded: "Partially refunded",
  refunded: "Refunded",
};

export function OrderPage({ orderId }: { orderId: string }) {
  const { state, reload } = useQuery(`order:${orderId}`, () => trpc.order.get.query({ orderId }));
  const isMissing = state.status === "error" && ["NOT_FOUND", "BAD_INPUT"].includes(errorCodeOf(state.error));
  useDocumentTitle(isMissing ? "Not found" : state.data ? `Order ${state.data.number}` : "Your order");

  // An order whose payment is still being confirmed settles within seconds: look again.
  const isPending = state.status === "success" && state.data.status === "pending_payment";
  // biome-ignore lint/correctness/useExhaustiveDependencies: `state` re-arms the poll after each reload answers, so a still-pending order is looked at again
  useEffect(() => {
    if (!isPending) return;
    const timer = window.setTimeout(reload, PENDING_POLL_MS);
    return () => window.clearTimeout(timer);
  }, [isPending, reload, state]);

  // A confirmation email still on its way: look again for a while, so the page can say once it has gone.
  const isEmailSending = state.status === "success" && state.data.confirmationEmail === "sending";
  const emailPolls = useRef(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `state` re-arms the poll after each reload answers
  useEffect(() => {
    if (!isEmailSending || isPending || emailPolls.current >= EMAIL_POLLS) return;
    const timer = window.setTimeout(() => {
      emailPolls.current += 1;
      reload();
    }, EMAIL_POLL_MS);
    return () => window.clearTimeout(timer);
  }, [isEmailSending, isPending, reload, state]);

  if (isMissing) return <NotFoundPage what="order" />;
  if (state.status === "error" && !state.data) return <ErrorPanel error={state.error} onRetry={reload} title="We couldn't load your order" />;
  if (!state.data) return <Loading label="Loading your order…" />;
  return <OrderDetails order={state.data} onChanged={reload} />;
}

function pendingChallengeUrl(order: Order): string | null {
  if (order.status !== "pending_payment" || order.payment?.status !== "requires_action") return null;
  return order.payment.nextActionUrl;
}

/** The challenge for an order placed earlier (a reload mid-challenge): answered here, settled by confirmPayment. */
function PendingChallenge({ order, nextActionUrl, onChanged }: { order: Order; nextActionUrl: string; onChanged: () => void }) {
  const [isConfirming, setIsConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function confirm() {
    setIsConfirming(true);
    setError(null);
    try {
      await trpc.checkout.confirmPayment.mutate({ orderId: order.id });
      onChanged();
    } catch (confirmError) {
      setError(describeError(confirmError).message);
    } finally {
      setIsConfirming(false);
    }
  }

  return (
    <div className="summary-card order-page__challenge">
      <ThreeDSecureChallenge nextActionUrl={nextActionUrl} isConfirming={isConfirming} onAnswered={() => void confirm()} headingLevel={2} />
      {error && (
        <div className="notice notice--error" role="alert">
          <p>{error}</p>
          <button type="button" className="button button--secondary button--small" onClick={() => void confirm()} disabled={isConfirming}>
            Try again
          </button>
        </div>
      )}
    </div>
  );
}

function OrderDetails({ order, onChanged }: { order: OrderView; onChanged: () => void }) {
  const address = order.shippingAddress;
  const emailText = confirmationEmailText(order);
  const isFailed = order.status === "payment_failed" || order.status === "cancelled";
  const challengeUrl = pendingChallengeUrl(order);
  return (
    <article className="order-page" aria-labelledby="page-title">
      <header className="order-page__header">
        <p className="eyebrow">{challengeUrl ? "Waiting for your bank" : statusText[order.status]}</p>
        <h1 id="page-title" tabIndex={-1}>
          {isFailed ? "This order was not completed" : challengeUrl ? "Confirm your payment to finish your order" : "Thank you for your order"}
        </h1>
        <p className="order-page__number">
          Order number <strong data-testid="order-number">{order.number}</strong>
        </p>
        {!isFailed && !challengeUrl && (
          <>
            <p className="muted" data-testid="order-placed-at">
              Placed <time dateTime={order.placedAt}>{formatDateTime(order.placedAt)}</time>.
            </p>
            {/* A polite live region: "emailing" becomes "emailed" while the page is open. */}
            <p role="status" data-testid="confirmation-email">
              {emailText ?? <>Keep this page's address to check on your order.</>}
            </p>
          </>
        )}
      </header>
      {order.status === "pending_payment" && !challengeUrl && (
        <p className="notice" role="status" data-testid="order-pending">
          We are confirming your payment with the card processor; this page updates by itself. Your card will not be charged twice.
        </p>
      )}
      {challengeUrl && <PendingChallenge key={challengeUrl} order={order} nextActionUrl={challengeUrl} onChanged={onChanged} />}
      <div className="order-page__grid">
        <section className="summary-card" aria-labelledby="items-heading">
          <h2 id="items-heading">Items</h2>
          <OrderLines lines={order.lines} currency={order.currency} />
          <TotalsList totals={order} testIdPrefix="order" shippingLabel={`Shipping (${order.shippingOption.name})`} />
        </section>
        <div className="order-page__side">
          <section className="summary-card" aria-labelledby="ship-heading">
            <h2 id="ship-heading">Shipping to</h2>
            {/* Written as the destination's post office wants it: "10117 Berlin", "San Francisco, CA 94105". */}
            <address className="address" data-testid="order-address">
              {formatAddressLines(address).map((line, index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the lines of one address never reorder
                <span key={index}>
                  {index > 0 && <br />}
                  {line}
                </span>
              ))}
            </address>
            <p className="muted small">
              {order.shippingOption.name}: {order.shippingOption.description}
            </p>
          </section>
          <section className="summary-card" aria-labelledby="payment-heading">
            <h2 id="payment-heading">Payment</h2>
            {order.payment ? (
              <p data-testid="order-card">
                <span className="card-brand">{order.payment.cardBrand ?? "Card"}</span> ending in {order.payment.cardLast4 ?? "····"}
              </p>
            ) : (
              <p className="muted">No payment recorded yet.</p>
            )}
          </section>
          <Link href="/" className="button button--secondary button--wide">
            Continue shopping
          </Link>
        </div>
      </div>
    </article>
  );
}
