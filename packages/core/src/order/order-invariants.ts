// The shop's invariants, checked in one consistent snapshot: orders never exceed stock, every paid
// order has exactly one charge for its total, no money is held for an order that is not paid, and
// (when asked) every order a client saw acknowledged exists exactly once. For operators and for the
// load tester's post-run verdict; it reads only, and the call itself is audited.
import type { Kysely } from "kysely";
import { z } from "zod";
import type { Database } from "../db/database.ts";
import type { OrderStatus } from "../schemas.ts";
import * as Audit from "../audit/audit.repository.ts";
import * as InvariantsRepository from "./order-invariants.repository.ts";
import type { ChargeShape, StockBalanceRow } from "./order-invariants.repository.ts";
import type { Acting } from "./order-admin.ts";

export type Invariant = "stock" | "charges" | "orders";

export type ViolationKind =
  /** available < 0 (the CHECK constraint forbids it; here for completeness). */
  | "stock_negative"
  /** Live orders hold more units of a SKU than were ever received. */
  | "oversold"
  /** available + units held by live orders differs from the units received: units appeared or vanished. */
  | "stock_unbalanced"
  /** An order with more than one charge or more than one capture. */
  | "duplicate_charge"
  /** A paid order (authorised or later) without its charge, or a captured one without its capture. */
  | "missing_charge"
  /** Money held or taken for an order that is pending, failed or cancelled. */
  | "charge_without_paid_order"
  /** An authorised (not captured) order whose payment was captured. */
  | "charge_status_mismatch"
  /** A charge for another amount or currency than the order's total, or a capture of another amount. */
  | "charge_amount_mismatch"
  /** An order whose status the state machine does not know. */
  | "unknown_order_status"
  /** An order number a client saw acknowledged that is not in the database. */
  | "order_missing"
  /** An order number that appears more than once. */
  | "order_duplicated";

export interface Violation {
  invariant: Invariant;
  kind: ViolationKind;
  /** The SKU or order number concerned. */
  subject: string;
  detail: string;
}

export interface InvariantCheck {
  invariant: Invariant;
  passed: boolean;
  /** Every violation found, including those beyond the listed ones. */
  violations: number;
  byKind: Partial<Record<ViolationKind, number>>;
}

export interface InvariantReport {
  /** When the snapshot was taken. */
  checkedAt: string;
  passed: boolean;
  checks: InvariantCheck[];
  /** At most MAX_LISTED_VIOLATIONS; `checks` has the full counts. */
  violations: Violation[];
  stock: { skus: number; unitsReceived: number; unitsAvailable: number; unitsHeld: number };
  orders: { total: number; byStatus: Record<string, number> };
  charges: {
    /** Open authorisations plus captures (refunded or not). */
    total: number;
    authorised: number;
    captured: number;
    byCurrency: { currency: string; authorisedAmount: number; capturedAmount: number; refundedAmount: number }[];
  };
  /** How many order numbers were confirmed, when some were passed. */
  orderNumbersChecked: number;
}

/** Per call: 4,000 order numbers fit in the API's default 64 KiB request body (send them with POST). */
export const MAX_ORDER_NUMBERS = 4000;
export const MAX_LISTED_VIOLATIONS = 100;
/** Orders named per (status, charges, captures) shape that breaks a rule. */
const EXAMPLES_PER_SHAPE = 20;

export const CheckInput = z
  .strictObject({
    /** Order numbers a client saw acknowledged; each must exist exactly once. */
    orderNumbers: z
      .array(z.string().regex(/^\d{1,20}$/, "an order number is digits, e.g. 100001"))
      .max(MAX_ORDER_NUMBERS, `at most ${MAX_ORDER_NUMBERS} order numbers per call`)
      .optional(),
  })
  .optional();

/** Charges and captures each order status must have: states and their money, as data. */
export const expectedCharges: Record<OrderStatus, { charges: 0 | 1; captures: 0 | 1 }> = {
  pending_payment: { charges: 0, captures: 0 },
  payment_failed: { charges: 0, captures: 0 },
  cancelled: { charges: 0, captures: 0 },
  authorised: { charges: 1, captures: 0 },
  captured: { charges: 1, captures: 1 },
  fulfilled: { charges: 1, captures: 1 },
  partially_refunded: { charges: 1, captures: 1 },
  refunded: { charges: 1, captures: 1 },
};

function isKnownStatus(status: string): status is OrderStatus {
  return Object.hasOwn(expectedCharges, status);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** What is wrong with one SKU's stock, if anything. */
export function judgeStock(row: StockBalanceRow): Violation[] {
  const violations: Violation[] = [];
  const available = row.available ?? 0;
  const received = row.stock_received ?? 0;
  const subject = row.sku;
  const noRow = row.available === null ? " (it has no inventory row)" : "";
  if (available < 0) violations.push({ invariant: "stock", kind: "stock_negative", subject, detail: `SKU ${subject}: available is ${available}` });
  if (row.held > received) {
    violations.push({
      invariant: "stock",
      kind: "oversold",
      subject,
      detail: `SKU ${subject}: live orders hold ${plural(row.held, "unit")} but only ${received} were ever received${noRow}`,
    });
  }
  const accounted = available + row.held;
  if (accounted !== received) {
    const difference = accounted > received ? `${accounted - received} more than` : `${received - accounted} fewer than`;
    violations.push({
      invariant: "stock",
      kind: "stock_unbalanced",
      subject,
      detail: `SKU ${subject}: ${available} available + ${row.held} held by live orders = ${accounted}, ${difference} the ${received} received${noRow}`,
    });
  }
  return violations;
}

/** Which rules an order of this shape breaks: none for a consistent order. */
export function judgeChargeShape(shape: ChargeShape): ViolationKind[] {
  if (!isKnownStatus(shape.status)) return ["unknown_order_status"];
  const expected = expectedCharges[shape.status];
  const kinds: ViolationKind[] = [];
  if (shape.charges > 1 || shape.captures > 1) kinds.push("duplicate_charge");
  else if (shape.charges > 0 && expected.charges === 0) kinds.push("charge_without_paid_order");
  else if (shape.charges < expected.charges || shape.captures < expected.captures) kinds.push("missing_charge");
  else if (shape.captures > expected.captures) kinds.push("charge_status_mismatch");
  if (!shape.amounts_match) kinds.push("charge_amount_mismatch");
  return kinds;
}

function describeOrder(order: InvariantsRepository.OrderChargesRow, kind: ViolationKind): string {
  const head = `order ${order.number} (${order.status}, total ${order.total} ${order.currency})`;
  const has = `has ${plural(order.charges, "charge")} (${plural(order.captures, "capture")})`;
  switch (kind) {
    case "duplicate_charge":
      return `${head} ${has}; expected at most one`;
    case "charge_without_paid_order":
      return `${head} ${has}; an order that is not paid must hold no money`;
    case "missing_charge": {
      const expected = expectedCharges[order.status as OrderStatus];
      return `${head} ${has}; expected ${plural(expected.charges, "charge")} (${plural(expected.captures, "capture")})`;
    }
    case "charge_status_mismatch":
      return `${head} ${has}; its payment was captured but the order was not`;
    case "charge_amount_mismatch":
      return `${head}: a charge or capture differs from the order's total or currency`;
    default:
      return `${head} has status "${order.status}", which the order state machine does not know`;
  }
}

function countKinds(violations: { kind: ViolationKind; count: number }[]): Partial<Record<ViolationKind, number>> {
  const byKind: Partial<Record<ViolationKind, number>> = {};
  for (const { kind, count } of violations) byKind[kind] = (byKind[kind] ?? 0) + count;
  return byKind;
}

function toCheck(invariant: Invariant, counted: { kind: ViolationKind; count: number }[]): InvariantCheck {
  const violations = counted.reduce((sum, v) => sum + v.count, 0);
  return { invariant, passed: violations === 0, violations, byKind: countKinds(counted) };
}

/**
 * Checks the invariants in one REPEATABLE READ, read-only transaction, so stock, orders and
 * payments are seen at the same instant even while orders are being placed. The audit record is
 * written afterwards in its own transaction (the audit chain is sealed under READ COMMITTED).
 */
export async function check(input: { db: Kysely<Database>; orderNumbers?: readonly string[] } & Acting): Promise<InvariantReport> {
  const orderNumbers = [...new Set(input.orderNumbers ?? [])];
  const checkedAt = new Date().toISOString();
  const snapshot = await input.db
    .transaction()
    .setIsolationLevel("repeatable read")
    .setAccessMode("read only")
    .execute(async (trx) => {
      const stock = await InvariantsRepository.listStockBalances(trx);
      const ordersByStatus = await InvariantsRepository.countOrdersByStatus(trx);
      const payments = await InvariantsRepository.summarizePayments(trx);
      const shapes = await InvariantsRepository.countOrdersByChargeShape(trx);
      const examples = new Map<ChargeShape, InvariantsRepository.OrderChargesRow[]>();
      for (const shape of shapes) {
        if (judgeChargeShape(shape).length > 0) examples.set(shape, await InvariantsRepository.listOrdersOfChargeShape(trx, shape, EXAMPLES_PER_SHAPE));
      }
      const found = await InvariantsRepository.countOrdersByNumber(trx, orderNumbers);
      return { stock, ordersByStatus, payments, shapes, examples, found };
    });

  const stockViolations = snapshot.stock.flatMap(judgeStock);

  const chargeViolations: Violation[] = [];
  const chargeCounts: { kind: ViolationKind; count: number }[] = [];
  for (const shape of snapshot.shapes) {
    for (const kind of judgeChargeShape(shape)) {
      chargeCounts.push({ kind, count: shape.orders });
      for (const order of snapshot.examples.get(shape) ?? []) {
        const invariant: Invariant = kind === "unknown_order_status" ? "orders" : "charges";
        chargeViolations.push({ invariant, kind, subject: order.number, detail: describeOrder(order, kind) });
      }
    }
  }

  const foundByNumber = new Map(snapshot.found.map((row) => [row.number, row.orders]));
  const orderViolations: Violation[] = [];
  for (const number of orderNumbers) {
    const rows = foundByNumber.get(number) ?? 0;
    if (rows === 0) {
      orderViolations.push({ invariant: "orders", kind: "order_missing", subject: number, detail: `order ${number} was acknowledged but is not in the database` });
    } else if (rows > 1) {
      orderViolations.push({ invariant: "orders", kind: "order_duplicated", subject: number, detail: `order ${number} exists ${rows} times` });
    }
  }

  const unknownStatus = chargeCounts.filter((c) => c.kind === "unknown_order_status");
  const checks: InvariantCheck[] = [
    toCheck(
      "stock",
      stockViolations.map((v) => ({ kind: v.kind, count: 1 })),
    ),
    toCheck(
      "charges",
      chargeCounts.filter((c) => c.kind !== "unknown_order_status"),
    ),
  ];
  if (orderNumbers.length > 0 || unknownStatus.length > 0) {
    checks.push(toCheck("orders", [...unknownStatus, ...orderViolations.map((v) => ({ kind: v.kind, count: 1 }))]));
  }

  const isCharge = (status: string) => status === "authorised" || status === "captured" || status === "refunded";
  const currencies = [...new Set(snapshot.payments.map((p) => p.currency))].sort();
  const report: InvariantReport = {
    checkedAt,
    passed: checks.every((c) => c.passed),
    checks,
    violations: [...stockViolations, ...chargeViolations, ...orderViolations].slice(0, MAX_LISTED_VIOLATIONS),
    stock: {
      skus: snapshot.stock.length,
      unitsReceived: snapshot.stock.reduce((sum, row) => sum + (row.stock_received ?? 0), 0),
      unitsAvailable: snapshot.stock.reduce((sum, row) => sum + (row.available ?? 0), 0),
      unitsHeld: snapshot.stock.reduce((sum, row) => sum + row.held, 0),
    },
    orders: {
      total: snapshot.ordersByStatus.reduce((sum, row) => sum + row.orders, 0),
      byStatus: Object.fromEntries(snapshot.ordersByStatus.map((row) => [row.status, row.orders])),
    },
    charges: {
      total: snapshot.payments.filter((p) => isCharge(p.status) || p.captured > 0).reduce((sum, p) => sum + p.payments, 0),
      authorised: snapshot.payments.filter((p) => p.status === "authorised").reduce((sum, p) => sum + p.payments, 0),
      captured: snapshot.payments.filter((p) => p.status === "captured" || p.status === "refunded" || p.captured > 0).reduce((sum, p) => sum + p.payments, 0),
      byCurrency: currencies.map((currency) => {
        const rows = snapshot.payments.filter((p) => p.currency === currency);
        return {
          currency,
          authorisedAmount: rows.filter((p) => p.status === "authorised").reduce((sum, p) => sum + p.amount, 0),
          capturedAmount: rows.reduce((sum, p) => sum + p.captured, 0),
          refundedAmount: rows.reduce((sum, p) => sum + p.refunded, 0),
        };
      }),
    },
    orderNumbersChecked: orderNumbers.length,
  };

  await Audit.record(input.db, {
    entity: "admin",
    entityId: input.actor,
    action: "admin.invariants_checked",
    actor: input.actor,
    origin: input.origin,
    data: { passed: report.passed, violations: Object.fromEntries(checks.map((c) => [c.invariant, c.violations])), orderNumbersChecked: orderNumbers.length },
  });
  return report;
}
