import { describe, expect, it } from "vitest";
import { AddressSchema, CartAddLineInput, EmailSchema } from "./schemas.ts";
import * as OrderAdmin from "./order/order-admin.ts";

const base = { name: "Ada Lovelace", line1: "1 Main St", city: "Somewhere" };

function postcodeError(country: string, postalCode: string, region?: string): string | undefined {
  const result = AddressSchema.safeParse({ ...base, country, postalCode, region });
  return result.success ? undefined : result.error.issues.find((i) => i.path[0] === "postalCode")?.message;
}

describe("AddressSchema", () => {
  it.each([
    ["US", "94103", "CA"],
    ["US", "94103-1234", "CA"],
    ["GB", "SW1A 1AA", undefined],
    ["GB", "m1 1ae", undefined],
    ["DE", "10115", undefined],
    ["FR", "75008", undefined],
    ["VN", "700000", undefined],
  ])("accepts a valid %s postcode %s", (country, postalCode, region) => {
    expect(postcodeError(country, postalCode, region)).toBeUndefined();
  });

  it.each([
    ["US", "9410", "United States ZIP code"],
    ["GB", "12345", "United Kingdom postcode"],
    ["DE", "1011", "Germany postcode"],
    ["FR", "7500A", "France postcode"],
    ["VN", "70000", "Vietnam postcode"],
  ])("rejects an invalid %s postcode %s with a message naming the country and the field's label", (country, postalCode, name) => {
    expect(postcodeError(country, postalCode, "CA")).toMatch(new RegExp(`^Enter a valid ${name}, for example`));
  });

  it("requires a US state", () => {
    const result = AddressSchema.safeParse({ ...base, country: "US", postalCode: "94103" });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain("region");
  });

  it("requires name, line1 and city, and rejects unknown countries and fields", () => {
    const result = AddressSchema.safeParse({ country: "XX", postalCode: "1", line1: " ", extra: 1 });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join(".") || i.code);
    expect(paths).toEqual(expect.arrayContaining(["name", "line1", "city", "country"]));
    expect(result.error!.issues.some((i) => i.code === "unrecognized_keys")).toBe(true);
  });

  it("rejects a megabyte-long field", () => {
    expect(AddressSchema.safeParse({ ...base, country: "DE", postalCode: "10115", line1: "x".repeat(1_000_000) }).success).toBe(false);
  });
});

describe("EmailSchema", () => {
  it("accepts an address and trims it, rejects garbage", () => {
    expect(EmailSchema.parse("  ada@example.com ")).toBe("ada@example.com");
    expect(EmailSchema.safeParse("not-an-email").success).toBe(false);
  });
});

describe("CartAddLineInput", () => {
  it("rejects a client-supplied price", () => {
    const result = CartAddLineInput.safeParse({ cartId: "5b0f8f1e-8d2e-4c4a-9a55-0d7d7c9b5a11", sku: "TEE-BLA-M", quantity: 1, price: 1 });
    expect(result.success).toBe(false);
  });

  it.each([0, -1, 100, 1.5, "2"])("rejects quantity %s", (quantity) => {
    expect(CartAddLineInput.safeParse({ cartId: "5b0f8f1e-8d2e-4c4a-9a55-0d7d7c9b5a11", sku: "TEE-BLA-M", quantity }).success).toBe(false);
  });
});

describe("text a shopper or operator types", () => {
  const address = { ...base, country: "DE", postalCode: "10115" };

  it.each([
    ["a NUL", "Ada\u0000"],
    ["half a surrogate pair", "Ada \ud83d"],
    ["a lone low surrogate", "\udc3aAda"],
    ["an escape sequence", "Ada\u001b[31m"],
    ["a line break", "Ada\nLovelace"],
  ])("refuses %s in an address field with a 400-style issue naming the field, not a database error", (_name, name) => {
    for (const field of ["name", "line1", "line2", "city", "region"]) {
      const result = AddressSchema.safeParse({ ...address, [field]: name });
      expect(result.success, field).toBe(false);
      expect(result.error!.issues.find((issue) => issue.path[0] === field)?.message).toMatch(/contains a character we cannot take/);
    }
  });

  it("takes the letters, accents and emoji people really type", () => {
    for (const name of ["Nguyễn Văn A", "Émilie du Châtelet", "Zoë 😀", "👩‍👩‍👧 family", "Ｆｕｌｌ ｗｉｄｔｈ"]) {
      expect(AddressSchema.safeParse({ ...address, name }).success, name).toBe(true);
    }
  });

  it("refuses NUL and half a surrogate pair in an operator's reason and search, and keeps line breaks in a reason", () => {
    const orderId = "5b0f8f1e-8d2e-4c4a-9a55-0d7d7c9b5a11";
    expect(OrderAdmin.CancelInput.safeParse({ orderId, reason: "bad\u0000actor" }).success).toBe(false);
    expect(OrderAdmin.RefundInput.safeParse({ orderId, amount: 1, reason: "broken \ud800" }).success).toBe(false);
    expect(OrderAdmin.CancelInput.safeParse({ orderId, reason: "Customer called.\nCancel it." }).success).toBe(true);
    expect(OrderAdmin.ListInput.safeParse({ query: ".è \udc3a" }).success).toBe(false);
    expect(OrderAdmin.ListInput.safeParse({ query: "ada@" }).success).toBe(true);
  });
});
