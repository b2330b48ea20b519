// The address form's helpers from the API's address lookup (address.locality, address.suggest): the city and state of a
// ZIP code, and completions of the address line. Quiet on failure: the shopper can always type every field.
import type { RouterOutput } from "@checkout/api/router";
import type { CountryCode } from "../lib/schemas.ts";
import { trpc } from "../trpc.ts";

export type Locality = NonNullable<RouterOutput["address"]["locality"]["locality"]>;
export type AddressSuggestion = RouterOutput["address"]["suggest"]["suggestions"][number];

/** A whole ZIP code (ZIP+4 too): the only postcodes worth asking about. */
export function isWholeZip(country: string, postalCode: string): boolean {
  return country === "US" && /^\d{5}(-\d{4})?$/.test(postalCode.trim());
}

/**
 * Whether the address line says enough to complete: the street, a comma and two characters of the place, or a ZIP code
 * at the end ("350 Mission St, Sa", "350 Mission St 94105"). Saves the API a request per keystroke of the street.
 */
export function isSuggestible(country: string, text: string): boolean {
  if (country !== "US") return false;
  const comma = text.indexOf(",");
  if (comma > 0) return text.slice(comma + 1).trim().length >= 2;
  return /\S\s+\d{5}$/.test(text.trim());
}

export async function lookUpLocality(country: CountryCode, postalCode: string): Promise<Locality | null> {
  try {
    return (await trpc.address.locality.query({ country, postalCode })).locality;
  } catch {
    return null;
  }
}

export async function suggestAddresses(country: CountryCode, text: string): Promise<AddressSuggestion[]> {
  try {
    return (await trpc.address.suggest.query({ country, text, limit: 5 })).suggestions;
  } catch {
    return [];
  }
}
