// Payments, as the rest of the system uses them: a payment's states and moves, the one reading of a provider's answer,
// `settle` (the one place an order is brought in line with that answer), capture, and the provider keys.
export * from "./payment-state.ts";
export { settle, captureIfReachable, type Settlement, type SettleOutcome, type SettleInput } from "./settle.ts";
export { capture, providerKeys, type CaptureMode } from "./payment-outcome.ts";
export { reach, required, type Reached } from "./provider-call.ts";
