import { describe, expect, it } from "vitest";
import { lineTotal, priceCart, subtotal } from "./pricing.ts";
import { quoteShippingOptions } from "./shipping.ts";
import { isTaxInclusive, taxIncludedIn, taxRateFor } from "./tax.ts";
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
    expect(
      subtotal([
        { unitPrice: 2400, quantity: 2 },
        { unitPrice: 6400, quantity: 1 },
      ]),
    ).toBe(11200);
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
      lines: [
        { ...tee, quantity: 2 },
        { ...lamp, quantity: 1 },
      ],
      address: { country: "US", region: "CA" },
      shippingOptionId: "express",
    });
    expect(priced.subtotal).toBe(2 * 2400 + 6400);
    // 0.44 + 1.6 kg = 2.04 kg: base plus two started kilograms.
    expect(priced.shipping).toBe(1999 + 2 * 300);
    expect(priced.tax).toBe(Math.floor(((11200 + 2599) * 725 + 5000) / 10000));
    expect(priced.total).toBe(priced.subtotal + priced.shipping + priced.tax);
    expect(priced).toMatchObject({ discount: 0, promoCode: null, taxInclusive: false });
  });

  it("allocates the tax to lines and shipping so the parts add up to the order's tax", () => {
    const priced = priceCart({
      currency: "EUR",
      lines: [
        { ...tee, unitPrice: 333, quantity: 1 },
        { ...tee, sku: "TEE-2", unitPrice: 333, quantity: 1 },
        { ...lamp, unitPrice: 334, quantity: 1 },
      ],
      address: { country: "FR" },
      shippingOptionId: "standard",
    });
    const allocated = priced.lines.reduce((total, line) => total + line.tax, 0) + priced.shippingTax;
    expect(allocated).toBe(priced.tax);
  });

  it("keeps EUR totals at the shown prices, the VAT being the part of them that is tax", () => {
    const priced = priceCart({ currency: "EUR", lines: [{ ...tee, unitPrice: 11900, quantity: 1 }], address: { country: "DE" }, shippingOptionId: "standard" });
    // 119.00 is over the 70.00 free-shipping threshold; 19 % VAT inside 119.00 is 19.00.
    expect(priced).toMatchObject({ subtotal: 11900, shipping: 0, tax: 1900, taxInclusive: true, total: 11900 });
  });

  it("charges no tax where the destination has none", () => {
    const priced = priceCart({ currency: "USD", lines: [{ ...tee, quantity: 1 }], address: { country: "US", region: "OR" }, shippingOptionId: "standard" });
    expect(priced.tax).toBe(0);
    expect(priced.total).toBe(2400 + 599);
  });

  it("fails with a typed error for an unknown shipping option", () => {
    expect(() => priceCart({ currency: "USD", lines: [{ ...tee, quantity: 1 }], address: { country: "US" }, shippingOptionId: "drone" as "standard" })).toThrow(AppError);
  });
});

describe("taxIncludedIn", () => {
  it("is gross × rate / (1 + rate), rounded half up", () => {
    expect(taxIncludedIn(11900, 1900)).toBe(1900);
    expect(taxIncludedIn(1000, 2000)).toBe(167); // 166.67
    expect(taxIncludedIn(3, 2000)).toBe(1); // 0.5 rounds up
    expect(taxIncludedIn(2, 2000)).toBe(0);
    expect(taxIncludedIn(12345, 0)).toBe(0);
  });
});

describe("isTaxInclusive", () => {
  it("adds tax on top of USD prices and finds it inside EUR prices", () => {
    expect(isTaxInclusive("USD")).toBe(false);
    expect(isTaxInclusive("EUR")).toBe(true);
  });
});

describe("priceCart with a promotion", () => {
  const tenPercent = { code: "WELCOME10", kind: "percentage", percentBasisPoints: 1000, currency: null } as const;

  it("takes a percentage off the goods, not the shipping, and taxes the discounted amount", () => {
    const priced = priceCart({
      currency: "USD",
      lines: [{ ...tee, quantity: 2 }],
      address: { country: "US", region: "CA" },
      shippingOptionId: "standard",
      promotion: tenPercent,
    });
    expect(priced).toMatchObject({ subtotal: 4800, discount: 480, shipping: 599, promoCode: "WELCOME10" });
    expect(priced.tax).toBe(Math.floor(((4800 - 480 + 599) * 725 + 5000) / 10000));
    expect(priced.total).toBe(4800 - 480 + 599 + priced.tax);
    expect(priced.lines[0]?.discount).toBe(480);
  });

  it("splits the discount across lines by largest remainder so the parts add up exactly", () => {
    const priced = priceCart({
      currency: "USD",
      lines: [
        { ...tee, unitPrice: 100, quantity: 1 },
        { ...tee, sku: "B", unitPrice: 100, quantity: 1 },
        { ...tee, sku: "C", unitPrice: 100, quantity: 1 },
      ],
      address: { country: "US", region: "OR" },
      shippingOptionId: "standard",
      promotion: { code: "TEN", kind: "fixed", amount: 100, currency: "USD" },
    });
    // 100 over three equal lines: 34 + 33 + 33, the tie going to the first line.
    expect(priced.lines.map((line) => line.discount)).toEqual([34, 33, 33]);
    expect(priced.discount).toBe(100);
  });

  it("never takes off more than the goods, however large the fixed amount", () => {
    const priced = priceCart({
      currency: "USD",
      lines: [{ ...tee, quantity: 1 }],
      address: { country: "US", region: "CA" },
      shippingOptionId: "standard",
      promotion: { code: "HUGE", kind: "fixed", amount: 1_000_000, currency: "USD" },
    });
    expect(priced.discount).toBe(2400);
    expect(priced.lines[0]?.discount).toBe(2400);
    expect(priced.total).toBe(599 + Math.floor((599 * 725 + 5000) / 10000));
  });

  it("keeps free shipping earned by the subtotal before the discount", () => {
    const priced = priceCart({
      currency: "USD",
      lines: [{ ...tee, quantity: 4 }],
      address: { country: "US", region: "OR" },
      shippingOptionId: "standard",
      promotion: { code: "SAVE5", kind: "fixed", amount: 500, currency: "USD" },
    });
    expect(priced.subtotal).toBe(9600);
    expect(priced.shipping).toBe(0);
    expect(priced.total).toBe(9100);
  });

  it("takes the discount off a tax-inclusive EUR total and recomputes the VAT inside it", () => {
    const priced = priceCart({
      currency: "EUR",
      lines: [{ ...tee, unitPrice: 2200, quantity: 1 }],
      address: { country: "DE" },
      shippingOptionId: "standard",
      promotion: { code: "EURO5", kind: "fixed", amount: 500, currency: "EUR" },
    });
    expect(priced).toMatchObject({ subtotal: 2200, discount: 500, shipping: 499, taxInclusive: true });
    expect(priced.total).toBe(2200 - 500 + 499);
    expect(priced.tax).toBe(taxIncludedIn(2200 - 500 + 499, 1900));
    expect(priced.lines[0]!.tax + priced.shippingTax).toBe(priced.tax);
  });

  it("refuses a fixed amount in another currency instead of converting it", () => {
    expect(() =>
      priceCart({
        currency: "EUR",
        lines: [{ ...tee, quantity: 1 }],
        address: { country: "DE" },
        shippingOptionId: "standard",
        promotion: { code: "SAVE5", kind: "fixed", amount: 500, currency: "USD" },
      }),
    ).toThrow(expect.objectContaining({ code: "PROMO_INVALID" }));
  });
});
