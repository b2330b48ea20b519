import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadDatabaseEnv, loadEnv } from "./env.ts";

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
    const env = loadEnv({
      ...provider,
      PAYMENT_WEBHOOK_SECRET: "whsec_live_0123456789abcdef",
      SMTP_URL: "smtps://user:pass@email-smtp.us-east-1.amazonaws.com:465",
      MAIL_FROM: "orders@shop.example.com",
    });
    expect(env.PAYMENT_SANDBOX).toBe(false);
  });

  it("refuses production without a way to send mail, rather than writing mail files on a read-only filesystem", () => {
    const ready = {
      NODE_ENV: "production",
      DATABASE_URL: "postgres://app@db.internal/checkout",
      PAYMENT_PROVIDER_URL: "https://pay.example.com",
      PAYMENT_SECRET_KEY: "sk_live_12345678",
      PAYMENT_WEBHOOK_SECRET: "whsec_live_0123456789abcdef",
    };
    expect(() => loadEnv(ready)).toThrow(/production needs SMTP_URL/);
    expect(() => loadEnv({ ...ready, SMTP_URL: "smtps://user:pass@email-smtp.us-east-1.amazonaws.com:465" })).toThrow(/MAIL_FROM is required/);
    expect(loadEnv({ ...ready, SMTP_URL: "smtps://user:pass@email-smtp.us-east-1.amazonaws.com:465", MAIL_FROM: "orders@shop.example.com" }).SMTP_URL).toMatch(/^smtps:/);
    // An operator may choose files, by naming a writable folder explicitly.
    expect(loadEnv({ ...ready, MAIL_DIR: "/var/mail/checkout" }).MAIL_DIR).toBe("/var/mail/checkout");
    // Outside production the folder stays the default, so `pnpm start` needs no mail server.
    expect(loadEnv({}).SMTP_URL).toBeUndefined();
  });

  it("leaves the payment webhook secret optional with the sandbox, and rejects a short one", () => {
    expect(loadEnv({}).PAYMENT_WEBHOOK_SECRET).toBeUndefined();
    expect(() => loadEnv({ PAYMENT_WEBHOOK_SECRET: "short" })).toThrow(/PAYMENT_WEBHOOK_SECRET: use at least 16 characters/);
  });
});

describe("loadEnv: database TLS", () => {
  const deployed = { DATABASE_HOST: "db.abc123.us-east-1.rds.amazonaws.com", DATABASE_NAME: "checkout", DATABASE_USER: "checkout_app", DATABASE_PASSWORD: "secret" };
  const caDir = mkdtempSync(path.join(os.tmpdir(), "checkout-env-ca-"));
  const caPath = path.join(caDir, "ca.pem");
  writeFileSync(caPath, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  afterAll(() => rmSync(caDir, { recursive: true, force: true }));

  function problem(source: Record<string, string>): string {
    try {
      loadEnv(source);
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
    throw new Error("expected a configuration error");
  }

  it("hands verify-full and the CA bundle to the driver as sslmode and sslrootcert", () => {
    const url = new URL(loadEnv({ ...deployed, DATABASE_SSL: "verify-full", DATABASE_SSL_CA: caPath }).DATABASE_URL!);
    expect(Object.fromEntries(url.searchParams)).toEqual({ sslmode: "verify-full", sslrootcert: caPath });
    // Without a bundle, Node's own CAs decide.
    expect(new URL(loadEnv({ ...deployed, DATABASE_SSL: "verify-full" }).DATABASE_URL!).search).toBe("?sslmode=verify-full");
  });

  it("refuses a CA bundle it cannot read or that holds no certificate, and a bundle without verify-full", () => {
    expect(problem({ ...deployed, DATABASE_SSL: "verify-full", DATABASE_SSL_CA: path.join(caDir, "missing.pem") })).toMatch(
      /DATABASE_SSL_CA: cannot read .*missing\.pem \(ENOENT\)/,
    );
    const notPem = path.join(caDir, "not.pem");
    writeFileSync(notPem, "hello");
    expect(problem({ ...deployed, DATABASE_SSL: "verify-full", DATABASE_SSL_CA: notPem })).toMatch(/holds no PEM certificate/);
    expect(problem({ ...deployed, DATABASE_SSL: "require", DATABASE_SSL_CA: caPath })).toMatch(/DATABASE_SSL_CA is used only with DATABASE_SSL=verify-full \(it is require\)/);
  });

  it("verifies in production: verify-full by default, require, disable and sslmode=no-verify refused", () => {
    const production = { NODE_ENV: "production", ...deployed };
    expect(problem({ ...production, DATABASE_SSL: "require" })).toMatch(/DATABASE_SSL=require is refused in production: use verify-full/);
    expect(problem({ ...production, DATABASE_SSL: "disable" })).toMatch(/DATABASE_SSL=disable is refused in production/);
    expect(problem({ NODE_ENV: "production", DATABASE_URL: "postgres://u:p@db.internal/checkout?sslmode=no-verify" })).toMatch(/sslmode=no-verify is refused in production/);
    // Whatever else production then asks for, the database URL it would use verifies.
    expect(problem({ ...production })).not.toMatch(/DATABASE_SSL/);
  });

  it("reads MIGRATIONS and the service role as a pair", () => {
    expect(loadEnv({}).MIGRATIONS).toBe("apply");
    expect(loadEnv({ MIGRATIONS: "verify" }).MIGRATIONS).toBe("verify");
    expect(problem({ MIGRATIONS: "skip" })).toMatch(/MIGRATIONS: use apply or verify/);
    expect(problem({ SERVICE_DATABASE_USER: "checkout_app" })).toMatch(/SERVICE_DATABASE_USER and SERVICE_DATABASE_PASSWORD go together/);
    expect(problem({ SERVICE_DATABASE_USER: "Checkout-App", SERVICE_DATABASE_PASSWORD: "x".repeat(20) })).toMatch(/SERVICE_DATABASE_USER: use lower-case letters/);
  });
});

describe("loadDatabaseEnv", () => {
  it("needs only the database (the migrate container has no payment or mail settings), and a database it must have", () => {
    const env = loadDatabaseEnv({
      NODE_ENV: "production",
      DATABASE_URL: "postgres://owner:p@db.internal/checkout?sslmode=verify-full",
      SERVICE_DATABASE_USER: "checkout_app",
      SERVICE_DATABASE_PASSWORD: "x".repeat(24),
    });
    expect(env.SERVICE_DATABASE_USER).toBe("checkout_app");
    expect(() => loadDatabaseEnv({})).toThrow(/migrate needs a database/);
  });
});
