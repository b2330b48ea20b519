import { describe, expect, it } from "vitest";
import { assertTransition, canTransition, orderTransitions } from "./order-state.ts";
import { AppError } from "../error.ts";
import type { OrderStatus } from "../schemas.ts";

describe("orderTransitions", () => {
  it("only names known states as targets", () => {
    const states = Object.keys(orderTransitions) as OrderStatus[];
    for (const state of states) for (const target of orderTransitions[state].to) expect(states).toContain(target);
  });

  it("makes refunded, cancelled and payment_failed final", () => {
    for (const state of ["refunded", "cancelled", "payment_failed"] as const) expect(orderTransitions[state].to).toEqual([]);
  });
});

describe("canTransition", () => {
  it("follows the happy path pending_payment → authorised → captured → fulfilled", () => {
    expect(canTransition("pending_payment", "authorised")).toBe(true);
    expect(canTransition("authorised", "captured")).toBe(true);
    expect(canTransition("captured", "fulfilled")).toBe(true);
  });

  it("refuses skipping payment or going backwards", () => {
    expect(canTransition("pending_payment", "captured")).toBe(false);
    expect(canTransition("captured", "authorised")).toBe(false);
    expect(canTransition("payment_failed", "authorised")).toBe(false);
  });
});

describe("assertTransition", () => {
  it("throws a typed ILLEGAL_TRANSITION error naming both states", () => {
    expect(() => assertTransition("refunded", "captured")).toThrow(AppError);
    try {
      assertTransition("refunded", "captured");
    } catch (error) {
      expect((error as AppError).code).toBe("ILLEGAL_TRANSITION");
      expect((error as AppError).message).toBe("An order cannot go from refunded to captured");
    }
  });
});
