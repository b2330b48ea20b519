// Tax rates by destination: a country rate with optional region overrides, in basis points.
import type { CountryCode } from "../schemas.ts";

interface TaxRule {
  basisPoints: number;
  regions?: Record<string, number>;
}

/**
 * Prices are tax-exclusive; tax is added at checkout on goods and shipping. US sales tax is
 * charged where we have nexus (a few states); elsewhere it is the national VAT/GST rate.
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
