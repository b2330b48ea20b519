// The order confirmation email: read once from the order's rows, rendered as HTML and plain text.
// Everything the shopper typed (name, address) is escaped before it goes into the HTML.
import type { Db } from "../db/database.ts";
import { formatAddressLines } from "../address-format.ts";
import type { Address } from "../schemas.ts";
import { format, type Currency } from "../money.ts";
import * as OrderRepository from "../order/order.repository.ts";
import * as OutboxRepository from "./outbox.repository.ts";

export interface ConfirmationView {
  orderId: string;
  number: string;
  email: string;
  currency: Currency;
  lines: { productName: string; variantName: string; quantity: number; unitPrice: number; lineTotal: number }[];
  subtotal: number;
  discount: number;
  promoCode: string | null;
  shipping: number;
  shippingOptionName: string;
  tax: number;
  /** Prices include tax (EUR): the tax line says "includes", and is not added to the total. */
  isTaxInclusive: boolean;
  total: number;
  shippingAddress: Address;
}

export interface RenderedEmail {
  to: string;
  subject: string;
  html: string;
  text: string;
}

export async function load(db: Db, orderId: string): Promise<ConfirmationView | null> {
  const order = await OrderRepository.findOrder(db, orderId);
  if (!order) return null;
  const lines = await OrderRepository.listOrderLines(db, order.id);
  const option = order.shipping_option as { name?: unknown };
  return {
    orderId: order.id,
    number: order.number,
    email: order.email,
    currency: order.currency as Currency,
    lines: lines.map((line) => ({
      productName: line.product_name,
      variantName: line.variant_name,
      quantity: line.quantity,
      unitPrice: line.unit_price,
      lineTotal: line.line_total,
    })),
    subtotal: order.subtotal,
    discount: order.discount,
    promoCode: order.promo_code,
    shipping: order.shipping,
    shippingOptionName: typeof option.name === "string" ? option.name : "Shipping",
    tax: order.tax,
    isTaxInclusive: order.tax_inclusive,
    total: order.total,
    shippingAddress: order.shipping_address as Address,
  };
}

/**
 * What the shop knows of an order's confirmation email: "sent" (the mail server took it), "sending" (queued with the
 * order, or being retried), "failed" (given up on), "none" (no email is due: the order is not placed, or no email
 * target was configured when its event went out).
 */
export type DeliveryState = "sent" | "sending" | "failed" | "none";

/** The confirmation email's state, from the order's `order.placed` event and its delivery to the email `target`. */
export async function deliveryState(db: Db, input: { orderId: string; target: string }): Promise<DeliveryState> {
  const row = await OutboxRepository.findEventDelivery(db, { aggregateId: input.orderId, type: "order.placed", target: input.target });
  if (!row) return "none";
  if (row.delivery_status === "delivered") return "sent";
  if (row.delivery_status === "failed") return "failed";
  if (row.delivery_status === "pending") return "sending";
  // No delivery to the email target: not fanned out yet (it will be), or fanned out to other targets only.
  return row.dispatched_at === null && !row.is_fanned_out ? "sending" : "none";
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function orderUrl(publicUrl: string, orderId: string): string {
  // The id rides in the fragment, which browsers never send: no server or CDN access log ever holds it.
  return `${publicUrl.replace(/\/+$/, "")}/orders#${encodeURIComponent(orderId)}`;
}

/** The address as the destination's post office writes it ("10117 Berlin", "San Francisco, CA 94105"), the country last. */
function addressLines(address: Address): string[] {
  return formatAddressLines(address);
}

function totalRows(view: ConfirmationView): [label: string, amount: string][] {
  const money = (amount: number) => format({ amount, currency: view.currency });
  const rows: [string, string][] = [["Subtotal", money(view.subtotal)]];
  if (view.discount > 0) rows.push([view.promoCode ? `Discount (${view.promoCode})` : "Discount", `−${money(view.discount)}`]);
  rows.push([`Shipping (${view.shippingOptionName})`, money(view.shipping)]);
  rows.push([view.isTaxInclusive ? "Includes tax" : "Tax", money(view.tax)]);
  rows.push(["Total", money(view.total)]);
  return rows;
}

export function render(view: ConfirmationView, options: { publicUrl: string }): RenderedEmail {
  const money = (amount: number) => format({ amount, currency: view.currency });
  const link = orderUrl(options.publicUrl, view.orderId);
  const totals = totalRows(view);
  const address = addressLines(view.shippingAddress);
  const subject = `Order ${view.number} confirmed`;

  const text = [
    `Thank you for your order.`,
    ``,
    `Order number: ${view.number}`,
    ``,
    ...view.lines.map((line) => `${line.quantity} × ${line.productName} (${line.variantName})  ${money(line.lineTotal)}`),
    ``,
    ...totals.map(([label, amount]) => `${label}: ${amount}`),
    ``,
    `Shipping to:`,
    ...address.map((line) => `  ${line}`),
    ``,
    `See your order: ${link}`,
    ``,
  ].join("\n");

  const cell = 'style="padding:4px 8px;border-bottom:1px solid #eee"';
  const right = 'style="padding:4px 8px;border-bottom:1px solid #eee;text-align:right"';
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:system-ui,sans-serif;color:#222;max-width:600px;margin:0 auto">
<h1 style="font-size:20px">Thank you for your order</h1>
<p>Order number: <strong>${escapeHtml(view.number)}</strong></p>
<table style="border-collapse:collapse;width:100%">
<thead><tr><th ${cell} align="left">Item</th><th ${right}>Qty</th><th ${right}>Price</th><th ${right}>Total</th></tr></thead>
<tbody>
${view.lines
  .map(
    (line) =>
      `<tr><td ${cell}>${escapeHtml(line.productName)} <span style="color:#666">(${escapeHtml(line.variantName)})</span></td>` +
      `<td ${right}>${line.quantity}</td><td ${right}>${escapeHtml(money(line.unitPrice))}</td><td ${right}>${escapeHtml(money(line.lineTotal))}</td></tr>`,
  )
  .join("\n")}
</tbody>
<tfoot>
${totals.map(([label, amount]) => `<tr><td colspan="3" ${right}>${escapeHtml(label)}</td><td ${right}>${escapeHtml(amount)}</td></tr>`).join("\n")}
</tfoot>
</table>
<h2 style="font-size:16px">Shipping to</h2>
<p>${address.map(escapeHtml).join("<br>")}</p>
<p><a href="${escapeHtml(link)}">See your order</a></p>
</body>
</html>
`;
  return { to: view.email, subject, html, text };
}
