// The wire contract between the API (the processor's client) and the payment sandbox (a stand-in processor): one
// owner for what both ends must agree on, so neither copies it and the production bundle needs none of the sandbox.
export { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature, type SignatureCheck } from "./webhook-signature.ts";

/** The sandbox's local account key: what a local sandbox accepts and the API sends when PAYMENT_SECRET_KEY is unset. Never a real key. */
export const LOCAL_SANDBOX_SECRET_KEY = "sk_sandbox_local_development_only";
