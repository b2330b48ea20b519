// Tax rates by destination (a country rate with optional region overrides, in basis points), and
// whether a currency's prices include tax.
import type { Currency } from "../money.ts";
import * as Money from "../money.ts";
import type { CountryCode } from "../schemas.ts";

interface TaxRule {
  basisPoints: number;
  regions?: Record<string, number>;
}

/**
 * US sales tax is charged where we have nexus (a few states); elsewhere it is the national VAT/GST
 * rate. Whether it is added on top or already in the price depends on the currency (below).
 */
export const taxTable: Record<CountryCode, TaxRule> = {
  US: { basisPoints: 0, regions: { CA: 725, NY: 400, TX: 625, WA: 650, IL: 625, MA: 625 } },
  GB: { basisPoints: 2000 },
  DE: { basisPoints: 1900 },
  FR: { basisPoints: 2000 },
  VN: { basisPoints: 1000 },
};

export function taxRateFor(destination: { country: CountryCode; region?: string | undefined }): number {
  const rule = taxTable[destination.country];
  const region = destination.region?.toUpperCase();
  if (region && rule.regions && region in rule.regions) return rule.regions[region] ?? rule.basisPoints;
  return rule.basisPoints;
}

/**
 * USD prices are tax-exclusive (US custom: sales tax is added at checkout); EUR prices include VAT,
 * as EU consumer law requires shown prices to, so tax is the part of the price that is tax.
 */
export const taxInclusiveCurrencies: Record<Currency, boolean> = { USD: false, EUR: true };

export function isTaxInclusive(currency: Currency): boolean {
  return taxInclusiveCurrencies[currency];
}

/**
 * The tax contained in a tax-inclusive amount: gross × rate / (1 + rate), rounded half up, in
 * integers (BigInt, so it stays exact for any safe amount). 119.00 at 19 % contains 19.00.
 */
export function taxIncludedIn(gross: number, basisPoints: number): number {
  Money.assertMinorUnits(gross);
  if (!Number.isInteger(basisPoints) || basisPoints < 0) throw new RangeError(`Basis points must be a non-negative integer, got ${basisPoints}`);
  const sign = gross < 0 ? -1n : 1n;
  const magnitude = BigInt(Math.abs(gross));
  const denominator = BigInt(10000 + basisPoints);
  const rounded = (2n * magnitude * BigInt(basisPoints) + denominator) / (2n * denominator);
  return Number(sign * rounded);
}
