// How an address is asked for, checked and printed in each country the shop ships to: which fields exist, their order
// and labels, which are required, the postcode pattern, and the lines a label on a parcel has. Pure data and helpers, no
// zod, so the web app can lay out its form and print an address without loading a validator.

// Address formats (field order, required fields, field names, print layout) derived from Google's libaddressinput region
// data (https://github.com/google/libaddressinput), Copyright (C) 2013 Google Inc., Apache License 2.0, rewritten here in
// this project's own form for US, GB, DE, FR and VN; the labels are the shop's own English wording. A plain comment,
// not a bundled legal one: the credit stays in the source and costs the shopper's first load nothing.

/** The address fields a shopper fills in, in the names the service stores. */
export type AddressField = "name" | "line1" | "line2" | "city" | "region" | "postalCode";

/** One printed line: fields, with the text that joins a field to the one before it (dropped with an empty field). */
type PrintLine = readonly (AddressField | { join: string })[];

export interface FieldRule {
  /** The field's label, as the form shows it and its messages repeat it ("Enter a ZIP code"). */
  label: string;
  required: boolean;
}

export interface CountryAddressFormat {
  /** The country's English name, as the shop shows it. */
  name: string;
  /** The currency the country pays in (ISO 4217). */
  currency: string;
  city: FieldRule;
  /** The first-level division (state, county, province), or null where addresses have none. */
  region: (FieldRule & { isUsState: boolean }) | null;
  postalCode: FieldRule;
  /** The postcode as the country's post office writes it (checked after trimming; case-insensitive). */
  postcode: RegExp;
  /** A postcode to show as an example. */
  example: string;
  /** Kept for callers that only ask whether a region must be given. */
  regionRequired: boolean;
  /** The lines of a printed address, top to bottom; the country's name is added below them. */
  layout: readonly PrintLine[];
}

const text = (label: string, required: boolean): FieldRule => ({ label, required });

/** The street part of every layout: name, then the street lines. */
const head: readonly PrintLine[] = [["name"], ["line1"], ["line2"]];

export const addressFormats = {
  US: {
    name: "United States",
    currency: "USD",
    city: text("City", true),
    region: { label: "State", required: true, isUsState: true },
    postalCode: text("ZIP code", true),
    postcode: /^\d{5}(-\d{4})?$/,
    example: "94103 or 94103-1234",
    regionRequired: true,
    layout: [...head, ["city", { join: ", " }, "region", { join: " " }, "postalCode"]],
  },
  GB: {
    name: "United Kingdom",
    currency: "GBP",
    city: text("Town or city", true),
    region: { label: "County", required: false, isUsState: false },
    postalCode: text("Postcode", true),
    postcode: /^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPS-UW]|[A-HK-Y][0-9][ABEHMNPRV-Y]) ?[0-9][ABD-HJLNP-UW-Z]{2})$/i,
    example: "SW1A 1AA",
    regionRequired: false,
    layout: [...head, ["city"], ["region"], ["postalCode"]],
  },
  DE: {
    name: "Germany",
    currency: "EUR",
    city: text("City", true),
    region: null,
    postalCode: text("Postcode", true),
    postcode: /^\d{5}$/,
    example: "10117",
    regionRequired: false,
    layout: [...head, ["postalCode", { join: " " }, "city"]],
  },
  FR: {
    name: "France",
    currency: "EUR",
    city: text("City", true),
    region: null,
    postalCode: text("Postcode", true),
    postcode: /^\d{5}$/,
    example: "75008",
    regionRequired: false,
    layout: [...head, ["postalCode", { join: " " }, "city"]],
  },
  VN: {
    name: "Vietnam",
    currency: "VND",
    city: text("City", true),
    region: { label: "Province", required: false, isUsState: false },
    postalCode: text("Postcode", false),
    postcode: /^\d{6}$/,
    example: "700000",
    regionRequired: false,
    layout: [...head, ["city"], ["region", { join: " " }, "postalCode"]],
  },
} as const satisfies Record<string, CountryAddressFormat>;

export type CountryCode = keyof typeof addressFormats;
export const countryCodes = Object.keys(addressFormats) as [CountryCode, ...CountryCode[]];

export function isCountryCode(value: unknown): value is CountryCode {
  return typeof value === "string" && Object.hasOwn(addressFormats, value);
}

export function addressFormatOf(country: CountryCode): CountryAddressFormat {
  return addressFormats[country];
}

/** The fields below the street lines, in the order the country writes them (a German form asks the postcode first). */
export function localityFieldsOf(country: CountryCode): ("city" | "region" | "postalCode")[] {
  const fields: ("city" | "region" | "postalCode")[] = [];
  for (const line of addressFormats[country].layout) {
    for (const part of line) {
      if (part === "city" || part === "region" || part === "postalCode") fields.push(part);
    }
  }
  return fields;
}

export interface PrintableAddress {
  name: string;
  line1: string;
  line2?: string | undefined;
  city: string;
  region?: string | undefined;
  postalCode: string;
  country: CountryCode;
}

/**
 * The address as the destination's post office wants it written, one string per line, empty lines left out, the
 * country's name last (leave it out with includeCountry: false): "Unter den Linden 6" / "10117 Berlin" / "Germany".
 */
export function formatAddressLines(address: PrintableAddress, options: { includeCountry?: boolean } = {}): string[] {
  const format = addressFormats[address.country];
  const lines: string[] = [];
  for (const line of format.layout) {
    let printed = "";
    let join = "";
    for (const part of line) {
      if (typeof part === "object") {
        join = part.join;
        continue;
      }
      // A field the country has no place for (a region sent for a German address) is not printed.
      if (part === "region" && format.region === null) continue;
      const value = (address[part] ?? "").trim();
      if (value !== "") printed += (printed === "" ? "" : join) + value;
      join = "";
    }
    if (printed !== "") lines.push(printed);
  }
  if (options.includeCountry !== false) lines.push(format.name);
  return lines;
}

/**
 * The country a new address form starts on for a cart in `currency`. Among the countries the shop ships to that pay in
 * that currency, the first that the shopper's browser languages name (by region, "fr-FR" → France; a bare language by
 * its likeliest region, "fr" → France); when none does, the currency's main country (USD → United States, EUR →
 * Germany, the largest euro economy the shop ships to).
 */
export function defaultCountryFor(currency: string, languages: readonly string[] = []): CountryCode {
  const candidates = countryCodes.filter((code) => addressFormats[code].currency === currency);
  for (const language of languages) {
    const region = regionOfLanguage(language);
    const match = candidates.find((code) => code === region);
    if (match) return match;
  }
  return mainCountryOfCurrency[currency] ?? candidates[0] ?? "US";
}

const mainCountryOfCurrency: Partial<Record<string, CountryCode>> = { USD: "US", EUR: "DE" };

function regionOfLanguage(language: string): string | undefined {
  try {
    const locale = new Intl.Locale(language);
    return (locale.region ?? locale.maximize().region)?.toUpperCase();
  } catch {
    return undefined;
  }
}
