// The policies from the validated environment — the edge's limits, stock and retention: one mapping each,
// used by the request path (app.ts), the background jobs and the CLIs alike.
import type { Retention, StockPolicy } from "@checkout/core";
import type { Env } from "../env.ts";
import type { EdgeLimits } from "../http/server.ts";

/** The edge's limits (each documented in env.ts and docs/SECURITY.md). */
export function edgeLimitsOf(env: Env): EdgeLimits {
  return {
    headersTimeoutMs: env.HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: env.BODY_TIMEOUT_MS,
    maxBodyBytes: env.MAX_BODY_BYTES,
    maxJsonDepth: env.MAX_JSON_DEPTH,
    maxJsonStringLength: env.MAX_JSON_STRING_LENGTH,
    maxConnectionsPerClient: env.MAX_CONNECTIONS_PER_CLIENT,
    maxInFlightPerClient: env.MAX_IN_FLIGHT_PER_CLIENT,
    ratePerMinute: {
      browse: env.RATE_LIMIT_BROWSE_PER_MINUTE,
      cart: env.RATE_LIMIT_CART_PER_MINUTE,
      payment: env.RATE_LIMIT_PAYMENT_PER_MINUTE,
      admin: env.RATE_LIMIT_ADMIN_PER_MINUTE,
    },
    exemptClients: env.CLIENT_LIMITS_EXEMPT,
  };
}

export function stockPolicyOf(env: Env): StockPolicy.StockPolicy {
  return {
    maxUnitsPerSku: env.MAX_UNITS_PER_SKU,
    maxUnitsPerCart: env.MAX_UNITS_PER_ORDER,
    maxStockSharePercent: env.MAX_STOCK_SHARE_PERCENT,
    holdMs: env.STOCK_HOLD_MS,
  };
}

export function retentionPolicyOf(env: Env): Retention.RetentionPolicy {
  return {
    cartRetentionDays: env.CART_RETENTION_DAYS,
    quoteRetentionHours: env.QUOTE_RETENTION_HOURS,
    orderPersonalDataRetentionDays: env.ORDER_PERSONAL_DATA_RETENTION_DAYS,
    outboxRetentionDays: env.OUTBOX_RETENTION_DAYS,
  };
}
