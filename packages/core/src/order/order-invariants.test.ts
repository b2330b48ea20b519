import { describe, expect, it } from "vitest";
import { expectedCharges, judgeChargeShape, judgeStock } from "./order-invariants.ts";
import { orderTransitions } from "./order-state.ts";

describe("judgeStock", () => {
  it("accepts a SKU whose available and held units add up to what was received", () => {
    expect(judgeStock({ sku: "LAMP", available: 3, stock_received: 15, held: 12 })).toEqual([]);
    expect(judgeStock({ sku: "LAMP", available: 0, stock_received: 15, held: 15 })).toEqual([]);
  });

  it("reports orders holding more units than were ever received as oversold (and unbalanced)", () => {
    const violations = judgeStock({ sku: "LAMP", available: 0, stock_received: 15, held: 16 });
    expect(violations.map((v) => v.kind)).toEqual(["oversold", "stock_unbalanced"]);
    expect(violations[0]!.detail).toBe("SKU LAMP: live orders hold 16 units but only 15 were ever received");
  });

  it("reports units that vanished or appeared without a record", () => {
    const lost = judgeStock({ sku: "MUG-SAN", available: 10, stock_received: 70, held: 55 });
    expect(lost).toMatchObject([{ kind: "stock_unbalanced", subject: "MUG-SAN" }]);
    expect(lost[0]!.detail).toContain("5 fewer than the 70 received");
    const extra = judgeStock({ sku: "MUG-SAN", available: 20, stock_received: 70, held: 55 });
    expect(extra[0]!.detail).toContain("5 more than the 70 received");
  });

  it("treats order lines for a SKU without an inventory row as oversold", () => {
    const violations = judgeStock({ sku: "GHOST", available: null, stock_received: null, held: 1 });
    expect(violations.map((v) => v.kind)).toEqual(["oversold", "stock_unbalanced"]);
    expect(violations[0]!.detail).toContain("no inventory row");
  });
});

describe("judgeChargeShape", () => {
  it("names an expectation for every status of the order state machine", () => {
    expect(Object.keys(expectedCharges).sort()).toEqual(Object.keys(orderTransitions).sort());
  });

  it("accepts each status with exactly the charges it should have", () => {
    for (const [status, expected] of Object.entries(expectedCharges)) {
      expect(judgeChargeShape({ status, charges: expected.charges, captures: expected.captures, amounts_match: true })).toEqual([]);
    }
  });

  it("reports a second charge or capture as a duplicate whatever the status", () => {
    expect(judgeChargeShape({ status: "captured", charges: 2, captures: 2, amounts_match: true })).toEqual(["duplicate_charge"]);
    expect(judgeChargeShape({ status: "authorised", charges: 2, captures: 0, amounts_match: true })).toEqual(["duplicate_charge"]);
    expect(judgeChargeShape({ status: "cancelled", charges: 2, captures: 1, amounts_match: true })).toEqual(["duplicate_charge"]);
  });

  it("reports money held or taken for an order that is not paid", () => {
    for (const status of ["pending_payment", "payment_failed", "cancelled"]) {
      expect(judgeChargeShape({ status, charges: 1, captures: 0, amounts_match: true })).toEqual(["charge_without_paid_order"]);
    }
  });

  it("reports a paid order without its charge, and a captured order whose payment is only authorised", () => {
    expect(judgeChargeShape({ status: "fulfilled", charges: 0, captures: 0, amounts_match: true })).toEqual(["missing_charge"]);
    expect(judgeChargeShape({ status: "captured", charges: 1, captures: 0, amounts_match: true })).toEqual(["missing_charge"]);
    expect(judgeChargeShape({ status: "authorised", charges: 1, captures: 1, amounts_match: true })).toEqual(["charge_status_mismatch"]);
  });

  it("reports a charge for another amount alongside any count problem", () => {
    expect(judgeChargeShape({ status: "captured", charges: 1, captures: 1, amounts_match: false })).toEqual(["charge_amount_mismatch"]);
    expect(judgeChargeShape({ status: "captured", charges: 2, captures: 2, amounts_match: false })).toEqual(["duplicate_charge", "charge_amount_mismatch"]);
  });

  it("reports a status the state machine does not know", () => {
    expect(judgeChargeShape({ status: "shipped", charges: 1, captures: 1, amounts_match: true })).toEqual(["unknown_order_status"]);
  });
});
