// The checkout domain, one namespace per noun.
export * as Money from "./money.ts";
export * as Pricing from "./pricing/index.ts";
export * as Catalog from "./catalog/catalog.ts";
export { createCatalogReader, type CatalogReader } from "./catalog/catalog-cache.ts";
export * as Cart from "./cart/cart.ts";
export * as Checkout from "./checkout/checkout.ts";
export * as Order from "./order/order.ts";
export * as OrderState from "./order/order-state.ts";
export * as Inventory from "./inventory/inventory.repository.ts";
export * as Audit from "./audit/audit.repository.ts";
export * as PaymentOutcome from "./payment/payment-outcome.ts";
export * as Outbox from "./outbox/outbox.repository.ts";
export * as Idempotency from "./idempotency/idempotency.ts";
export { seedCatalog, seedProducts, productImagePath } from "./catalog/seed-catalog.ts";
export { AppError, isAppError, errorCodes, type ErrorCode } from "./error.ts";
export * from "./payment/payment-provider.ts";
export * from "./schemas.ts";
export * from "./db/index.ts";
