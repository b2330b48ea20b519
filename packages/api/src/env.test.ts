import { describe, expect, it } from "vitest";
import { ConfigError, loadEnv } from "./env.ts";

describe("loadEnv", () => {
  it("fills in defaults for a local run", () => {
    const env = loadEnv({});
    expect(env).toMatchObject({ PORT: 3000, EMBEDDED_PG_PORT: 5488, PAYMENT_SANDBOX: true, LOG_LEVEL: "info" });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it("names every bad variable at once", () => {
    let error: unknown;
    try {
      loadEnv({ PORT: "eighty", DATABASE_URL: "not a url", LOG_LEVEL: "loud" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT:/);
    expect(message).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(message).toMatch(/LOG_LEVEL:/);
  });

  it("refuses to start production without a database instead of starting an embedded one", () => {
    expect(() => loadEnv({ NODE_ENV: "production" })).toThrow(/production needs a database: set DATABASE_URL, or DATABASE_HOST/);
    const deployed = { NODE_ENV: "production", DATABASE_HOST: "db.internal", DATABASE_NAME: "checkout", DATABASE_USER: "app", DATABASE_PASSWORD: "secret" };
    expect(() => loadEnv(deployed)).toThrow(/PAYMENT_PROVIDER_URL and PAYMENT_SECRET_KEY are required/);
  });

  it("requires a real payment provider in production", () => {
    const database = { DATABASE_URL: "postgres://app@db.internal/checkout" };
    expect(() => loadEnv({ NODE_ENV: "production", ...database })).toThrow(/PAYMENT_PROVIDER_URL and PAYMENT_SECRET_KEY are required/);
    const provider = { NODE_ENV: "production", ...database, PAYMENT_PROVIDER_URL: "https://pay.example.com", PAYMENT_SECRET_KEY: "sk_live_12345678" };
    expect(() => loadEnv(provider)).toThrow(/PAYMENT_WEBHOOK_SECRET is required/);
    const env = loadEnv({ ...provider, PAYMENT_WEBHOOK_SECRET: "whsec_live_0123456789abcdef" });
    expect(env.PAYMENT_SANDBOX).toBe(false);
  });

  it("leaves the payment webhook secret optional with the sandbox, and rejects a short one", () => {
    expect(loadEnv({}).PAYMENT_WEBHOOK_SECRET).toBeUndefined();
    expect(() => loadEnv({ PAYMENT_WEBHOOK_SECRET: "short" })).toThrow(/PAYMENT_WEBHOOK_SECRET: use at least 16 characters/);
  });
});
