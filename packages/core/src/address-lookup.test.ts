import { describe, expect, it } from "vitest";
import { AddressSchema } from "./schemas.ts";
import { createLocalAddressLookup, loadUsPlaces, noAddressLookup, placeKey } from "./address-lookup.ts";

const lookup = createLocalAddressLookup();

describe("the local address lookup", () => {
  it("knows the city and state of a US ZIP code (ZIP+4 too), and nothing of an unknown one or another country's postcode", async () => {
    expect(await lookup.localityOf("US", "94105")).toEqual({ country: "US", postalCode: "94105", city: "San Francisco", region: "CA" });
    expect(await lookup.localityOf("US", " 10001-1234 ")).toEqual({ country: "US", postalCode: "10001", city: "New York", region: "NY" });
    expect(await lookup.localityOf("US", "73301")).toMatchObject({ city: "Austin", region: "TX" });
    expect(await lookup.localityOf("US", "00000")).toBeNull();
    expect(await lookup.localityOf("US", "9410")).toBeNull();
    expect(await lookup.localityOf("US", "941050")).toBeNull();
    expect(await lookup.localityOf("DE", "10117")).toBeNull();
  });

  it("only fills in what the shop then accepts: every place it knows passes the address rules for its ZIP code", async () => {
    const places = await loadUsPlaces();
    expect(places.byZip.size).toBeGreaterThan(40_000);
    // Territories, military post offices and the two federal ZIP codes the state table puts elsewhere are left out.
    expect(places.skipped).toBeGreaterThan(0);
    expect(places.skipped).toBeLessThan(1000);
    const refused: string[] = [];
    for (const [zip, place] of places.byZip) {
      const parsed = AddressSchema.safeParse({ name: "A", line1: "1 Main St", city: place.city, region: place.state, postalCode: zip, country: "US" });
      if (!parsed.success) refused.push(`${zip} ${place.city} ${place.state}: ${parsed.error.issues[0]?.message}`);
    }
    expect(refused).toEqual([]);
  });

  it("completes the place after the street as typed, keeping the street, best match first", async () => {
    const suggestions = await lookup.suggest({ country: "US", text: "350 Mission St, San Franc", limit: 5 });
    expect(suggestions[0]).toEqual({ country: "US", line1: "350 Mission St", city: "San Francisco", region: "CA", postalCode: null });

    // A state narrows it; an exact name comes before longer ones; a place with one ZIP code brings it.
    const springfield = await lookup.suggest({ country: "US", text: "1 Main St, Springfield IL", limit: 5 });
    expect(springfield.map((s) => `${s.city}, ${s.region}`)).toEqual(["Springfield, IL"]);
    const anywhere = await lookup.suggest({ country: "US", text: "1 Main St, springfield", limit: 8 });
    expect(anywhere.length).toBeGreaterThan(3);
    expect(anywhere.every((s) => s.city === "Springfield")).toBe(true);
    const single = (await lookup.suggest({ country: "US", text: "1 Main St, Beverly Hills, CA", limit: 5 })).find((s) => s.city === "Beverly Hills");
    expect(single?.region).toBe("CA");

    // A ZIP code, whole or begun, after the street or after a comma.
    expect(await lookup.suggest({ country: "US", text: "350 Mission St 94105", limit: 5 })).toEqual([
      { country: "US", line1: "350 Mission St", city: "San Francisco", region: "CA", postalCode: "94105" },
    ]);
    expect(await lookup.suggest({ country: "US", text: "350 Mission St, San Francisco, CA 94105", limit: 5 })).toEqual([
      { country: "US", line1: "350 Mission St", city: "San Francisco", region: "CA", postalCode: "94105" },
    ]);
    const begun = await lookup.suggest({ country: "US", text: "350 Mission St, 9410", limit: 3 });
    expect(begun.map((s) => s.postalCode)).toEqual(["94101", "94102", "94103"]);

    // Accents, case and punctuation do not matter.
    expect((await lookup.suggest({ country: "US", text: "9 Elm St, st. louis", limit: 3 }))[0]).toMatchObject({ city: "Saint Louis", region: "MO" });
  });

  it("suggests nothing it cannot stand behind: no place typed yet, a city and ZIP code that disagree, other countries, a limit of 0", async () => {
    expect(await lookup.suggest({ country: "US", text: "350 Mission St", limit: 5 })).toEqual([]);
    expect(await lookup.suggest({ country: "US", text: "350 Mission St, S", limit: 5 })).toEqual([]);
    expect(await lookup.suggest({ country: "US", text: ", San Francisco", limit: 5 })).toEqual([]);
    expect(await lookup.suggest({ country: "US", text: "350 Mission St, Boston, MA 94105", limit: 5 })).toEqual([]);
    expect(await lookup.suggest({ country: "US", text: "350 Mission St, Xyzzyville", limit: 5 })).toEqual([]);
    expect(await lookup.suggest({ country: "DE", text: "Unter den Linden 6, Berlin", limit: 5 })).toEqual([]);
    expect(await lookup.suggest({ country: "US", text: "350 Mission St, San Francisco", limit: 0 })).toEqual([]);
    expect(await noAddressLookup.localityOf("US", "94105")).toBeNull();
  });

  it("matches names without case, accents or punctuation", () => {
    expect(placeKey("St. Louis")).toBe("saint louis");
    expect(placeKey("Ft Worth")).toBe(placeKey("Fort Worth"));
    expect(placeKey("Stamford")).toBe("stamford");
    expect(placeKey("  Cañon   City ")).toBe("canon city");
  });
});
