// A fresh, migrated and seeded database per test file, dropped afterwards: core's test databases (copies of a template
// built once per server), with the API tests' application_name.
import { createTestDatabase as createCoreTestDatabase, type TestDatabase, type TestDatabaseOptions } from "../../../core/test/support/test-database.ts";
// The admin URL of the server the run shares, as the global setup provides it (its ProvidedContext declaration).
import type {} from "../postgres.global-setup.ts";

export type { TestDatabase };

export function createTestDatabase(options: Omit<TestDatabaseOptions, "applicationName"> = {}): Promise<TestDatabase> {
  return createCoreTestDatabase({ applicationName: "checkout-test", ...options });
}
