import { describe, expect, it } from "vitest";
import { lineTotal, priceCart, subtotal } from "./pricing.ts";
import { quoteShippingOptions } from "./shipping.ts";
import { taxRateFor } from "./tax.ts";
import { AppError } from "../error.ts";

const tee = { sku: "TEE-BLA-M", productName: "Everyday Tee", variantName: "Black / M", unitPrice: 2400, weightGrams: 220 };
const lamp = { sku: "LAMP", productName: "Desk Lamp", variantName: "Default", unitPrice: 6400, weightGrams: 1600 };

describe("lineTotal", () => {
  it("multiplies the unit price by the quantity in minor units", () => {
    expect(lineTotal({ unitPrice: 2400, quantity: 3 })).toBe(7200);
  });
  it("rejects fractional prices and quantities", () => {
    expect(() => lineTotal({ unitPrice: 24.5, quantity: 1 })).toThrow(RangeError);
    expect(() => lineTotal({ unitPrice: 2400, quantity: 1.5 })).toThrow(RangeError);
  });
});

describe("subtotal", () => {
  it("adds the line totals", () => {
    expect(subtotal([{ unitPrice: 2400, quantity: 2 }, { unitPrice: 6400, quantity: 1 }])).toBe(11200);
  });
});

describe("quoteShippingOptions", () => {
  it("prices standard shipping by destination and weight", () => {
    const [standard, express] = quoteShippingOptions({ country: "US", currency: "USD", weightGrams: 2500, subtotal: 5000 });
    // 2.5 kg: the first kilogram at the base rate plus two started kilograms.
    expect(standard).toMatchObject({ id: "standard", price: 599 + 2 * 150 });
    expect(express).toMatchObject({ id: "express", price: 1999 + 2 * 300 });
  });

  it("makes standard shipping free from the threshold, but never express", () => {
    const options = quoteShippingOptions({ country: "US", currency: "USD", weightGrams: 500, subtotal: 7500 });
    expect(options.find((o) => o.id === "standard")?.price).toBe(0);
    expect(options.find((o) => o.id === "express")?.price).toBe(1999);
  });

  it("charges international destinations more than domestic ones", () => {
    const domestic = quoteShippingOptions({ country: "US", currency: "USD", weightGrams: 500, subtotal: 1000 });
    const abroad = quoteShippingOptions({ country: "VN", currency: "USD", weightGrams: 500, subtotal: 1000 });
    expect(abroad[0]!.price).toBeGreaterThan(domestic[0]!.price);
    expect(abroad[0]!.description).toMatch(/6–10/);
  });
});

describe("taxRateFor", () => {
  it("uses the region override where there is one, else the country rate", () => {
    expect(taxRateFor({ country: "US", region: "CA" })).toBe(725);
    expect(taxRateFor({ country: "US", region: "OR" })).toBe(0);
    expect(taxRateFor({ country: "DE" })).toBe(1900);
    expect(taxRateFor({ country: "GB", region: "anything" })).toBe(2000);
  });
});

describe("priceCart", () => {
  it("adds subtotal, shipping and tax into the total", () => {
    const priced = priceCart({
      currency: "USD",
      lines: [{ ...tee, quantity: 2 }, { ...lamp, quantity: 1 }],
      address: { country: "US", region: "CA" },
      shippingOptionId: "express",
    });
    expect(priced.subtotal).toBe(2 * 2400 + 6400);
    // 0.44 + 1.6 kg = 2.04 kg: base plus two started kilograms.
    expect(priced.shipping).toBe(1999 + 2 * 300);
    expect(priced.tax).toBe(Math.floor(((11200 + 2599) * 725 + 5000) / 10000));
    expect(priced.total).toBe(priced.subtotal + priced.shipping + priced.tax);
  });

  it("allocates the tax to lines and shipping so the parts add up to the order's tax", () => {
    const priced = priceCart({
      currency: "EUR",
      lines: [{ ...tee, unitPrice: 333, quantity: 1 }, { ...tee, sku: "TEE-2", unitPrice: 333, quantity: 1 }, { ...lamp, unitPrice: 334, quantity: 1 }],
      address: { country: "FR" },
      shippingOptionId: "standard",
    });
    const allocated = priced.lines.reduce((total, line) => total + line.tax, 0) + priced.shippingTax;
    expect(allocated).toBe(priced.tax);
  });

  it("charges no tax where the destination has none", () => {
    const priced = priceCart({ currency: "USD", lines: [{ ...tee, quantity: 1 }], address: { country: "US", region: "OR" }, shippingOptionId: "standard" });
    expect(priced.tax).toBe(0);
    expect(priced.total).toBe(2400 + 599);
  });

  it("fails with a typed error for an unknown shipping option", () => {
    expect(() =>
      priceCart({ currency: "USD", lines: [{ ...tee, quantity: 1 }], address: { country: "US" }, shippingOptionId: "drone" as "standard" }),
    ).toThrow(AppError);
  });
});
