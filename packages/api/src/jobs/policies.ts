// The domain's stock and retention policies from the validated environment: one mapping, used by the
// request path (app.ts services), the background jobs and the CLIs alike.
import type { Retention, StockPolicy } from "@checkout/core";
import type { Env } from "../env.ts";

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
