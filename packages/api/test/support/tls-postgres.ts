// Test support: a certificate authority made with openssl and a real PostgreSQL that accepts TLS only (hostssl), for
// the database-TLS tests and the production-parity test. The server cluster is its own (own port, own data dir).
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../src/embedded-postgres.ts";
import { freePort } from "../../scripts/free-port.ts";

export interface TestCa {
  /** PEM certificate of the CA (mode 0644): what DATABASE_SSL_CA points at. */
  certPath: string;
  keyPath: string;
}

export interface ServerCertificate {
  certPath: string;
  keyPath: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** A self-signed CA in `dir` (created if missing): `<name>.crt` and `<name>.key`. */
export function createTestCa(options: { dir: string; name?: string }): TestCa {
  const name = options.name ?? "test-ca";
  mkdirSync(options.dir, { recursive: true });
  const certPath = path.join(options.dir, `${name}.crt`);
  const keyPath = path.join(options.dir, `${name}.key`);
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-subj",
      `/CN=Checkout test CA ${name} ${randomBytes(4).toString("hex")}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    options.dir,
  );
  chmodSync(certPath, 0o644);
  return { certPath, keyPath };
}

/**
 * A server certificate signed by `ca` for `names` (DNS names; IP addresses given as "IP:127.0.0.1"), in `dir` as
 * `<name>.crt` / `<name>.key`. The common name is the first DNS name; clients check the subjectAltName.
 */
export function createServerCertificate(options: { ca: TestCa; dir: string; names: string[]; name?: string }): ServerCertificate {
  const name = options.name ?? "server";
  mkdirSync(options.dir, { recursive: true });
  const certPath = path.join(options.dir, `${name}.crt`);
  const keyPath = path.join(options.dir, `${name}.key`);
  const csrPath = path.join(options.dir, `${name}.csr`);
  const extPath = path.join(options.dir, `${name}.ext`);
  const san = options.names.map((entry) => (entry.startsWith("IP:") ? entry : `DNS:${entry}`)).join(",");
  const commonName = options.names.find((entry) => !entry.startsWith("IP:")) ?? "server";
  writeFileSync(extPath, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyPath, "-out", csrPath, "-subj", `/CN=${commonName}`], options.dir);
  openssl(
    ["x509", "-req", "-in", csrPath, "-CA", options.ca.certPath, "-CAkey", options.ca.keyPath, "-CAcreateserial", "-days", "2", "-out", certPath, "-extfile", extPath],
    options.dir,
  );
  chmodSync(keyPath, 0o600);
  return { certPath, keyPath };
}

export interface TlsPostgres {
  /** The name the server certificate is for ("localhost" by default); 127.0.0.1 is not in it unless asked for. */
  host: string;
  port: number;
  /** The CA that signed the server certificate (PEM, mode 0644). */
  caPath: string;
  ca: TestCa;
  /** The database owned by `ownerUser` ("checkout" by default), created empty. */
  database: string;
  /** Like the RDS master user: not a superuser, CREATEROLE and CREATEDB, owner of `database`. */
  ownerUser: string;
  ownerPassword: string;
  /** The cluster's superuser (for test set-up only). */
  superUser: string;
  superPassword: string;
  dataDir: string;
  /** A connection URL; by default the owner's, to `database`, `sslmode=verify-full&sslrootcert=<caPath>`. */
  url(options?: { user?: string; password?: string; database?: string; host?: string; sslmode?: string; caPath?: string | null }): string;
  /** The environment of the deployed form (env.ts): DATABASE_HOST, _PORT, _NAME, _USER, _PASSWORD, _SSL=verify-full, _SSL_CA. */
  databaseEnv(options?: { user?: string; password?: string; database?: string; host?: string; caPath?: string }): Record<string, string>;
  stop(): Promise<void>;
}

const SUPER_USER = "postgres";
const SUPER_PASSWORD = "postgres";

/**
 * Starts a PostgreSQL that takes TLS connections only: `ssl = on` with a certificate from `ca` (a new CA in `dir` if
 * none is given) for `serverNames` (default ["localhost"]), and a pg_hba.conf of `hostssl` lines with every
 * `hostnossl` connection rejected. Listens on 127.0.0.1 at `port` (default: a free one). Data in `<dir>/pgdata`.
 * As root, PostgreSQL runs as the `postgres` user: the key is handed to it, and callers running clients as another
 * user must let them traverse `dir` to read caPath.
 */
export async function startTlsPostgres(options: {
  dir: string;
  ca?: TestCa;
  serverNames?: string[];
  port?: number;
  database?: string;
  ownerUser?: string;
  ownerPassword?: string;
}): Promise<TlsPostgres> {
  mkdirSync(options.dir, { recursive: true });
  const ca = options.ca ?? createTestCa({ dir: path.join(options.dir, "ca") });
  const serverNames = options.serverNames ?? ["localhost"];
  const database = options.database ?? "checkout";
  const ownerUser = options.ownerUser ?? "checkout_owner";
  const ownerPassword = options.ownerPassword ?? `owner-${randomBytes(12).toString("hex")}`;
  const port = options.port ?? (await freePort());
  const dataDir = path.join(options.dir, "pgdata");

  const server = await startEmbeddedPostgres({ dataDir, port });
  try {
    const admin = new pg.Client({ connectionString: `postgres://${SUPER_USER}:${SUPER_PASSWORD}@127.0.0.1:${port}/postgres` });
    await admin.connect();
    try {
      await admin.query(`create role ${pg.escapeIdentifier(ownerUser)} login createrole createdb password ${pg.escapeLiteral(ownerPassword)}`);
      await admin.query(`create database ${pg.escapeIdentifier(database)} owner ${pg.escapeIdentifier(ownerUser)}`);

      // The certificate and key live in the data directory, owned like it: PostgreSQL refuses a key others can read.
      const certificate = createServerCertificate({ ca, dir: path.join(options.dir, "server"), names: serverNames });
      const owner = statSync(dataDir);
      for (const [from, to] of [
        [certificate.certPath, "server.crt"],
        [certificate.keyPath, "server.key"],
      ] as const) {
        const target = path.join(dataDir, to);
        writeFileSync(target, readFileSync(from), { mode: 0o600 });
        if (process.getuid?.() === 0) chownSync(target, owner.uid, owner.gid);
      }
      appendFileSync(
        path.join(dataDir, "postgresql.conf"),
        "\n# TLS only (test/support/tls-postgres.ts)\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_min_protocol_version = 'TLSv1.2'\n",
      );
      writeFileSync(
        path.join(dataDir, "pg_hba.conf"),
        [
          "# TLS only (test/support/tls-postgres.ts): every connection without TLS is rejected.",
          "hostssl all all 127.0.0.1/32 scram-sha-256",
          "hostssl all all ::1/128 scram-sha-256",
          "hostnossl all all all reject",
          "",
        ].join("\n"),
      );
      await admin.query("select pg_reload_conf()");
    } finally {
      await admin.end();
    }
  } catch (error) {
    await server.stop();
    throw error;
  }

  const host = serverNames.find((name) => !name.startsWith("IP:")) ?? "localhost";
  const url: TlsPostgres["url"] = (choice = {}) => {
    const user = encodeURIComponent(choice.user ?? ownerUser);
    const password = encodeURIComponent(choice.password ?? (choice.user === SUPER_USER ? SUPER_PASSWORD : ownerPassword));
    const params = new URLSearchParams({ sslmode: choice.sslmode ?? "verify-full" });
    const caPath = choice.caPath === undefined ? ca.certPath : choice.caPath;
    if (caPath) params.set("sslrootcert", caPath);
    return `postgres://${user}:${password}@${choice.host ?? host}:${port}/${encodeURIComponent(choice.database ?? database)}?${params}`;
  };
  await waitForTls(url({ user: SUPER_USER, database: "postgres" }));

  return {
    host,
    port,
    caPath: ca.certPath,
    ca,
    database,
    ownerUser,
    ownerPassword,
    superUser: SUPER_USER,
    superPassword: SUPER_PASSWORD,
    dataDir,
    url,
    databaseEnv: (choice = {}) => ({
      DATABASE_HOST: choice.host ?? host,
      DATABASE_PORT: String(port),
      DATABASE_NAME: choice.database ?? database,
      DATABASE_USER: choice.user ?? ownerUser,
      DATABASE_PASSWORD: choice.password ?? ownerPassword,
      DATABASE_SSL: "verify-full",
      DATABASE_SSL_CA: choice.caPath ?? ca.certPath,
    }),
    stop: () => server.stop(),
  };
}

/** The reload is asynchronous: waits until a verified TLS connection gets in and the server reports ssl = on. */
async function waitForTls(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      const { rows } = await client.query<{ ssl: boolean }>("select ssl from pg_stat_ssl where pid = pg_backend_pid()");
      if (rows[0]?.ssl) return;
      lastError = new Error("connected without TLS");
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the TLS PostgreSQL did not accept a verified connection: ${String((lastError as Error)?.message ?? lastError)}`, { cause: lastError });
}
