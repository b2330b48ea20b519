// Composes the running service: database (embedded or external), migrations and seed, the payment
// provider (the local sandbox unless configured otherwise) and the HTTP server.
// The sandbox (@checkout/payment-sandbox) is loaded only when this process runs one; the production bundle leaves it out.
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { createCatalogReader, createLocalAddressLookup, noAddressLookup, createDb, migrateToLatest, seedCatalog, seedPromotions, verifyMigrations } from "@checkout/core";
import { LOCAL_SANDBOX_SECRET_KEY } from "@checkout/payment-protocol";
import type { PaymentSandbox } from "@checkout/payment-sandbox";
import { ConfigError, type Env } from "./env.ts";
import { createLogger, type Logger } from "./logger.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./embedded-postgres.ts";
import { createAppServer, type AppServer } from "./http/server.ts";
import { createReadinessProbe } from "./http/readiness.ts";
import { Metrics } from "./http/metrics.ts";
import { SandboxPaymentProvider } from "./payments/sandbox-payment-provider.ts";
import { paymentVelocityOf } from "./payments/payment-velocity.ts";
import type { Services } from "./context.ts";
import { createAdminAuth, resolveAdminTokens } from "./admin/admin-auth.ts";
import { writeDevAdminToken } from "./admin/dev-admin-token.ts";
import { startBackgroundJobs } from "./jobs/background-jobs.ts";
import { edgeLimitsOf, stockPolicyOf } from "./jobs/policies.ts";
import { startTracing, tracingSettingsOf } from "./telemetry/tracing.ts";

export interface RunningApp {
  url: string;
  port: number;
  databaseUrl: string;
  paymentUrl: string;
  /** The local payment sandbox when it runs in this process (tests inspect it). */
  paymentSandbox: PaymentSandbox | null;
  services: Services;
  server: AppServer;
  /** Graceful stop: drain HTTP, close pools, stop the sandbox and the embedded database. */
  close(): Promise<{ timedOut: boolean }>;
}

/** host:port/database of a connection URL, for logs (never the credentials). */
function hostOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname}`;
}

/**
 * Admission limits from the environment. 8 × the pool in flight leaves room for the pool's own short queue and for
 * requests that hold a slot but no connection (a payment provider call); a queue as long as that, not 4 × (the earlier
 * default), because under overload the queue's length is the admitted requests' wait: `pnpm --filter @checkout/api
 * bench:overload` (docs/BENCHMARKS.md) measured the shorter queue at about half the admitted p50 and p99 for 0.93–0.97× the 2xx/s.
 */
function admissionOf(env: Env) {
  const maxInFlight = env.MAX_IN_FLIGHT ?? env.DB_POOL_MAX * 8;
  return { maxInFlight, maxQueue: env.ADMISSION_QUEUE_MAX ?? maxInFlight, queueTimeoutMs: env.ADMISSION_QUEUE_TIMEOUT_MS, retryAfterSeconds: 1 };
}

/** The key the API sends when PAYMENT_SECRET_KEY is unset: the local sandbox account's. */
export const SANDBOX_SECRET_KEY = LOCAL_SANDBOX_SECRET_KEY;

/**
 * The payment sandbox's module. A dynamic import of a package scripts/bundle.ts marks external, so the production bundle
 * holds none of the sandbox; a bundle told to run one anyway stops with a configuration error instead of a stack trace.
 */
async function loadPaymentSandbox(): Promise<typeof import("@checkout/payment-sandbox")> {
  try {
    return await import("@checkout/payment-sandbox");
  } catch (error) {
    const isMissing = (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String(error).includes("@checkout/payment-sandbox");
    if (!isMissing) throw error;
    throw new ConfigError(
      "Invalid configuration:\n  PAYMENT_SANDBOX: this build has no payment sandbox (the production bundle leaves it out); set PAYMENT_SANDBOX=false with PAYMENT_PROVIDER_URL, PAYMENT_SECRET_KEY and PAYMENT_WEBHOOK_SECRET",
    );
  }
}

export async function startApp(env: Env, options: { log?: Logger } = {}): Promise<RunningApp> {
  const log = options.log ?? createLogger({ level: env.LOG_LEVEL });
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => log.error({ err: error }, "shutdown step failed"));
  };

  try {
    // Before anything starts: a process that cannot run the sandbox it was asked for fails at once.
    const sandboxModule = env.PAYMENT_SANDBOX ? await loadPaymentSandbox() : null;
    // Off unless an OTLP endpoint is configured; then its last spans are exported as the very last shutdown step.
    const tracingSettings = tracingSettingsOf(env);
    const tracing = await startTracing(tracingSettings);
    if (tracing) {
      cleanups.push(() => tracing.shutdown());
      log.info({ traces: hostOf(tracingSettings!.tracesUrl), ratio: tracingSettings!.ratio }, "tracing on (OTLP/HTTP)");
    }
    const onQuery = tracing ? { onQuery: tracing.onQuery } : {};
    let databaseUrl = env.DATABASE_URL;
    let embedded: EmbeddedDatabase | null = null;
    if (!databaseUrl) {
      const dataDir = path.join(env.DATA_DIR, "postgres");
      log.info({ dataDir, port: env.EMBEDDED_PG_PORT }, "starting embedded PostgreSQL");
      embedded = await startEmbeddedPostgres({
        dataDir,
        port: env.EMBEDDED_PG_PORT,
        onLog: (line) => log.debug({ postgres: line.trim() }, "postgres"),
        onNotice: (message) => log.info(message),
      });
      const database = embedded;
      cleanups.push(() => database.stop());
      await embedded.createDatabase("checkout");
      databaseUrl = embedded.url("checkout");
    }

    const onIdleError = (error: Error) => log.warn({ err: error }, "idle database connection failed; it will be replaced");
    const db = createDb({ connectionString: databaseUrl, max: env.DB_POOL_MAX, applicationName: "checkout-api", onIdleError, ...onQuery });
    cleanups.push(() => db.destroy());
    // Catalogue reads go to the replica when there is one (a small pool: they sit behind a single-flight cache);
    // everything that must read its own writes (carts, quotes, checkout, orders, admin) stays on the writer.
    const readDb = env.DATABASE_READ_URL
      ? createDb({ connectionString: env.DATABASE_READ_URL, max: env.DB_READ_POOL_MAX, applicationName: "checkout-api-reader", onIdleError, ...onQuery })
      : db;
    if (readDb !== db) cleanups.push(() => readDb.destroy());
    log.info({ writer: hostOf(databaseUrl), reader: env.DATABASE_READ_URL ? hostOf(env.DATABASE_READ_URL) : "the writer" }, "database connections");

    if (env.MIGRATIONS === "verify") {
      // Deployed: the migrate command ran as the owner; this role may not change the schema and must not run ahead of it.
      await verifyMigrations(db);
      log.info("database schema up to date (MIGRATIONS=verify)");
    } else {
      const migrations = await migrateToLatest(db);
      const applied = migrations.results?.filter((r) => r.status === "Success").map((r) => r.migrationName) ?? [];
      log.info({ applied }, applied.length ? "migrations applied" : "database schema up to date");
    }
    if (env.SEED_CATALOG) {
      const inserted = await seedCatalog(db);
      if (inserted > 0) log.info({ products: inserted }, "seed catalogue loaded");
      const promotions = await seedPromotions(db);
      if (promotions > 0) log.info({ promotions }, "seed promo codes loaded");
    }

    let paymentUrl = env.PAYMENT_PROVIDER_URL ?? "";
    let paymentPublicUrl = env.PAYMENT_PROVIDER_PUBLIC_URL ?? paymentUrl;
    let secretKey = env.PAYMENT_SECRET_KEY ?? SANDBOX_SECRET_KEY;
    // With the sandbox, a fresh secret per process that the sandbox signs with; loadEnv requires one otherwise.
    const webhookSecret = env.PAYMENT_WEBHOOK_SECRET ?? `whsec_${randomBytes(24).toString("hex")}`;
    let paymentSandbox: PaymentSandbox | null = null;
    if (sandboxModule) {
      const publicOrigin = new URL(env.PUBLIC_URL).origin;
      const allowedParentOrigins = [...new Set([publicOrigin, publicOrigin.replace("localhost", "127.0.0.1"), new URL(env.DEV_WEB_ORIGIN).origin])];
      const sandbox = await sandboxModule.startPaymentSandbox({
        port: env.PAYMENT_SANDBOX_PORT,
        host: "127.0.0.1",
        secretKey,
        allowedParentOrigins,
        publicUrl: (listeningUrl) => env.PAYMENT_PROVIDER_PUBLIC_URL ?? listeningUrl.replace("127.0.0.1", "localhost"),
        slowCardDelayMs: env.PAYMENT_SANDBOX_SLOW_CARD_DELAY_MS,
      });
      cleanups.push(() => sandbox.close());
      paymentSandbox = sandbox;
      paymentUrl = sandbox.url;
      paymentPublicUrl = sandbox.publicUrl;
      log.info({ url: paymentPublicUrl, allowedParentOrigins }, "payment sandbox listening");
    } else {
      secretKey = env.PAYMENT_SECRET_KEY ?? secretKey;
    }
    const payments = new SandboxPaymentProvider({ baseUrl: paymentUrl, secretKey, timeoutMs: env.PAYMENT_PROVIDER_TIMEOUT_MS, ...(tracing ? { tracing } : {}) });

    const stockPolicy = stockPolicyOf(env);
    const catalog = createCatalogReader({ db: readDb, ttlMs: env.CATALOG_CACHE_MS, policy: stockPolicy });
    const admins = resolveAdminTokens({ configured: env.ADMIN_API_TOKENS, nodeEnv: env.NODE_ENV });
    if (admins.generated) log.warn(`ADMIN_API_TOKENS is not set: admin API token for this run is "${admins.generated.token}" (Authorization: Bearer …, name "dev")`);
    else if (admins.tokens.length === 0) log.info("ADMIN_API_TOKENS is not set: the admin API is disabled");
    if (admins.generated && env.NODE_ENV === "development") {
      // For local tools (the load tester's invariant check); a failure here must not stop the shop.
      const tokenFile = await writeDevAdminToken({ dataDir: env.DATA_DIR, token: admins.generated.token }).catch((error: unknown) => {
        log.warn({ err: error, dataDir: env.DATA_DIR }, "could not write the development admin token file");
        return null;
      });
      if (tokenFile) {
        cleanups.push(() => tokenFile.remove());
        log.info({ path: tokenFile.path }, "development admin token written (mode 0600) for local tools");
      }
    }
    // /ready checks the database on a connection of its own, so a flood of probes never takes one from shoppers.
    const readinessDb = createDb({ connectionString: databaseUrl, max: 1, applicationName: "checkout-api-readiness", statementTimeoutMs: 2000, onIdleError });
    cleanups.push(() => readinessDb.destroy());
    const services: Services = {
      db,
      readDb,
      catalog,
      payments,
      addressLookup: env.ADDRESS_LOOKUP === "local" ? createLocalAddressLookup() : noAddressLookup,
      captureMode: env.CAPTURE_MODE,
      paymentVelocity: paymentVelocityOf(env),
      stockPolicy,
      log,
      adminAuth: createAdminAuth(admins.tokens),
      metrics: new Metrics(),
      ...(tracing ? { tracing } : {}),
    };
    const appServer = createAppServer({
      services,
      log,
      webRoot: env.WEB_DIST,
      paymentFieldUrl: paymentPublicUrl,
      keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
      edge: edgeLimitsOf(env),
      clientAddress: { trustedProxies: env.TRUST_PROXY, ...(env.VIEWER_ADDRESS_HEADER ? { viewerAddressHeader: env.VIEWER_ADDRESS_HEADER } : {}) },
      readiness: createReadinessProbe({ db: readinessDb, cacheMs: env.READY_CACHE_MS }),
      metricsAccess: { ...(env.METRICS_TOKEN ? { token: env.METRICS_TOKEN } : {}), allowLoopback: env.NODE_ENV !== "production" },
      version: env.APP_VERSION,
      admission: admissionOf(env),
      paymentWebhooks: { secret: webhookSecret, toleranceSeconds: env.PAYMENT_WEBHOOK_TOLERANCE_SECONDS },
    });
    await new Promise<void>((resolve, reject) => {
      appServer.server.once("error", reject);
      appServer.server.listen(env.PORT, env.HOST, () => {
        appServer.server.off("error", reject);
        resolve();
      });
    });
    const port = (appServer.server.address() as AddressInfo).port;
    const url = `http://localhost:${port}`;
    paymentSandbox?.setWebhookTarget(`${url}/webhooks/payments`, webhookSecret);
    const jobs = env.JOBS === "on" ? startBackgroundJobs({ env, services, log }) : null;

    return {
      url,
      port,
      databaseUrl,
      paymentUrl,
      paymentSandbox,
      services,
      server: appServer,
      async close() {
        // A job run in progress finishes before the pools close; its unfinished work is picked up by the next process.
        const [result] = await Promise.all([appServer.drain(env.SHUTDOWN_TIMEOUT_MS), jobs?.stop()]);
        await cleanup();
        return result;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
