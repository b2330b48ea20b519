// Configuration, validated once at start-up; a bad or missing variable fails fast by name.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { AdminTokensSchema } from "./admin/admin-auth.ts";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const bool = z.enum(["true", "false", "1", "0"], { message: "use true or false" }).transform((value) => value === "true" || value === "1");

const hostname = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

const port = z.coerce.number().int().min(0).max(65535);

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("0.0.0.0"),
  PORT: port.default(3000),
  /** A build or release label shown by /health (the blue/green rehearsal tells its processes apart by it). */
  APP_VERSION: z
    .string()
    .regex(/^[A-Za-z0-9._:+-]{1,64}$/, "use up to 64 letters, digits and . _ : + -")
    .optional(),
  PUBLIC_URL: z.url().default("http://localhost:3000"),
  DATABASE_URL: z.url({ message: "must be a postgres:// URL" }).optional(),
  DATABASE_READ_URL: z.url({ message: "must be a postgres:// URL" }).optional(),
  /** The deployed form (the Api stack): the writer's and the replica's hostnames plus credentials from Secrets Manager. */
  DATABASE_HOST: z.string().regex(hostname, "must be a hostname alone (no scheme, port or path)").optional(),
  DATABASE_READ_HOST: z.string().regex(hostname, "must be a hostname alone (no scheme, port or path)").optional(),
  DATABASE_PORT: port.optional(),
  DATABASE_NAME: z.string().min(1, "must not be empty").optional(),
  DATABASE_USER: z.string().min(1, "must not be empty").optional(),
  DATABASE_PASSWORD: z.string().min(1, "must not be empty").optional(),
  DATABASE_SSL: z.enum(["disable", "require", "verify-full"], { message: "use disable, require or verify-full" }).optional(),
  /** With DATABASE_SSL=verify-full: a PEM bundle of the CAs to trust instead of Node's (the image ships the RDS bundle). */
  DATABASE_SSL_CA: z.string().min(1, "must be a path to a PEM file").optional(),
  /** `apply`: migrate at start (local use); `verify`: never migrate, refuse to start (exit 78) while any is pending. */
  MIGRATIONS: z.enum(["apply", "verify"], { message: "use apply or verify" }).default("apply"),
  /** The least-privileged role the `migrate` command creates or updates for the service (docs/OPERATIONS.md). */
  SERVICE_DATABASE_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "use lower-case letters, digits and _ (a PostgreSQL role name)")
    .optional(),
  SERVICE_DATABASE_PASSWORD: z.string().min(16, "use at least 16 characters").optional(),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** The reader serves only catalogue reads behind a single-flight cache: a few connections are plenty. */
  DB_READ_POOL_MAX: z.coerce.number().int().min(1).max(200).default(4),
  /** Admission control: API requests running at once (default 8 × DB_POOL_MAX), waiting behind them (default as many) and for how long. */
  MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).optional(),
  ADMISSION_QUEUE_MAX: z.coerce.number().int().min(0).max(100_000).optional(),
  ADMISSION_QUEUE_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(5000),
  EMBEDDED_PG_PORT: port.default(5488),
  DATA_DIR: z.string().min(1).default(path.join(repoRoot, ".data")),
  WEB_DIST: z.string().min(1).default(path.join(repoRoot, "packages/web/dist")),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  PAYMENT_SANDBOX: bool.optional(),
  PAYMENT_SANDBOX_PORT: port.default(3001),
  PAYMENT_PROVIDER_URL: z.url().optional(),
  PAYMENT_PROVIDER_PUBLIC_URL: z.url().optional(),
  PAYMENT_SECRET_KEY: z.string().min(8).optional(),
  PAYMENT_WEBHOOK_SECRET: z.string().min(16, "use at least 16 characters").optional(),
  PAYMENT_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  PAYMENT_PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(50).max(120_000).default(10_000),
  PAYMENT_SANDBOX_SLOW_CARD_DELAY_MS: z.coerce.number().int().min(0).default(15_000),
  DEV_WEB_ORIGIN: z.url().default("http://localhost:5173"),
  SEED_CATALOG: bool.default(true),
  CAPTURE_MODE: z.enum(["immediate", "on_fulfilment"], { message: "use immediate or on_fulfilment" }).default("immediate"),
  /** The address form's helper: the offline US ZIP code list (local), or none (the shopper types every field). */
  ADDRESS_LOOKUP: z.enum(["local", "none"], { message: "use local or none" }).default("local"),
  CATALOG_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(25_000),
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(65_000),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(64 * 1024),
  /** The edge's limits (packages/api/src/http/server.ts EdgeLimits; docs/SECURITY.md): each has a test of its bypass. */
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(500).max(120_000).default(10_000),
  BODY_TIMEOUT_MS: z.coerce.number().int().min(500).max(120_000).default(10_000),
  MAX_JSON_DEPTH: z.coerce.number().int().min(4).max(256).default(16),
  MAX_JSON_STRING_LENGTH: z.coerce
    .number()
    .int()
    .min(256)
    .max(1024 * 1024)
    .default(8192),
  MAX_CONNECTIONS_PER_CLIENT: z.coerce.number().int().min(1).max(100_000).default(64),
  MAX_IN_FLIGHT_PER_CLIENT: z.coerce.number().int().min(1).max(100_000).default(16),
  RATE_LIMIT_BROWSE_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(1200),
  RATE_LIMIT_CART_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(600),
  RATE_LIMIT_PAYMENT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(30),
  RATE_LIMIT_ADMIN_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(600),
  /**
   * Client addresses the per-client limits do not apply to (comma-separated IPs): an operator's own load generator.
   * Default: loopback outside production (`pnpm start` load-tested from the same machine; tests), none in production.
   */
  CLIENT_LIMITS_EXEMPT: z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((ip) => ip.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.union([z.ipv4(), z.ipv6()], { message: "must be comma-separated IP addresses" })))
    .optional(),
  /** How long /ready reuses its last database check. */
  READY_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** A header the trusted edge sets with the shopper's `ip:port` (cloudfront-viewer-address when deployed). */
  VIEWER_ADDRESS_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, "must be a header name")
    .transform((name) => name.toLowerCase())
    .optional(),
  /** Bearer token for /metrics; without it only loopback peers outside production may read it. */
  METRICS_TOKEN: z.string().min(32, "use at least 32 characters").optional(),
  ADMIN_API_TOKENS: AdminTokensSchema.optional(),
  /** How many proxies in front append to X-Forwarded-For: true = 1 (the ALB), a number for more, false = none. */
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d)$/, "use true, false or the number of proxies in front (0-9)")
    .transform((value) => (value === "true" ? 1 : value === "false" ? 0 : Number(value)))
    .default(0),
  JOBS: z.enum(["on", "off"], { message: "use on or off" }).default("on"),
  SMTP_URL: z.url({ protocol: /^smtps?$/, message: "must be an smtp:// or smtps:// URL" }).optional(),
  MAIL_FROM: z.string().min(3).optional(),
  MAIL_DIR: z.string().min(1).optional(),
  ORDER_WEBHOOK_URLS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((url) => url.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/, message: "must be comma-separated http(s) URLs" }))),
  ORDER_WEBHOOK_SECRET: z.string().min(16, "use at least 16 characters").optional(),
  OUTBOX_POLL_MS: z.coerce.number().int().min(50).default(1000),
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12),
  OUTBOX_RETRY_BASE_MS: z.coerce.number().int().min(1).default(5000),
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  RECONCILE_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  /** Stock per order (core StockPolicy; docs/CHECKOUT.md "Holds and caps"): units of one item, units in all, share of a SKU's available stock. */
  MAX_UNITS_PER_SKU: z.coerce.number().int().min(1).max(99).default(10),
  MAX_UNITS_PER_ORDER: z.coerce.number().int().min(1).max(5000).default(30),
  MAX_STOCK_SHARE_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
  /** How long an order waiting on 3-D Secure holds its stock; then the hold sweep (every HOLD_SWEEP_INTERVAL_MS) gives it back. */
  STOCK_HOLD_MS: z.coerce
    .number()
    .int()
    .min(60_000)
    .max(60 * 60 * 1000)
    .default(10 * 60 * 1000),
  HOLD_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** Data retention (docs/OPERATIONS.md "Data retention"), run every RETENTION_INTERVAL_MS. */
  CART_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  QUOTE_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24),
  ORDER_PERSONAL_DATA_RETENTION_DAYS: z.coerce.number().int().min(30).max(36_500).default(3650),
  OUTBOX_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  RETENTION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(60 * 60 * 1000),
  /**
   * Card testing (docs/CHECKOUT.md "Card-testing defences"): declined payments allowed per cart, client address, email
   * and card fingerprint in a window (0 turns one off); the one that reaches a limit locks it — a cart for
   * PAYMENT_CART_LOCK_SECONDS, the others for PAYMENT_VELOCITY_LOCK_SECONDS. Each may have PAYMENT_ATTEMPTS_IN_FLIGHT
   * attempts at the processor at once.
   */
  PAYMENT_DECLINES_PER_CART: z.coerce.number().int().min(0).max(1000).default(3),
  PAYMENT_DECLINES_PER_ADDRESS: z.coerce.number().int().min(0).max(100_000).default(10),
  PAYMENT_DECLINES_PER_EMAIL: z.coerce.number().int().min(0).max(100_000).default(5),
  PAYMENT_DECLINES_PER_CARD: z.coerce.number().int().min(0).max(1000).default(3),
  PAYMENT_VELOCITY_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(3600),
  PAYMENT_CART_LOCK_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(900),
  PAYMENT_VELOCITY_LOCK_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(3600),
  PAYMENT_ATTEMPTS_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(16),
  /** Audit anchor (docs/OPERATIONS.md "Audit anchor"): the chain's head written to this S3 bucket every interval; unset = no anchoring. */
  AUDIT_ANCHOR_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name")
    .optional(),
  AUDIT_ANCHOR_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(24 * 3600 * 1000)
    .default(60_000),
  /** An S3-compatible endpoint, addressed path-style (the tests' s3rver); unset = Amazon S3 in AWS_REGION. */
  AUDIT_ANCHOR_ENDPOINT: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).optional(),
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as us-east-1")
    .optional(),
  /**
   * Tracing (docs/OPERATIONS.md "Tracing"), OpenTelemetry's standard names: off unless an OTLP/HTTP endpoint is set.
   * The base endpoint gets /v1/traces appended; the traces endpoint is used as it is.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, message: "must be an http(s) URL (an OTLP/HTTP receiver)" }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/, message: "must be an http(s) URL (an OTLP/HTTP receiver's /v1/traces)" }).optional(),
  OTEL_TRACES_SAMPLER: z
    .enum(["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"], {
      message: "use always_on, always_off, traceidratio or their parentbased_ forms",
    })
    .optional(),
  /** The ratio of requests traced, for the traceidratio samplers (OpenTelemetry's default: 1). */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number({ message: "use a ratio between 0 and 1" }).min(0, "use a ratio between 0 and 1").max(1, "use a ratio between 0 and 1").optional(),
  OTEL_SERVICE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._/-]{1,128}$/, "use up to 128 letters, digits and . _ / -")
    .default("checkout-api"),
  OTEL_SDK_DISABLED: bool.optional(),
});

export type Env = Omit<z.infer<typeof EnvSchema>, "CLIENT_LIMITS_EXEMPT"> & { PAYMENT_SANDBOX: boolean; CLIENT_LIMITS_EXEMPT: string[] };

/** Exempt from per-client limits when CLIENT_LIMITS_EXEMPT is not set: loopback outside production, nobody in production. */
const LOOPBACK = ["127.0.0.1", "::1"];

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n");
    throw new ConfigError(`Invalid configuration:\n${problems}`);
  }
  const env = { ...result.data, ...resolveDatabaseUrls(result.data) };
  if (env.NODE_ENV === "production" && !env.DATABASE_URL) {
    // The embedded PostgreSQL is for a laptop; a deployed task without a database must stop, not start an empty one.
    throw new ConfigError("Invalid configuration:\n  production needs a database: set DATABASE_URL, or DATABASE_HOST with DATABASE_NAME, DATABASE_USER and DATABASE_PASSWORD");
  }
  const sandbox = env.PAYMENT_SANDBOX ?? (env.NODE_ENV !== "production" && !env.PAYMENT_PROVIDER_URL);
  if (!sandbox && (!env.PAYMENT_PROVIDER_URL || !env.PAYMENT_SECRET_KEY)) {
    throw new ConfigError("Invalid configuration:\n  PAYMENT_PROVIDER_URL and PAYMENT_SECRET_KEY are required when the payment sandbox is off");
  }
  if (!sandbox && !env.PAYMENT_WEBHOOK_SECRET) {
    throw new ConfigError("Invalid configuration:\n  PAYMENT_WEBHOOK_SECRET is required when the payment sandbox is off");
  }
  if (env.ORDER_WEBHOOK_URLS.length > 0 && !env.ORDER_WEBHOOK_SECRET) {
    throw new ConfigError("Invalid configuration:\n  ORDER_WEBHOOK_SECRET is required when ORDER_WEBHOOK_URLS is set");
  }
  if (env.SMTP_URL && !env.MAIL_FROM) throw new ConfigError("Invalid configuration:\n  MAIL_FROM is required when SMTP_URL is set");
  if (env.AUDIT_ANCHOR_BUCKET && !env.AWS_REGION && !env.AUDIT_ANCHOR_ENDPOINT) {
    throw new ConfigError("Invalid configuration:\n  AWS_REGION is required when AUDIT_ANCHOR_BUCKET is set (the bucket's region)");
  }
  if (env.NODE_ENV === "production" && !env.SMTP_URL && !env.MAIL_DIR) {
    // A deployed task has a read-only root filesystem: mail it cannot send must fail the start, not the first order.
    throw new ConfigError("Invalid configuration:\n  production needs SMTP_URL (Amazon SES's SMTP endpoint when deployed), or MAIL_DIR naming a writable folder for mail files");
  }
  checkServiceRole(env);
  return { ...env, PAYMENT_SANDBOX: sandbox, CLIENT_LIMITS_EXEMPT: env.CLIENT_LIMITS_EXEMPT ?? (env.NODE_ENV === "production" ? [] : LOOPBACK) };
}

/** What the migrate command reads: the database (as the owner), the service role to grant, the log level; nothing else. */
const DatabaseEnvSchema = EnvSchema.pick({
  NODE_ENV: true,
  LOG_LEVEL: true,
  DATABASE_URL: true,
  DATABASE_READ_URL: true,
  DATABASE_HOST: true,
  DATABASE_READ_HOST: true,
  DATABASE_PORT: true,
  DATABASE_NAME: true,
  DATABASE_USER: true,
  DATABASE_PASSWORD: true,
  DATABASE_SSL: true,
  DATABASE_SSL_CA: true,
  SERVICE_DATABASE_USER: true,
  SERVICE_DATABASE_PASSWORD: true,
});

export type DatabaseEnv = z.infer<typeof DatabaseEnvSchema>;

/** The database part of the configuration alone (the migrate container has no payment, mail or admin settings). */
export function loadDatabaseEnv(source: NodeJS.ProcessEnv = process.env): DatabaseEnv {
  const result = DatabaseEnvSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n");
    throw new ConfigError(`Invalid configuration:\n${problems}`);
  }
  const env = { ...result.data, ...resolveDatabaseUrls(result.data) };
  if (!env.DATABASE_URL)
    throw new ConfigError("Invalid configuration:\n  migrate needs a database: set DATABASE_URL, or DATABASE_HOST with DATABASE_NAME, DATABASE_USER and DATABASE_PASSWORD");
  checkServiceRole(env);
  return env;
}

function checkServiceRole(env: Pick<DatabaseEnv, "SERVICE_DATABASE_USER" | "SERVICE_DATABASE_PASSWORD">): void {
  if ((env.SERVICE_DATABASE_USER === undefined) !== (env.SERVICE_DATABASE_PASSWORD === undefined)) {
    throw new ConfigError("Invalid configuration:\n  SERVICE_DATABASE_USER and SERVICE_DATABASE_PASSWORD go together (the service role the migrate command grants)");
  }
}

/** How each DATABASE_SSL value reaches node-postgres, as the sslmode of the composed URL. */
const SSL_MODES = {
  disable: "disable",
  // libpq's "require": encrypted, the server certificate not checked. Refused in production.
  require: "no-verify",
  // Encrypted, the chain checked against DATABASE_SSL_CA (sslrootcert: pg reads the file and trusts only it) or else
  // Node's CAs, and the certificate's names against the host (pg sets servername to it).
  "verify-full": "verify-full",
} as const;

/** A PEM bundle that exists and holds at least one certificate, or the reason it does not. */
function problemWithCaBundle(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    return `DATABASE_SSL_CA: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  return text.includes("-----BEGIN CERTIFICATE-----") ? null : `DATABASE_SSL_CA: ${file} holds no PEM certificate`;
}

/**
 * The writer and reader URLs: given as DATABASE_URL (+ DATABASE_READ_URL) locally, or composed from DATABASE_HOST,
 * DATABASE_READ_HOST, DATABASE_PORT, DATABASE_NAME, DATABASE_USER, DATABASE_PASSWORD and DATABASE_SSL when deployed.
 * One form or the other, complete: a half-configured database is refused at start-up, naming what is missing.
 */
function resolveDatabaseUrls(env: z.infer<typeof DatabaseEnvSchema>): { DATABASE_URL?: string; DATABASE_READ_URL?: string } {
  const parts = ["DATABASE_HOST", "DATABASE_READ_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_USER", "DATABASE_PASSWORD", "DATABASE_SSL", "DATABASE_SSL_CA"] as const;
  const given = parts.filter((name) => env[name] !== undefined);
  const problems: string[] = [];
  if (env.DATABASE_READ_URL && !env.DATABASE_URL) {
    problems.push("DATABASE_READ_URL needs DATABASE_URL: a reader without a writer (the embedded database has no replica)");
  }
  if (given.length > 0 && (env.DATABASE_URL || env.DATABASE_READ_URL)) {
    const urls = ["DATABASE_URL", "DATABASE_READ_URL"].filter((name) => env[name as "DATABASE_URL"]).join(" and ");
    problems.push(`set either ${urls} or ${given.join(", ")}, not both (a URL carries its own port and sslmode)`);
  } else if (given.length > 0) {
    const missing = (["DATABASE_HOST", "DATABASE_NAME", "DATABASE_USER", "DATABASE_PASSWORD"] as const).filter((name) => env[name] === undefined);
    if (missing.length > 0) problems.push(`${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} required with ${given.join(", ")}`);
  }
  // Production verifies the database's certificate and name: an unverified TLS connection is one anyone on the path can answer.
  const production = env.NODE_ENV === "production";
  const ssl = env.DATABASE_SSL ?? (production ? "verify-full" : "require");
  if (production && given.length > 0 && ssl !== "verify-full") {
    problems.push(`DATABASE_SSL=${ssl} is refused in production: use verify-full (with DATABASE_SSL_CA=dist/certs/rds-ca-bundle.pem for RDS)`);
  }
  for (const name of ["DATABASE_URL", "DATABASE_READ_URL"] as const) {
    const params = env[name] ? new URL(env[name]).searchParams : null;
    if (production && params && (params.get("sslmode") === "no-verify" || params.get("ssl") === "no-verify")) {
      problems.push(`${name}: sslmode=no-verify is refused in production (use sslmode=verify-full&sslrootcert=<CA bundle>)`);
    }
  }
  if (env.DATABASE_SSL_CA !== undefined) {
    if (ssl !== "verify-full") problems.push(`DATABASE_SSL_CA is used only with DATABASE_SSL=verify-full (it is ${ssl})`);
    else {
      const problem = problemWithCaBundle(env.DATABASE_SSL_CA);
      if (problem) problems.push(problem);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.map((problem) => `  ${problem}`).join("\n")}`);
  if (given.length === 0) return {};

  const credentials = `${encodeURIComponent(env.DATABASE_USER!)}:${encodeURIComponent(env.DATABASE_PASSWORD!)}`;
  const query = new URLSearchParams({ sslmode: SSL_MODES[ssl] });
  if (ssl === "verify-full" && env.DATABASE_SSL_CA) query.set("sslrootcert", path.resolve(env.DATABASE_SSL_CA));
  const compose = (host: string) => `postgres://${credentials}@${host}:${env.DATABASE_PORT ?? 5432}/${encodeURIComponent(env.DATABASE_NAME!)}?${query}`;
  return {
    DATABASE_URL: compose(env.DATABASE_HOST!),
    ...(env.DATABASE_READ_HOST ? { DATABASE_READ_URL: compose(env.DATABASE_READ_HOST) } : {}),
  };
}
