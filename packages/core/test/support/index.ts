// Core's test support: a database per test file on the run's PostgreSQL, fixtures, and a fake payment provider.
export { createTestDatabase, type TestDatabase, type TestDatabaseOptions } from "./test-database.ts";
export { DE_ADDRESS, US_ADDRESS, quotedCart, readyCart, setStock, stockOf, type ReadyCartOptions } from "./fixtures.ts";
export { FAKE_CARD, createFakePaymentProvider, type AuthorizeAnswer, type FakeCall, type FakeMethod, type FakePaymentProvider } from "./fake-payment-provider.ts";
export { actionsOf, checkout, newToken, paymentsOf, placeOrder, type PlaceOptions, type PlaceResult } from "./orders.ts";
export { refusal } from "./refusal.ts";
