// Shipping options and their rates by destination country and parcel weight.
import type { Currency } from "../money.ts";
import type { CountryCode, ShippingOption, ShippingOptionId } from "../schemas.ts";

interface Rate {
  /** Price of the first kilogram, minor units. */
  base: number;
  /** Price of each further started kilogram, minor units. */
  perKg: number;
}

interface OptionDefinition {
  id: ShippingOptionId;
  name: string;
  description: Record<"domestic" | "international", string>;
  /** Subtotal (minor units, per currency) at or above which the option is free; absent: never free. */
  freeFrom?: Record<Currency, number>;
  rates: Record<CountryCode, Record<Currency, Rate>>;
}

const usd = (base: number, perKg: number): Record<Currency, Rate> => ({
  USD: { base, perKg },
  EUR: { base: Math.round(base * 0.92), perKg: Math.round(perKg * 0.92) },
});
const eur = (base: number, perKg: number): Record<Currency, Rate> => ({
  EUR: { base, perKg },
  USD: { base: Math.round(base * 1.09), perKg: Math.round(perKg * 1.09) },
});

/** Where our warehouses ship from: US orders ship from the US, EU orders from Germany. */
const homeCountries: Record<Currency, readonly CountryCode[]> = { USD: ["US"], EUR: ["DE", "FR"] };

export const shippingOptions: readonly OptionDefinition[] = [
  {
    id: "standard",
    name: "Standard",
    description: { domestic: "3–5 business days", international: "6–10 business days" },
    freeFrom: { USD: 7500, EUR: 7000 },
    rates: {
      US: usd(599, 150),
      GB: eur(995, 300),
      DE: eur(499, 100),
      FR: eur(599, 120),
      VN: usd(1995, 800),
    },
  },
  {
    id: "express",
    name: "Express",
    description: { domestic: "1–2 business days", international: "2–4 business days" },
    rates: {
      US: usd(1999, 300),
      GB: eur(2495, 600),
      DE: eur(1495, 250),
      FR: eur(1695, 300),
      VN: usd(4995, 1500),
    },
  },
];

export interface ShippingInput {
  country: CountryCode;
  currency: Currency;
  weightGrams: number;
  subtotal: number;
}

function priceOption(option: OptionDefinition, input: ShippingInput): number {
  if (option.freeFrom && input.subtotal >= option.freeFrom[input.currency]) return 0;
  const rate = option.rates[input.country][input.currency];
  const extraKg = Math.max(0, Math.ceil(input.weightGrams / 1000) - 1);
  return rate.base + extraKg * rate.perKg;
}

/** The shipping options for a parcel, cheapest first, each priced for this destination and weight. */
export function quoteShippingOptions(input: ShippingInput): ShippingOption[] {
  const isDomestic = homeCountries[input.currency].includes(input.country);
  return shippingOptions.map((option) => ({
    id: option.id,
    name: option.name,
    description: option.description[isDomestic ? "domestic" : "international"],
    price: priceOption(option, input),
    currency: input.currency,
  }));
}

export function findShippingOption(input: ShippingInput & { optionId: ShippingOptionId }): ShippingOption | undefined {
  return quoteShippingOptions(input).find((option) => option.id === input.optionId);
}
