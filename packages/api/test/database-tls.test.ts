// DATABASE_SSL=verify-full against a real PostgreSQL that takes TLS only: the right CA and name connect (and the
// service starts and is ready), a wrong CA, a name the certificate does not carry and plaintext are all refused.
import { randomBytes, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rdsCaBundle } from "../scripts/rds-ca-bundle.ts";
import { startApp } from "../src/app.ts";
import { runMigrations } from "../src/cli/migrate.ts";
import { loadDatabaseEnv, loadEnv } from "../src/env.ts";
import { createLogger } from "../src/logger.ts";
import { createTestCa, startTlsPostgres, type TlsPostgres } from "./support/tls-postgres.ts";

const log = createLogger({ level: "silent" });
const base = { NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", PAYMENT_SANDBOX_PORT: "0", WEB_DIST: "/nonexistent", JOBS: "off" };

async function connect(connectionString: string): Promise<{ ssl: boolean; user: string }> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ ssl: boolean; user: string }>("select ssl, current_user as user from pg_stat_ssl where pid = pg_backend_pid()");
    return rows[0]!;
  } finally {
    await client.end().catch(() => {});
  }
}

describe("database TLS with verify-full", () => {
  let dir: string;
  let server: TlsPostgres;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "checkout-tls-pg-"));
    server = await startTlsPostgres({ dir });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("connects with the CA that signed the server certificate and the name on it", async () => {
    await expect(connect(server.url())).resolves.toEqual({ ssl: true, user: server.ownerUser });
  });

  it("refuses a server whose certificate another CA signed", async () => {
    const other = createTestCa({ dir: path.join(dir, "other-ca"), name: "other" });
    await expect(connect(server.url({ caPath: other.certPath }))).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  it("refuses a server whose certificate is not for the host connected to", async () => {
    // The certificate names localhost only; 127.0.0.1 is the same server under a name it does not carry.
    await expect(connect(server.url({ host: "127.0.0.1" }))).rejects.toThrow(/IP: 127\.0\.0\.1 is not in the cert's list|does not match/i);
  });

  it("refuses the server's certificate against Node's own CAs (no DATABASE_SSL_CA)", async () => {
    await expect(connect(server.url({ caPath: null }))).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  it("is refused by the server in plaintext", async () => {
    await expect(connect(server.url({ sslmode: "disable", caPath: null }))).rejects.toThrow(/no pg_hba\.conf entry .* no encryption|rejects connection/i);
  });

  it("migrates and grants over TLS, then the service runs as its role with DATABASE_SSL=verify-full and is ready", async () => {
    const role = { SERVICE_DATABASE_USER: "checkout_app", SERVICE_DATABASE_PASSWORD: `svc-${randomBytes(18).toString("hex")}` };
    await runMigrations({ env: loadDatabaseEnv({ ...server.databaseEnv(), ...role, LOG_LEVEL: "silent" }), log });
    const env = loadEnv({ ...base, ...server.databaseEnv({ user: role.SERVICE_DATABASE_USER, password: role.SERVICE_DATABASE_PASSWORD }), MIGRATIONS: "verify" });
    expect(new URL(env.DATABASE_URL!).searchParams.get("sslmode")).toBe("verify-full");
    const app = await startApp(env, { log });
    try {
      const ready = await fetch(`${app.url}/ready`);
      expect(ready.status).toBe(200);
      const catalogue = await fetch(`${app.url}/trpc/catalog.list?input=${encodeURIComponent(JSON.stringify({ currency: "USD" }))}`);
      expect(catalogue.status).toBe(200);
      // Every connection the service holds is encrypted, as the service role.
      const admin = new pg.Client({ connectionString: server.url({ user: server.superUser, database: "postgres" }) });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ ssl: boolean; usename: string }>(
          "select s.ssl, a.usename from pg_stat_activity a join pg_stat_ssl s using (pid) where a.application_name like 'checkout-api%'",
        );
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((row) => row.ssl && row.usename === role.SERVICE_DATABASE_USER)).toBe(true);
      } finally {
        await admin.end();
      }
    } finally {
      await app.close();
    }
  });

  it("does not start against this server with the RDS bundle: it trusts Amazon's CAs only", async () => {
    const bundlePath = path.join(dir, "rds-ca-bundle.pem");
    writeFileSync(bundlePath, rdsCaBundle().pem);
    await expect(startApp(loadEnv({ ...base, ...server.databaseEnv({ caPath: bundlePath }) }), { log })).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  it("does not start when DATABASE_HOST is a name the certificate does not carry", async () => {
    await expect(startApp(loadEnv({ ...base, ...server.databaseEnv({ host: "127.0.0.1" }) }), { log })).rejects.toThrow(/IP: 127\.0\.0\.1 is not in the cert's list/);
  });
});

describe("the RDS CA bundle the image ships", () => {
  it("is a PEM bundle of Amazon RDS CA certificates, valid today, with the current root CAs and no RDS Proxy roots", () => {
    const bundle = rdsCaBundle();
    const certificates = bundle.pem
      .split(/(?<=-----END CERTIFICATE-----)\n/)
      .filter((text) => text.includes("BEGIN CERTIFICATE"))
      .map((text) => new X509Certificate(text));
    expect(certificates).toHaveLength(bundle.names.length);
    for (const certificate of certificates) {
      expect(certificate.ca).toBe(true);
      expect(certificate.subject).toMatch(/^OU=Amazon RDS$/m);
      expect(new Date(certificate.validTo).getTime()).toBeGreaterThan(Date.now());
    }
    // The CAs RDS signs new instances' certificates with (rds-ca-rsa2048-g1 is the default), in the regions we deploy to and more.
    for (const region of ["us-east-1", "eu-west-1", "eu-central-1"]) {
      for (const kind of ["RSA2048", "RSA4096", "ECC384"]) expect(bundle.names).toContain(`Amazon RDS ${region} Root CA ${kind} G1`);
    }
    expect(bundle.names.some((name) => /^Amazon Root CA/.test(name) || /Starfield/.test(name))).toBe(false);
    expect(() => tls.createSecureContext({ ca: bundle.pem })).not.toThrow();
  });
});
