// Pure pricing: line totals, promotion discount, shipping, tax by destination and the order total. No I/O.
import * as Money from "../money.ts";
import type { Currency } from "../money.ts";
import type { Address, ShippingOption, ShippingOptionId } from "../schemas.ts";
import { AppError } from "../error.ts";
import { findShippingOption } from "./shipping.ts";
import { isTaxInclusive, taxIncludedIn, taxRateFor } from "./tax.ts";
import { discountFor, type PromotionTerms } from "../promotion/promotion.ts";

export interface PricedLineInput {
  sku: string;
  productName: string;
  variantName: string;
  unitPrice: number;
  quantity: number;
  weightGrams: number;
}

export interface PricedLine {
  sku: string;
  productName: string;
  variantName: string;
  unitPrice: number;
  quantity: number;
  lineTotal: number;
  /** This line's share of the order discount. */
  discount: number;
  tax: number;
}

export interface PricedCart {
  currency: Currency;
  lines: PricedLine[];
  /** Goods before discount. */
  subtotal: number;
  /** Off the goods only, never shipping; at most `subtotal`. */
  discount: number;
  promoCode: string | null;
  shipping: number;
  shippingTax: number;
  tax: number;
  /** When true, `tax` is contained in the prices; otherwise it is added on top. */
  taxInclusive: boolean;
  total: number;
  shippingOption: ShippingOption;
  taxRateBasisPoints: number;
}

export function lineTotal(line: { unitPrice: number; quantity: number }): number {
  Money.assertMinorUnits(line.unitPrice);
  if (!Number.isInteger(line.quantity) || line.quantity < 0) throw new RangeError(`Quantity must be a non-negative integer, got ${line.quantity}`);
  const total = line.unitPrice * line.quantity;
  Money.assertMinorUnits(total);
  return total;
}

export function subtotal(lines: readonly { unitPrice: number; quantity: number }[]): number {
  return Money.sum(lines.map(lineTotal));
}

export function totalWeight(lines: readonly { weightGrams: number; quantity: number }[]): number {
  return lines.reduce((grams, line) => grams + line.weightGrams * line.quantity, 0);
}

/**
 * Prices a cart for a destination, shipping option and optional promotion.
 *
 * The discount comes off the goods (not shipping), is capped at the goods subtotal, and is split
 * across lines in proportion to their totals by largest remainder, so the line discounts add up to
 * it exactly. Tax is computed once on what the shopper pays for (discounted goods plus shipping) and
 * allocated the same way to lines and shipping. In a tax-exclusive currency (USD) it is added on top;
 * in a tax-inclusive one (EUR) it is the part of that amount which is tax, and the total is not raised.
 *
 * The promotion must already have been checked (dates, minimum, limits); here only its terms count.
 */
export function priceCart(input: {
  currency: Currency;
  lines: readonly PricedLineInput[];
  address: Pick<Address, "country" | "region">;
  shippingOptionId: ShippingOptionId;
  promotion?: PromotionTerms | null;
}): PricedCart {
  const lineTotals = input.lines.map(lineTotal);
  const goods = Money.sum(lineTotals);
  const shippingOption = findShippingOption({
    optionId: input.shippingOptionId,
    country: input.address.country,
    currency: input.currency,
    weightGrams: totalWeight(input.lines),
    // Free shipping is earned by the pre-discount subtotal: a promo code never takes away free
    // shipping the cart already qualified for, and the threshold the shopper sees in the cart holds.
    subtotal: goods,
  });
  if (!shippingOption) {
    throw new AppError("SHIPPING_UNAVAILABLE", `Shipping option "${input.shippingOptionId}" is not available for ${input.address.country}`);
  }
  const discount = input.promotion ? discountFor(input.promotion, { currency: input.currency, goods }) : 0;
  const lineDiscounts = Money.allocate(discount, lineTotals);
  const netLines = lineTotals.map((total, index) => total - (lineDiscounts[index] ?? 0));
  const taxable = Money.sum([...netLines, shippingOption.price]);
  const taxRateBasisPoints = taxRateFor(input.address);
  const taxInclusive = isTaxInclusive(input.currency);
  const tax = taxInclusive ? taxIncludedIn(taxable, taxRateBasisPoints) : Money.applyBasisPoints(taxable, taxRateBasisPoints);
  const taxParts = Money.allocate(tax, [...netLines, shippingOption.price]);
  const lines = input.lines.map((line, index) => ({
    sku: line.sku,
    productName: line.productName,
    variantName: line.variantName,
    unitPrice: line.unitPrice,
    quantity: line.quantity,
    lineTotal: lineTotals[index] ?? 0,
    discount: lineDiscounts[index] ?? 0,
    tax: taxParts[index] ?? 0,
  }));
  return {
    currency: input.currency,
    lines,
    subtotal: goods,
    discount,
    promoCode: input.promotion?.code ?? null,
    shipping: shippingOption.price,
    shippingTax: taxParts[taxParts.length - 1] ?? 0,
    tax,
    taxInclusive,
    total: taxInclusive ? taxable : Money.sum([taxable, tax]),
    shippingOption,
    taxRateBasisPoints,
  };
}
