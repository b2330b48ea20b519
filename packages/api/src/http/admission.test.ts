// Admission classes: operators (admin.*) have slots of their own first, so an overloaded shop still takes a
// refund; beyond them an operator waits in the shoppers' queue.
import { EventEmitter } from "node:events";
import type http from "node:http";
import { describe, expect, it } from "vitest";
import { createAdmission, OPERATOR_SLOTS } from "./admission.ts";

function exchange() {
  const req = Object.assign(new EventEmitter(), { resume: () => {}, socket: {} }) as unknown as http.IncomingMessage;
  const res = Object.assign(new EventEmitter(), { status: 0, headersSent: false, destroyed: false });
  const wire = Object.assign(res, {
    writeHead(status: number) {
      res.status = status;
      return wire;
    },
    end() {
      res.emit("close");
    },
  });
  return { req, res: res as unknown as http.ServerResponse & { status: number } };
}

describe("admit by class", () => {
  it("runs an operator's call while every shopper slot is taken, up to the operators' own slots, then queues it with shoppers", () => {
    const admission = createAdmission({ maxInFlight: 1, maxQueue: 0, queueTimeoutMs: 100, retryAfterSeconds: 1 });
    const shopper = exchange();
    let ran = 0;
    admission.admit(shopper.req, shopper.res, "cart.get", () => ran++);
    const shed = exchange();
    admission.admit(shed.req, shed.res, "cart.get", () => ran++);
    expect(shed.res.status).toBe(503);

    const operators = Array.from({ length: OPERATOR_SLOTS + 1 }, exchange);
    for (const operator of operators) admission.admit(operator.req, operator.res, "admin.orders.refund", () => ran++, "operator");
    expect(ran).toBe(1 + OPERATOR_SLOTS);
    // The one beyond the operators' slots is treated as a shopper: no slot, no queue here, so shed.
    expect(operators.at(-1)!.res.status).toBe(503);

    // An operator finishing frees an operator slot, never a shopper one.
    operators[0]!.res.emit("close");
    const shopperAgain = exchange();
    admission.admit(shopperAgain.req, shopperAgain.res, "cart.get", () => ran++);
    expect(shopperAgain.res.status).toBe(503);
    const operatorAgain = exchange();
    admission.admit(operatorAgain.req, operatorAgain.res, "admin.invariants", () => ran++, "operator");
    expect(ran).toBe(2 + OPERATOR_SLOTS);
  });

  it("queues operators beyond their own slots behind the shoppers' slots instead of shedding them", () => {
    const admission = createAdmission({ maxInFlight: 1, maxQueue: 10, queueTimeoutMs: 10_000, retryAfterSeconds: 1 });
    let ran = 0;
    const calls = Array.from({ length: OPERATOR_SLOTS + 2 }, exchange);
    for (const call of calls) admission.admit(call.req, call.res, "admin.orders.refund", () => ran++, "operator");
    // The operators' own slots, then the one shopper slot; the last waits in the queue.
    expect(ran).toBe(OPERATOR_SLOTS + 1);
    expect(calls.every((call) => call.res.status === 0)).toBe(true);
    calls[OPERATOR_SLOTS]!.res.emit("close");
    expect(ran).toBe(OPERATOR_SLOTS + 2);
  });
});
