// The payment sandbox's public face: start one in-process (the API's local start, tests, drills) and the test cards
// it knows. The command (bin/payment-sandbox.js, src/cli.ts) runs one on its own.
export { startPaymentSandbox, type PaymentSandbox, type PaymentSandboxOptions } from "./sandbox-server.ts";
export { DECLINE_MESSAGES, TEST_CARDS, type CardBehaviour, type DeclineCode, type TestCard } from "./test-cards.ts";
export type { SandboxStateSnapshot } from "./sandbox-store.ts";
export type { WebhookEvent, WebhookEventType } from "./webhook-sender.ts";
