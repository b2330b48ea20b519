// The US states (and DC) the shop ships to, their names, and which ZIP codes belong to each: a ZIP code's first three
// digits (its sectional centre) name the state it is in, so "Texas, 94105" is caught before a parcel goes astray.

export const US_STATES = [
  "AL",
  "AK",
  "AZ",
  "AR",
  "CA",
  "CO",
  "CT",
  "DE",
  "DC",
  "FL",
  "GA",
  "HI",
  "ID",
  "IL",
  "IN",
  "IA",
  "KS",
  "KY",
  "LA",
  "ME",
  "MD",
  "MA",
  "MI",
  "MN",
  "MS",
  "MO",
  "MT",
  "NE",
  "NV",
  "NH",
  "NJ",
  "NM",
  "NY",
  "NC",
  "ND",
  "OH",
  "OK",
  "OR",
  "PA",
  "RI",
  "SC",
  "SD",
  "TN",
  "TX",
  "UT",
  "VT",
  "VA",
  "WA",
  "WV",
  "WI",
  "WY",
] as const;
export type UsState = (typeof US_STATES)[number];

export function isUsState(value: string): value is UsState {
  return (US_STATES as readonly string[]).includes(value);
}

export const US_STATE_NAMES: Record<UsState, string> = {
  AL: "Alabama",
  AK: "Alaska",
  AZ: "Arizona",
  AR: "Arkansas",
  CA: "California",
  CO: "Colorado",
  CT: "Connecticut",
  DE: "Delaware",
  DC: "District of Columbia",
  FL: "Florida",
  GA: "Georgia",
  HI: "Hawaii",
  ID: "Idaho",
  IL: "Illinois",
  IN: "Indiana",
  IA: "Iowa",
  KS: "Kansas",
  KY: "Kentucky",
  LA: "Louisiana",
  ME: "Maine",
  MD: "Maryland",
  MA: "Massachusetts",
  MI: "Michigan",
  MN: "Minnesota",
  MS: "Mississippi",
  MO: "Missouri",
  MT: "Montana",
  NE: "Nebraska",
  NV: "Nevada",
  NH: "New Hampshire",
  NJ: "New Jersey",
  NM: "New Mexico",
  NY: "New York",
  NC: "North Carolina",
  ND: "North Dakota",
  OH: "Ohio",
  OK: "Oklahoma",
  OR: "Oregon",
  PA: "Pennsylvania",
  RI: "Rhode Island",
  SC: "South Carolina",
  SD: "South Dakota",
  TN: "Tennessee",
  TX: "Texas",
  UT: "Utah",
  VT: "Vermont",
  VA: "Virginia",
  WA: "Washington",
  WV: "West Virginia",
  WI: "Wisconsin",
  WY: "Wyoming",
};

/**
 * Each state's ZIP3 prefixes (first three digits), as ranges, from the USPS sectional centre assignments. A few prefixes
 * serve towns on both sides of a border and are listed under both states (063 CT/NY Fishers Island, 200 DC/VA, 203 and
 * 207 DC/MD, 681 NE/IA Carter Lake, 712 LA/MS, 739 OK/TX Texhoma, 755 TX/AR Texarkana, 834 ID/WY Alta), so no real
 * address there is refused. Territories and military post offices (006–009, 340, 090–099, 962–966, 969) belong to none.
 */
const ZIP3_RANGES: Record<UsState, string> = {
  AL: "350-369",
  AK: "995-999",
  AZ: "850-865",
  AR: "716-729,755",
  CA: "900-961",
  CO: "800-816",
  CT: "060-069",
  DE: "197-199",
  DC: "200,202-205,207,569",
  FL: "320-339,341-349",
  GA: "300-319,398-399",
  HI: "967-968",
  ID: "832-838",
  IL: "600-629",
  IN: "460-479",
  IA: "500-528,681",
  KS: "660-679",
  KY: "400-427",
  LA: "700-715",
  ME: "039-049",
  MD: "203,206-219",
  MA: "010-027,055",
  MI: "480-499",
  MN: "550-567",
  MS: "386-397,712",
  MO: "630-658",
  MT: "590-599",
  NE: "680-693",
  NV: "889-898",
  NH: "030-038",
  NJ: "070-089",
  NM: "870-884",
  NY: "005,063,100-149",
  NC: "270-289",
  ND: "580-588",
  OH: "430-459",
  OK: "730-731,734-749",
  OR: "970-979",
  PA: "150-196",
  RI: "028-029",
  SC: "290-299",
  SD: "570-577",
  TN: "370-385",
  TX: "733,739,750-799,885",
  UT: "840-847",
  VT: "050-054,056-059",
  VA: "200-201,220-246",
  WA: "980-994",
  WV: "247-268",
  WI: "530-549",
  WY: "820-831,834",
};

let prefixOwners: Map<number, UsState[]> | undefined;

/** ZIP3 → the states it serves, built from the ranges on first use. */
function owners(): Map<number, UsState[]> {
  if (prefixOwners) return prefixOwners;
  const map = new Map<number, UsState[]>();
  for (const state of US_STATES) {
    for (const range of ZIP3_RANGES[state].split(",")) {
      const [from, to = from] = range.split("-").map(Number) as [number, number?];
      for (let prefix = from; prefix <= to; prefix++) map.set(prefix, [...(map.get(prefix) ?? []), state]);
    }
  }
  prefixOwners = map;
  return map;
}

/** The states a ZIP code (5 digits, or ZIP+4) belongs to: usually one, two at a few borders, none for a territory. */
export function statesOfZip(zip: string): UsState[] {
  const match = /^(\d{3})\d{2}(-\d{4})?$/.exec(zip.trim());
  if (!match) return [];
  return owners().get(Number(match[1])) ?? [];
}

/** Whether `zip` is a ZIP code of `state`. */
export function isZipInState(zip: string, state: UsState): boolean {
  return statesOfZip(zip).includes(state);
}
