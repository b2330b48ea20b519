import { describe, expect, it } from "vitest";
import type { Payload } from "./script-types.ts";
import { createVuVariablePicker } from "./vu-variables.ts";

const customers: Payload = {
  path: "/data/customers.csv",
  fields: ["email", "name"],
  order: "sequence",
  skipHeader: true,
  rows: [
    ["ada@example.com", "Ada"],
    ["grace@example.com", "Grace"],
  ],
};

describe("createVuVariablePicker", () => {
  it("walks sequence payloads row by row across virtual users, wrapping around", () => {
    const pick = createVuVariablePicker({ variables: {}, payloads: [customers] });
    expect([pick(), pick(), pick()].map((bag) => bag.email)).toEqual(["ada@example.com", "grace@example.com", "ada@example.com"]);
    expect(pick()).toEqual({ email: "grace@example.com", name: "Grace" });
  });

  it("picks random variables and random payload rows with the given random source", () => {
    const pick = createVuVariablePicker({ variables: { currency: ["EUR", "USD", "GBP"] }, payloads: [{ ...customers, order: "random" }] }, () => 0.99);
    expect(pick()).toEqual({ currency: "GBP", email: "grace@example.com", name: "Grace" });
  });

  it("gives each virtual user its own bag", () => {
    const pick = createVuVariablePicker({ variables: { currency: ["EUR"] }, payloads: [] });
    const first = pick();
    first.cartId = "c_1";
    expect(pick()).toEqual({ currency: "EUR" });
  });
});
