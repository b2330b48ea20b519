// The payment sandbox as the tests look into it: the test app's own sandbox, and the authorisations it made.
import type { PaymentSandbox } from "@checkout/payment-sandbox";
import type { TestApp } from "./app.ts";

/** The test app's in-process payment sandbox (fails when the app runs without one). */
export function sandboxOf(t: TestApp): PaymentSandbox {
  const running = t.app.paymentSandbox;
  if (!running) throw new Error("these tests need the payment sandbox");
  return running;
}

/** The authorisations the sandbox made for `reference` (an order number), as its debug dump lists them. */
export function authorizationsFor(sandbox: PaymentSandbox, reference: string) {
  return sandbox.debugDump().authorizations.filter((authorization) => authorization.reference === reference);
}
