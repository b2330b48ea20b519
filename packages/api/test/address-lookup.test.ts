// address.locality and address.suggest over HTTP: the offline lookup the checkout form uses to fill in a US city and
// state from the ZIP code and to complete the address line; typed 400s for bad input; plain GETs allowed (no capability);
// and ADDRESS_LOOKUP=none answers nothing, so the form asks for every field.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectTrpcError, startTestApp, type TestApp } from "./support/app.ts";

let t: TestApp;
let off: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  off = await startTestApp({ ADDRESS_LOOKUP: "none" });
});
afterAll(async () => {
  await t?.close();
  await off?.close();
});

function wire(error: { data?: unknown; message: string }) {
  return { message: error.message, ...(error.data as { httpStatus: number; appCode: string; issues?: { path: string; message: string }[] }) };
}

describe("address.locality", () => {
  it("gives the city and state of a US ZIP code, and null for one it does not know or another country's postcode", async () => {
    expect(await t.client.address.locality.query({ country: "US", postalCode: "94105" })).toEqual({
      locality: { country: "US", postalCode: "94105", city: "San Francisco", region: "CA" },
    });
    expect(await t.client.address.locality.query({ country: "US", postalCode: "00000" })).toEqual({ locality: null });
    expect(await t.client.address.locality.query({ country: "DE", postalCode: "10117" })).toEqual({ locality: null });
  });

  it("answers a plain GET, as a browser or cache may send it", async () => {
    const input = encodeURIComponent(JSON.stringify({ country: "US", postalCode: "10001" }));
    const response = await fetch(`${t.app.url}/trpc/address.locality?input=${input}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ result: { data: { locality: { city: "New York", region: "NY" } } } });
  });

  it("refuses bad input with a typed 400 naming the field", async () => {
    const unknownCountry = wire(await expectTrpcError(() => t.client.address.locality.query({ country: "ZZ" as "US", postalCode: "94105" })));
    expect(unknownCountry).toMatchObject({ httpStatus: 400, appCode: "BAD_INPUT" });
    const long = wire(await expectTrpcError(() => t.client.address.locality.query({ country: "US", postalCode: "9".repeat(17) })));
    expect(long).toMatchObject({ httpStatus: 400, appCode: "BAD_INPUT", issues: [{ path: "postalCode", message: "A postcode or ZIP code is at most 16 characters" }] });
  });
});

describe("address.suggest", () => {
  it("completes the place after the street, the street kept as typed", async () => {
    const { suggestions } = await t.client.address.suggest.query({ country: "US", text: "350 Mission St, San Francisco, CA 94105" });
    expect(suggestions).toEqual([{ country: "US", line1: "350 Mission St", city: "San Francisco", region: "CA", postalCode: "94105" }]);
    const springfields = await t.client.address.suggest.query({ country: "US", text: "1 Main St, Springfield", limit: 3 });
    expect(springfields.suggestions).toHaveLength(3);
  });

  it("refuses text too short or too long, a stray field and a limit out of range, each with a typed 400", async () => {
    const cases: [unknown, string][] = [
      [{ country: "US", text: "ab" }, "Type at least 3 characters of the address"],
      [{ country: "US", text: "x".repeat(201) }, "An address line is at most 200 characters"],
      [{ country: "US", text: "1 Main St, Boston", limit: 9 }, "Ask for at most 8 suggestions"],
      [{ country: "US", text: "1 Main St, Boston", limit: 0 }, "Ask for at least 1 suggestion"],
    ];
    for (const [input, message] of cases) {
      const refused = wire(await expectTrpcError(() => t.client.address.suggest.query(input as { country: "US"; text: string })));
      expect(refused).toMatchObject({ httpStatus: 400, appCode: "BAD_INPUT" });
      expect(refused.issues?.[0]?.message).toBe(message);
    }
    const stray = wire(await expectTrpcError(() => t.client.address.suggest.query({ country: "US", text: "1 Main St, Boston", extra: 1 } as { country: "US"; text: string })));
    expect(stray).toMatchObject({ httpStatus: 400, appCode: "BAD_INPUT" });
  });
});

describe("ADDRESS_LOOKUP=none", () => {
  it("answers nothing: no locality and no suggestions", async () => {
    expect(await off.client.address.locality.query({ country: "US", postalCode: "94105" })).toEqual({ locality: null });
    expect(await off.client.address.suggest.query({ country: "US", text: "350 Mission St, San Francisco" })).toEqual({ suggestions: [] });
  });
});
