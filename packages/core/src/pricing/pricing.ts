// Pure pricing: line totals, shipping, tax by destination and the order total. No I/O.
import * as Money from "../money.ts";
import type { Currency } from "../money.ts";
import type { Address, ShippingOption, ShippingOptionId } from "../schemas.ts";
import { AppError } from "../error.ts";
import { findShippingOption } from "./shipping.ts";
import { taxRateFor } from "./tax.ts";

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
  tax: number;
}

export interface PricedCart {
  currency: Currency;
  lines: PricedLine[];
  subtotal: number;
  shipping: number;
  shippingTax: number;
  tax: number;
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
 * Prices a cart for a destination and shipping option. Tax is computed once on the taxable total
 * (goods plus shipping) and then allocated to lines and shipping by largest remainder, so the
 * per-line taxes always add up to the order's tax.
 */
export function priceCart(input: {
  currency: Currency;
  lines: readonly PricedLineInput[];
  address: Pick<Address, "country" | "region">;
  shippingOptionId: ShippingOptionId;
}): PricedCart {
  const lineTotals = input.lines.map(lineTotal);
  const goods = Money.sum(lineTotals);
  const shippingOption = findShippingOption({
    optionId: input.shippingOptionId,
    country: input.address.country,
    currency: input.currency,
    weightGrams: totalWeight(input.lines),
    subtotal: goods,
  });
  if (!shippingOption) {
    throw new AppError("SHIPPING_UNAVAILABLE", `Shipping option "${input.shippingOptionId}" is not available for ${input.address.country}`);
  }
  const taxRateBasisPoints = taxRateFor(input.address);
  const tax = Money.applyBasisPoints(goods + shippingOption.price, taxRateBasisPoints);
  const taxParts = Money.allocate(tax, [...lineTotals, shippingOption.price]);
  const lines = input.lines.map((line, index) => ({
    sku: line.sku,
    productName: line.productName,
    variantName: line.variantName,
    unitPrice: line.unitPrice,
    quantity: line.quantity,
    lineTotal: lineTotals[index] ?? 0,
    tax: taxParts[index] ?? 0,
  }));
  return {
    currency: input.currency,
    lines,
    subtotal: goods,
    shipping: shippingOption.price,
    shippingTax: taxParts[taxParts.length - 1] ?? 0,
    tax,
    total: Money.sum([goods, shippingOption.price, tax]),
    shippingOption,
    taxRateBasisPoints,
  };
}
