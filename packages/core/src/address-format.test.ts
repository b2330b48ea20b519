import { describe, expect, it } from "vitest";
import { addressFormats, countryCodes, defaultCountryFor, formatAddressLines, localityFieldsOf } from "./address-format.ts";
import { AddressSchema } from "./schemas.ts";

const base = { name: "Ada Lovelace", line1: "1 Main St" };

function issues(address: Record<string, unknown>): Record<string, string> {
  const result = AddressSchema.safeParse({ ...base, ...address });
  return Object.fromEntries((result.error?.issues ?? []).map((issue) => [issue.path.join("."), issue.message]));
}

describe("formatAddressLines", () => {
  it("prints a German address with the postcode before the city", () => {
    expect(formatAddressLines({ name: "Emmy Noether", line1: "Unter den Linden 6", city: "Berlin", postalCode: "10117", country: "DE" })).toEqual([
      "Emmy Noether",
      "Unter den Linden 6",
      "10117 Berlin",
      "Germany",
    ]);
  });

  it("prints a US address as City, ST ZIP, with the second street line when there is one", () => {
    expect(
      formatAddressLines({ name: "Ada Lovelace", line1: "500 Howard St", line2: "Suite 300", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" }),
    ).toEqual(["Ada Lovelace", "500 Howard St", "Suite 300", "San Francisco, CA 94105", "United States"]);
  });

  it("prints a British address with town, county and postcode on lines of their own, leaving out an empty county", () => {
    const address = { name: "Grace Hopper", line1: "10 Downing St", city: "London", postalCode: "SW1A 2AA", country: "GB" as const };
    expect(formatAddressLines(address)).toEqual(["Grace Hopper", "10 Downing St", "London", "SW1A 2AA", "United Kingdom"]);
    expect(formatAddressLines({ ...address, city: "Ely", region: "Cambridgeshire", postalCode: "CB7 4DL" })).toEqual([
      "Grace Hopper",
      "10 Downing St",
      "Ely",
      "Cambridgeshire",
      "CB7 4DL",
      "United Kingdom",
    ]);
  });

  it("prints a French address as postcode and city, and never a region a French address has no place for", () => {
    expect(
      formatAddressLines({ name: "Émilie du Châtelet", line1: "1 Rue de Rivoli", city: "Paris", region: "IDF", postalCode: "75001", country: "FR" }, { includeCountry: false }),
    ).toEqual(["Émilie du Châtelet", "1 Rue de Rivoli", "75001 Paris"]);
  });

  it("prints a Vietnamese address with province and postcode on one line, or whichever of them is given", () => {
    const address = { name: "Nguyễn Văn A", line1: "1 Lê Lợi", city: "Quận 1", country: "VN" as const };
    expect(formatAddressLines({ ...address, region: "Hồ Chí Minh", postalCode: "700000" })).toEqual(["Nguyễn Văn A", "1 Lê Lợi", "Quận 1", "Hồ Chí Minh 700000", "Vietnam"]);
    expect(formatAddressLines({ ...address, postalCode: "" })).toEqual(["Nguyễn Văn A", "1 Lê Lợi", "Quận 1", "Vietnam"]);
  });
});

describe("localityFieldsOf", () => {
  it("orders the fields as the country writes them", () => {
    expect(localityFieldsOf("DE")).toEqual(["postalCode", "city"]);
    expect(localityFieldsOf("FR")).toEqual(["postalCode", "city"]);
    expect(localityFieldsOf("US")).toEqual(["city", "region", "postalCode"]);
    expect(localityFieldsOf("GB")).toEqual(["city", "region", "postalCode"]);
  });

  it("gives Germany and France no region field, and the US a required state", () => {
    expect(addressFormats.DE.region).toBeNull();
    expect(addressFormats.FR.region).toBeNull();
    expect(addressFormats.US.region).toMatchObject({ label: "State", required: true });
    expect(addressFormats.US.postalCode.label).toBe("ZIP code");
    expect(addressFormats.DE.postalCode.label).toBe("Postcode");
  });
});

describe("defaultCountryFor", () => {
  it("picks the shopper's own country when the browser names one the shop ships to in the cart's currency", () => {
    expect(defaultCountryFor("EUR", ["fr-FR", "en-US"])).toBe("FR");
    expect(defaultCountryFor("EUR", ["de-DE"])).toBe("DE");
    expect(defaultCountryFor("EUR", ["fr"])).toBe("FR");
    expect(defaultCountryFor("USD", ["en-US"])).toBe("US");
  });

  it("falls back to the currency's main country when the browser's country pays in another currency or is not shipped to", () => {
    expect(defaultCountryFor("EUR", ["en-US"])).toBe("DE");
    expect(defaultCountryFor("EUR", ["de-AT"])).toBe("DE");
    expect(defaultCountryFor("USD", ["de-DE"])).toBe("US");
    expect(defaultCountryFor("EUR", [])).toBe("DE");
    expect(defaultCountryFor("EUR", ["not a language tag!"])).toBe("DE");
  });

  it("never picks a country the shop does not ship to", () => {
    for (const currency of ["USD", "EUR", "GBP", "JPY"]) expect(countryCodes).toContain(defaultCountryFor(currency, ["ja-JP", "en-GB"]));
  });
});

describe("AddressSchema's messages use the field's label in that country", () => {
  it.each([
    ["US", { city: "", postalCode: "", region: "" }, { city: "Enter a city", postalCode: "Enter a ZIP code", region: "Choose a state" }],
    ["GB", { city: "", postalCode: "" }, { city: "Enter a town or city", postalCode: "Enter a postcode" }],
    ["DE", { city: "", postalCode: "" }, { city: "Enter a city", postalCode: "Enter a postcode" }],
  ])("%s", (country, fields, expected) => {
    expect(issues({ country, ...fields })).toEqual(expected);
  });

  it("asks for a name and first address line in words, not 'is required'", () => {
    expect(issues({ country: "DE", city: "Berlin", postalCode: "10117", name: " ", line1: "" })).toEqual({
      name: "Enter your full name",
      line1: "Enter address line 1, usually the building and street",
    });
  });

  it("takes a Vietnamese address without postcode or province, but not a postcode of the wrong shape", () => {
    expect(issues({ country: "VN", city: "Hà Nội", postalCode: "" })).toEqual({});
    expect(issues({ country: "VN", city: "Hà Nội", postalCode: "1000" })).toEqual({ postalCode: "Enter a valid Vietnam postcode, for example 700000" });
  });
});

describe("AddressSchema and a US state's ZIP codes", () => {
  const us = { city: "Somewhere", country: "US" };

  it("refuses a Texas ZIP code for California, naming both", () => {
    expect(issues({ ...us, region: "CA", postalCode: "75001" })).toEqual({ postalCode: "Enter a ZIP code for California: 75001 is in Texas" });
  });

  it("takes a California ZIP code for California, ZIP+4 and lower-case state too", () => {
    expect(issues({ ...us, region: "CA", postalCode: "94105" })).toEqual({});
    expect(issues({ ...us, region: "ca", postalCode: "94105-1804" })).toEqual({});
    expect(issues({ ...us, region: "TX", postalCode: "75001" })).toEqual({});
  });

  it("refuses a ZIP code that belongs to no state for a state", () => {
    expect(issues({ ...us, region: "TX", postalCode: "00601" })).toEqual({ postalCode: "Enter a ZIP code for Texas: 00601 is not in Texas" });
  });

  it("refuses a state that is not one", () => {
    expect(issues({ ...us, region: "California", postalCode: "94105" })).toEqual({ region: "Choose a state: its two-letter code, for example CA" });
  });
});
