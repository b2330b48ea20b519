// Property tests for priceCart: for any cart, destination, currency and promotion, the money adds up.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { currencies, type Currency } from "../money.ts";
import { countryCodes, US_STATES } from "../schemas.ts";
import type { PromotionTerms } from "../promotion/promotion.ts";
import { priceCart, type PricedLineInput } from "./pricing.ts";
import { isTaxInclusive, taxIncludedIn, taxRateFor } from "./tax.ts";

const line: fc.Arbitrary<PricedLineInput> = fc.record({
  sku: fc.stringMatching(/^[A-Z][A-Z0-9-]{0,11}$/),
  productName: fc.constant("Product"),
  variantName: fc.constant("Default"),
  unitPrice: fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 500 })),
  quantity: fc.integer({ min: 1, max: 99 }),
  weightGrams: fc.integer({ min: 0, max: 5_000 }),
});

const address = fc.record({
  country: fc.constantFrom(...countryCodes),
  region: fc.option(fc.constantFrom(...US_STATES, "ca", "XX"), { nil: undefined }),
});

function promotionFor(currency: Currency): fc.Arbitrary<PromotionTerms | null> {
  return fc.oneof(
    fc.constant(null),
    fc.record({
      code: fc.constant("PERCENT"),
      kind: fc.constant("percentage" as const),
      percentBasisPoints: fc.integer({ min: 1, max: 10_000 }),
      currency: fc.constantFrom(null, currency),
    }),
    fc.record({
      code: fc.constant("FIXED"),
      kind: fc.constant("fixed" as const),
      amount: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 100_000_000 })),
      currency: fc.constant(currency),
    }),
  );
}

const cart = fc.constantFrom(...currencies).chain((currency) =>
  fc.record({
    currency: fc.constant(currency),
    lines: fc.array(line, { minLength: 0, maxLength: 8 }),
    address,
    shippingOptionId: fc.constantFrom("standard" as const, "express" as const),
    promotion: promotionFor(currency),
  }),
);

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

describe("priceCart properties", () => {
  it("never produces a negative amount anywhere", () => {
    fc.assert(
      fc.property(cart, (input) => {
        const priced = priceCart(input);
        for (const amount of [priced.subtotal, priced.discount, priced.shipping, priced.shippingTax, priced.tax, priced.total]) {
          expect(amount).toBeGreaterThanOrEqual(0);
        }
        for (const pricedLine of priced.lines) {
          expect(pricedLine.discount).toBeGreaterThanOrEqual(0);
          expect(pricedLine.tax).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("splits discount and tax into line parts that sum exactly to the order's", () => {
    fc.assert(
      fc.property(cart, (input) => {
        const priced = priceCart(input);
        expect(sum(priced.lines.map((l) => l.discount))).toBe(priced.discount);
        expect(sum(priced.lines.map((l) => l.tax)) + priced.shippingTax).toBe(priced.tax);
        expect(sum(priced.lines.map((l) => l.lineTotal))).toBe(priced.subtotal);
      }),
      { numRuns: 500 },
    );
  });

  it("keeps the total identity: tax added on top when exclusive, contained when inclusive", () => {
    fc.assert(
      fc.property(cart, (input) => {
        const priced = priceCart(input);
        const paidFor = priced.subtotal - priced.discount + priced.shipping;
        expect(priced.taxInclusive).toBe(isTaxInclusive(input.currency));
        if (priced.taxInclusive) {
          expect(priced.total).toBe(paidFor);
          expect(priced.tax).toBe(taxIncludedIn(paidFor, taxRateFor(input.address)));
          expect(priced.tax).toBeLessThanOrEqual(priced.total);
        } else {
          expect(priced.total).toBe(paidFor + priced.tax);
        }
        expect(priced.taxRateBasisPoints).toBe(taxRateFor(input.address));
      }),
      { numRuns: 500 },
    );
  });

  it("prices every output in the cart's currency, never mixing", () => {
    fc.assert(
      fc.property(cart, (input) => {
        const priced = priceCart(input);
        expect(priced.currency).toBe(input.currency);
        expect(priced.shippingOption.currency).toBe(input.currency);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses a fixed promotion in any other currency rather than mixing", () => {
    fc.assert(
      fc.property(cart, fc.integer({ min: 1, max: 100_000 }), (input, amount) => {
        const other = currencies.find((currency) => currency !== input.currency)!;
        expect(() => priceCart({ ...input, promotion: { code: "OTHER", kind: "fixed", amount, currency: other } })).toThrow(expect.objectContaining({ code: "PROMO_INVALID" }));
      }),
      { numRuns: 100 },
    );
  });

  it("never discounts more than the goods, nor any line more than its own total, nor touches shipping", () => {
    fc.assert(
      fc.property(cart, (input) => {
        const priced = priceCart(input);
        const undiscounted = priceCart({ ...input, promotion: null });
        expect(priced.discount).toBeLessThanOrEqual(priced.subtotal);
        for (const pricedLine of priced.lines) expect(pricedLine.discount).toBeLessThanOrEqual(pricedLine.lineTotal);
        expect(priced.shipping).toBe(undiscounted.shipping);
        expect(priced.total).toBeLessThanOrEqual(undiscounted.total);
      }),
      { numRuns: 500 },
    );
  });

  it("gives each line its proportional share of the discount to within one minor unit", () => {
    fc.assert(
      fc.property(cart, (input) => {
        const priced = priceCart(input);
        if (priced.subtotal === 0) return;
        for (const pricedLine of priced.lines) {
          const exact = (priced.discount * pricedLine.lineTotal) / priced.subtotal;
          expect(Math.abs(pricedLine.discount - exact)).toBeLessThan(1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("computes the discount from the terms alone: a rounded percentage or the capped amount", () => {
    fc.assert(
      fc.property(cart, (input) => {
        const priced = priceCart(input);
        const promotion = input.promotion;
        if (!promotion) {
          expect(priced.discount).toBe(0);
          expect(priced.promoCode).toBeNull();
          return;
        }
        expect(priced.promoCode).toBe(promotion.code);
        const expected =
          promotion.kind === "percentage" ? Math.floor((priced.subtotal * promotion.percentBasisPoints + 5000) / 10000) : Math.min(promotion.amount, priced.subtotal);
        expect(priced.discount).toBe(Math.min(expected, priced.subtotal));
      }),
      { numRuns: 300 },
    );
  });
});
