// The confirmation at "/orders/:orderId": fetched with order.get, so a reload shows the same order.
import { useEffect } from "react";
import { countries, type Order } from "@checkout/core/schemas";
import { trpc } from "../trpc.ts";
import { Link } from "../router.tsx";
import { errorCodeOf } from "../lib/errors.ts";
import { useQuery } from "../lib/use-query.ts";
import { useDocumentTitle } from "../lib/use-document-title.ts";
import { OrderLines, TotalsList } from "../components/order-lines.tsx";
import { ErrorPanel, Loading } from "../components/status-panels.tsx";
import { NotFoundPage } from "./not-found-page.tsx";

const PENDING_POLL_MS = 2000;

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
  useEffect(() => {
    if (!isPending) return;
    const timer = window.setTimeout(reload, PENDING_POLL_MS);
    return () => window.clearTimeout(timer);
  }, [isPending, reload, state]);

  if (isMissing) return <NotFoundPage what="order" />;
  if (state.status === "error" && !state.data) return <ErrorPanel error={state.error} onRetry={reload} title="We couldn't load your order" />;
  if (!state.data) return <Loading label="Loading your order…" />;
  return <OrderDetails order={state.data} />;
}

function OrderDetails({ order }: { order: Order }) {
  const address = order.shippingAddress;
  const isFailed = order.status === "payment_failed" || order.status === "cancelled";
  return (
    <article className="order-page" aria-labelledby="page-title">
      <header className="order-page__header">
        <p className="eyebrow">{statusText[order.status]}</p>
        <h1 id="page-title" tabIndex={-1}>
          {isFailed ? "This order was not completed" : "Thank you for your order"}
        </h1>
        <p className="order-page__number">
          Order number <strong data-testid="order-number">{order.number}</strong>
        </p>
        {!isFailed && (
          <p className="muted">
            Placed {new Date(order.placedAt).toLocaleString()} for <strong>{order.email}</strong>. Keep this page's address to check on
            your order.
          </p>
        )}
      </header>
      <div className="order-page__grid">
        <section className="summary-card" aria-labelledby="items-heading">
          <h2 id="items-heading">Items</h2>
          <OrderLines lines={order.lines} currency={order.currency} />
          <TotalsList totals={order} testIdPrefix="order" shippingLabel={`Shipping (${order.shippingOption.name})`} />
        </section>
        <div className="order-page__side">
          <section className="summary-card" aria-labelledby="ship-heading">
            <h2 id="ship-heading">Shipping to</h2>
            <address className="address" data-testid="order-address">
              {address.name}
              <br />
              {address.line1}
              {address.line2 && (
                <>
                  <br />
                  {address.line2}
                </>
              )}
              <br />
              {address.city}
              {address.region ? `, ${address.region}` : ""} {address.postalCode}
              <br />
              {countries[address.country].name}
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
