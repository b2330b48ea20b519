// Address lookup: what the checkout's address form asks of a place-data provider (the city and state of a ZIP code, and
// completions of what the shopper types in the address line) behind one interface, so a hosted provider with street data
// can replace the local one without the form or the API changing.
//
// The local provider works offline: it reads the United States ZIP code list shipped in the `zipcodes` package (data from
// the US federal government's ZIP code list, BSD licence), loaded on first use. It knows cities, states and ZIP codes,
// not streets: it completes "350 Mission St, San Fr" to "350 Mission St, San Francisco, CA", keeping the street as typed.
// For other countries it knows nothing and says so by answering nothing; the shopper types the city.
/// <reference path="./zipcodes.d.ts" />
import type { CountryCode } from "./address-format.ts";
import { isUsState, isZipInState, type UsState } from "./us-states.ts";

/** Where a postcode is: what the form can fill in once the shopper has typed one. */
export interface Locality {
  country: CountryCode;
  postalCode: string;
  city: string;
  /** The state (a US state's two letters), or null where the country has none. */
  region: string | null;
}

/** One completion of the address line: the street as typed, and the place the provider matched. */
export interface AddressSuggestion {
  country: CountryCode;
  line1: string;
  city: string;
  region: string | null;
  /** Null when the place has several postcodes and the provider cannot tell which: the shopper types it. */
  postalCode: string | null;
}

export interface AddressLookupProvider {
  /** Shown to operators (logs, /ready's details): "local", "none", or a hosted provider's name. */
  readonly name: string;
  /** The city and region of a complete postcode, or null when the provider does not know it. */
  localityOf(country: CountryCode, postalCode: string): Promise<Locality | null>;
  /** At most `limit` completions of what the shopper typed in the address line, best first. */
  suggest(query: { country: CountryCode; text: string; limit: number }): Promise<AddressSuggestion[]>;
}

/** Lookup switched off (ADDRESS_LOOKUP=none): the form then asks for every field. */
export const noAddressLookup: AddressLookupProvider = {
  name: "none",
  localityOf: async () => null,
  suggest: async () => [],
};

interface Place {
  /** The city's name as the list writes it ("San Francisco"). */
  city: string;
  state: UsState;
  /** The city without case, accents or punctuation ("san francisco"), for matching what is typed. */
  key: string;
  zips: string[];
}

interface UsPlaces {
  byZip: Map<string, Place>;
  /** Every ZIP code, in order, for completing a partial one. */
  zips: string[];
  /** Every place, by key then state, for prefix search. */
  sorted: Place[];
  /** Entries the list holds that the shop cannot ship to or that contradict the ZIP-to-state table; reported in tests. */
  skipped: number;
}

/** The list writes both "St Helena" and "Saint Louis": a leading short form is matched as the word it stands for. */
const SHORT_FIRST_WORDS: Record<string, string> = { st: "saint", ft: "fort", mt: "mount" };

/** "St. Louis" → "saint louis"; "Cañon City" → "canon city". */
export function placeKey(text: string): string {
  const words = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9 ]+/g, " ")
    .trim()
    .split(/\s+/);
  const first = SHORT_FIRST_WORDS[words[0] ?? ""];
  if (first && words.length > 1) words[0] = first;
  return words.join(" ");
}

interface ZipEntry {
  zip: string;
  city: string;
  state: string;
  country: string;
}

function buildUsPlaces(codes: Record<string, ZipEntry>): UsPlaces {
  const byZip = new Map<string, Place>();
  const byCity = new Map<string, Place>();
  let skipped = 0;
  for (const entry of Object.values(codes)) {
    // Territories and military post offices are not among the states the shop ships to; an entry whose ZIP the state
    // table puts in another state would fill in an address the shop then refuses.
    if (entry.country !== "US" || !isUsState(entry.state) || !/^\d{5}$/.test(entry.zip) || !isZipInState(entry.zip, entry.state)) {
      skipped += 1;
      continue;
    }
    const cityKey = `${placeKey(entry.city)}\u0000${entry.state}`;
    let place = byCity.get(cityKey);
    if (!place) {
      place = { city: entry.city, state: entry.state, key: placeKey(entry.city), zips: [] };
      byCity.set(cityKey, place);
    }
    place.zips.push(entry.zip);
    byZip.set(entry.zip, place);
  }
  const sorted = [...byCity.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.state < b.state ? -1 : a.state > b.state ? 1 : 0));
  for (const place of sorted) place.zips.sort();
  return { byZip, zips: [...byZip.keys()].sort(), sorted, skipped };
}

let usPlaces: Promise<UsPlaces> | undefined;

/** The US place list, read and indexed once per process, on first use (about 40,000 ZIP codes). */
export function loadUsPlaces(): Promise<UsPlaces> {
  usPlaces ??= import("zipcodes/lib/codes.js").then((module) => buildUsPlaces(module.codes));
  return usPlaces;
}

/** The first index of a sorted list whose key is not below `prefix`. */
function lowerBound<T>(items: readonly T[], keyOf: (item: T) => string, prefix: string): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keyOf(items[middle] as T) < prefix) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Places whose name starts with `prefix` (in `state` if given): an exact name first, then the places with the most ZIP codes. */
function placesStartingWith(places: UsPlaces, prefix: string, state: UsState | null, limit: number): Place[] {
  const found: Place[] = [];
  for (let index = lowerBound(places.sorted, (place) => place.key, prefix); index < places.sorted.length; index += 1) {
    const place = places.sorted[index] as Place;
    if (!place.key.startsWith(prefix)) break;
    if (state === null || place.state === state) found.push(place);
  }
  found.sort((a, b) => Number(b.key === prefix) - Number(a.key === prefix) || b.zips.length - a.zips.length || a.key.localeCompare(b.key));
  return found.slice(0, limit);
}

const ZIP_OR_PREFIX = /^(\d{3,5})(?:-\d{0,4})?$/;
const TRAILING_STATE = /^(.*?)[ ,]+([a-z]{2})$/i;
const TRAILING_ZIP = /^(.*?)[ ,]+(\d{5})(?:-\d{4})?$/;

/** What the shopper typed, split into the street and the place: "350 Mission St, San Fr" → street and "San Fr". */
function splitTyped(text: string): { street: string; place: string } | null {
  const comma = text.indexOf(",");
  if (comma !== -1) {
    const street = text.slice(0, comma).trim();
    const place = text.slice(comma + 1).trim();
    return street !== "" && place !== "" ? { street, place } : null;
  }
  // No comma: only a ZIP code at the end tells where the street ends ("350 Mission St 94105").
  const zip = TRAILING_ZIP.exec(text.trim());
  return zip?.[1] && zip[2] ? { street: zip[1].trim(), place: zip[2] } : null;
}

/** The offline provider over the shipped US ZIP code list. */
export function createLocalAddressLookup(): AddressLookupProvider {
  const suggestion = (street: string, place: Place, zip: string | null): AddressSuggestion => ({
    country: "US",
    line1: street,
    city: place.city,
    region: place.state,
    postalCode: zip ?? (place.zips.length === 1 ? (place.zips[0] as string) : null),
  });

  return {
    name: "local",
    async localityOf(country, postalCode) {
      if (country !== "US") return null;
      const zip = /^(\d{5})(?:-\d{4})?$/.exec(postalCode.trim())?.[1];
      if (!zip) return null;
      const place = (await loadUsPlaces()).byZip.get(zip);
      return place ? { country: "US", postalCode: zip, city: place.city, region: place.state } : null;
    },
    async suggest({ country, text, limit }) {
      if (country !== "US" || limit <= 0) return [];
      const typed = splitTyped(text);
      if (!typed) return [];
      const places = await loadUsPlaces();
      const zipTyped = ZIP_OR_PREFIX.exec(typed.place);
      if (zipTyped?.[1]) {
        const prefix = zipTyped[1];
        if (prefix.length === 5) {
          const place = places.byZip.get(prefix);
          return place ? [suggestion(typed.street, place, prefix)] : [];
        }
        // A partial ZIP code: the first ZIP codes it can still become, in order.
        const found: AddressSuggestion[] = [];
        for (let index = lowerBound(places.zips, (zip) => zip, prefix); index < places.zips.length && found.length < limit; index += 1) {
          const zip = places.zips[index] as string;
          if (!zip.startsWith(prefix)) break;
          found.push(suggestion(typed.street, places.byZip.get(zip) as Place, zip));
        }
        return found;
      }
      // "San Francisco, CA 94105": the whole place, ZIP code included.
      const withZip = TRAILING_ZIP.exec(typed.place);
      if (withZip?.[1] && withZip[2]) {
        const place = places.byZip.get(withZip[2]);
        const city = placeKey(withZip[1].replace(TRAILING_STATE, "$1"));
        return place && (city === "" || place.key.startsWith(city)) ? [suggestion(typed.street, place, withZip[2])] : [];
      }
      // "Springfield IL" or "Springfield, IL": a state after the city narrows it; a lone "IL" is the start of a city.
      const withState = TRAILING_STATE.exec(typed.place);
      const stateCode = withState?.[2]?.toUpperCase() ?? "";
      const state = withState?.[1] && isUsState(stateCode) ? stateCode : null;
      const city = placeKey(state && withState?.[1] ? withState[1] : typed.place);
      if (city.length < 2) return [];
      return placesStartingWith(places, city, state, limit).map((place) => suggestion(typed.street, place, null));
    },
  };
}
