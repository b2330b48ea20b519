// The plain environment of the API task's two containers (what packages/api/src/env.ts reads); secrets come from
// stacks/api-task-secrets.ts.
import { DATABASE_SSL_MODE, MAX_BODY_BYTES, RDS_CA_BUNDLE_PATH } from "./api-task-contract.ts";
import { KEEP_ALIVE_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MS } from "./api-timeouts.ts";
import { tracingEnvironment } from "./api-tracing.ts";
import type { StageConfig } from "./config.ts";
import type { Database } from "./Database.ts";
import { VIEWER_ADDRESS_HEADER } from "./edge-origin.ts";
import { SERVICE_PORT } from "./Network.ts";

/** What both containers need to reach PostgreSQL: TLS verified against the RDS CA bundle shipped in the image. */
export function databaseEnvironment(database: ReturnType<typeof Database>): Record<string, string> {
  return {
    DATABASE_HOST: database.writerEndpoint,
    DATABASE_READ_HOST: database.readerEndpoint,
    DATABASE_PORT: String(database.port),
    DATABASE_NAME: database.databaseName,
    DATABASE_SSL: DATABASE_SSL_MODE,
    DATABASE_SSL_CA: RDS_CA_BUNDLE_PATH,
  };
}

/** The API container's environment in a deployed stage. */
export function appEnvironment(options: {
  config: StageConfig;
  database: ReturnType<typeof Database>;
  mailFrom: string;
  auditAnchorBucket: string;
  region: string;
}): Record<string, string> {
  const { config } = options;
  return {
    NODE_ENV: "production",
    HOST: "0.0.0.0",
    PORT: String(SERVICE_PORT),
    PUBLIC_URL: `https://${config.domain.web}`,
    LOG_LEVEL: "info",
    // The shopper's address is the one CloudFront vouches for; X-Forwarded-For is never read (requests that did not
    // come through CloudFront are refused by the WAF before they reach a task).
    VIEWER_ADDRESS_HEADER: VIEWER_ADDRESS_HEADER.toLowerCase(),
    TRUST_PROXY: "0",
    KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    PAYMENT_SANDBOX: "false",
    // A real shop loads its own catalogue; dev stages get the demo one.
    SEED_CATALOG: config.isProduction ? "false" : "true",
    ...databaseEnvironment(options.database),
    // The migrate container has applied every migration before this one starts; the service only checks.
    MIGRATIONS: "verify",
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    MAIL_FROM: options.mailFrom,
    AUDIT_ANCHOR_BUCKET: options.auditAnchorBucket,
    AWS_REGION: options.region,
    // Traces to the collector beside the container (stacks/api-tracing.ts).
    ...tracingEnvironment(config),
  };
}

/** The migrate container's environment: the database, nothing else. */
export function migrateEnvironment(database: ReturnType<typeof Database>): Record<string, string> {
  return { NODE_ENV: "production", LOG_LEVEL: "info", ...databaseEnvironment(database) };
}
