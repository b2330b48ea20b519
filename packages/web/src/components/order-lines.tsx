// The priced lines of a quote or an order, and its totals, with test ids under one prefix.
import type { OrderLine, Totals } from "@checkout/core/schemas";
import { Money } from "./money.tsx";
import { ProductImage } from "./product-image.tsx";

/** An order's lines, each with the picture of the variant bought (its colour) when the order has one. */
export function OrderLines({ lines, currency }: { lines: readonly OrderLine[]; currency: string }) {
  return (
    <ul className="order-lines">
      {lines.map((line) => (
        <li key={line.sku} className={`order-lines__row ${line.image ? "order-lines__row--pictured" : ""}`.trim()} data-testid="order-line">
          {line.image && (
            <span className="order-lines__thumb">
              <ProductImage src={line.image} alt="" />
            </span>
          )}
          <span className="order-lines__name">
            {line.productName}
            {line.variantName !== "Default" && <span className="muted"> · {line.variantName}</span>}
            <span className="muted small order-lines__qty">
              {" "}
              {line.quantity} × <Money amount={line.unitPrice} currency={currency} />
            </span>
          </span>
          <Money amount={line.lineTotal} currency={currency} />
        </li>
      ))}
    </ul>
  );
}

/**
 * The server's totals, shown as they are (never recomputed here). A discount is a negative row; with
 * tax-inclusive prices the VAT is a part of the total, so it is shown under it rather than added on top.
 */
export function TotalsList({ totals, testIdPrefix, shippingLabel = "Shipping" }: { totals: Totals; testIdPrefix: string; shippingLabel?: string }) {
  const { currency } = totals;
  const taxRow = (
    <div className={`totals__row ${totals.taxInclusive ? "totals__row--note" : ""}`.trim()}>
      <dt>{totals.taxInclusive ? "Includes VAT" : "Tax"}</dt>
      <dd>
        <Money amount={totals.tax} currency={currency} testId={`${testIdPrefix}-tax`} />
      </dd>
    </div>
  );
  return (
    <dl className="totals">
      <div className="totals__row">
        <dt>Subtotal</dt>
        <dd>
          <Money amount={totals.subtotal} currency={currency} testId={`${testIdPrefix}-subtotal`} />
        </dd>
      </div>
      {totals.discount > 0 && (
        <div className="totals__row totals__row--discount">
          <dt>Discount{totals.promoCode ? ` (${totals.promoCode})` : ""}</dt>
          <dd>
            <Money amount={-totals.discount} currency={currency} testId={`${testIdPrefix}-discount`} />
          </dd>
        </div>
      )}
      <div className="totals__row">
        <dt>{shippingLabel}</dt>
        <dd>
          <Money amount={totals.shipping} currency={currency} testId={`${testIdPrefix}-shipping`} />
        </dd>
      </div>
      {!totals.taxInclusive && taxRow}
      <div className="totals__row totals__row--grand">
        <dt>Total</dt>
        <dd>
          <Money amount={totals.total} currency={currency} testId={`${testIdPrefix}-total`} />
        </dd>
      </div>
      {totals.taxInclusive && taxRow}
    </dl>
  );
}
