// The fuzz generator itself: values built from zod schemas pass them, and mutants are near misses of the right size.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  CartAddLineInput,
  CartCreateInput,
  CatalogListInput,
  OrderAdmin,
  OrderInvariants,
  PlaceOrderInput,
  SetContactInput,
  SetShippingAddressInput,
  ApplyPromoCodeInput,
} from "@checkout/core";
import { arbitraryOf, mutantsOf, schemaAt } from "./support/zod-arbitrary.ts";

const seed = 20_261_124;

const everyKind = z.strictObject({
  name: z.string().trim().min(2).max(10),
  code: z.string().regex(/^[A-Z]{3}-\d{2}$/),
  email: z.email(),
  id: z.uuid(),
  count: z.int().min(-3).max(3),
  ratio: z.number().gt(0).lt(1),
  kind: z.enum(["a", "b"]),
  fixed: z.literal("yes"),
  tags: z.array(z.string().min(1)).min(1).max(3),
  maybe: z.string().optional(),
  nothing: z.int().nullable(),
  either: z.union([z.int(), z.strictObject({ nested: z.boolean() })]),
  lookup: z.record(z.string(), z.int().nonnegative()),
  pair: z.tuple([z.string(), z.int()]),
  defaulted: z.int().positive().default(1),
  upper: z
    .string()
    .min(1)
    .transform((value) => value.toUpperCase()),
});

describe("arbitraryOf", () => {
  it.each([
    ["a schema with every supported kind", everyKind],
    ["cart.create (a defaulted object)", CartCreateInput],
    ["catalog.list", CatalogListInput],
    ["cart.addLine", CartAddLineInput],
    ["checkout.setContact (a trimmed, piped email)", SetContactInput],
    ["checkout.applyPromoCode (a transform)", ApplyPromoCodeInput],
    ["checkout.placeOrder", PlaceOrderInput],
    ["admin.orders.list", OrderAdmin.ListInput],
    ["admin.orders.refund", OrderAdmin.RefundInput],
    ["admin.invariants (an optional object with an array)", OrderInvariants.CheckInput],
  ])("generates values that %s accepts", (_name, schema) => {
    fc.assert(
      fc.property(arbitraryOf(schema), (value) => {
        const result = schema.safeParse(value);
        if (!result.success) throw new Error(`${JSON.stringify(value)}: ${result.error.message}`);
      }),
      // 100 values reach every branch of these schemas (each optional, nullable, union and enum both ways).
      { seed, numRuns: 100 },
    );
  });

  it("uses the arbitraries given for named keys, at any depth", () => {
    const address = fc.constant({ name: "Ada", line1: "1 Main St", city: "Paris", postalCode: "75008", country: "FR" });
    const values = fc.sample(arbitraryOf(SetShippingAddressInput, { fields: { cartId: fc.constant("real-cart"), address } }), { seed, numRuns: 50 });
    expect(values.every((value) => (value as { cartId: string }).cartId === "real-cart")).toBe(true);
    expect(values.every((value) => SetShippingAddressInput.safeParse({ ...(value as object), cartId: crypto.randomUUID() }).success)).toBe(true);
  });

  it("names an unsupported schema kind instead of generating nonsense", () => {
    expect(() => arbitraryOf(z.bigint())).toThrow(/"bigint" is not supported/);
  });
});

describe("schemaAt", () => {
  it("finds the schema of a nested key through wrappers and arrays", () => {
    expect(schemaAt(SetShippingAddressInput, ["address", "postalCode"])?._zod.def.type).toBe("string");
    expect(schemaAt(OrderInvariants.CheckInput, ["orderNumbers", 3])?._zod.def.type).toBe("string");
    expect(schemaAt(PlaceOrderInput, ["nope"])).toBeUndefined();
  });
});

describe("mutantsOf", () => {
  const mutants = fc.sample(mutantsOf(CartAddLineInput, arbitraryOf(CartAddLineInput), { maxBodyBytes: 4096 }), { seed, numRuns: 600 });

  it("mostly produces inputs the schema refuses", () => {
    const refused = mutants.filter((mutant) => {
      if (mutant.json === undefined) return true;
      try {
        return !CartAddLineInput.safeParse(JSON.parse(mutant.json)).success;
      } catch {
        return true; // not JSON at all
      }
    });
    expect(refused.length / mutants.length).toBeGreaterThan(0.85);
  });

  it("covers each family of near miss", () => {
    const families = [
      /^drop key/,
      /\+ key "__proto__"/,
      /\+ key "constructor"/,
      /at a bound/,
      /nested \d+ deep/,
      /copies\]/,
      / × \d+$/,
      /"NaN"|"Infinity"/,
      /= 1e400/,
      /^body /,
      /^every string \+ "\\u0000"/,
    ];
    for (const family of families)
      expect(
        mutants.some((mutant) => family.test(mutant.mutation)),
        String(family),
      ).toBe(true);
  });

  it("keeps __proto__ an own key of the JSON, as a client can send it", () => {
    const polluted = mutants.find((mutant) => mutant.mutation.includes('+ key "__proto__"'))!;
    expect(polluted.json).toContain('"__proto__":');
    expect(Object.keys(JSON.parse(polluted.json!))).toContain("__proto__");
  });

  it("sizes huge strings, long arrays and deep nesting around the body limit", () => {
    const sized = mutants.filter((mutant) => / × \d+$|copies\]|nested \d+ deep/.test(mutant.mutation));
    const bytes = sized.map((mutant) => Buffer.byteLength(mutant.json ?? ""));
    expect(bytes.some((size) => size > 2048 && size <= 4096)).toBe(true);
    expect(bytes.some((size) => size > 4096)).toBe(true);
    expect(Math.max(...bytes)).toBeLessThan(4096 * 2);
  });
});
