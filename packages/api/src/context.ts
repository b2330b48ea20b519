// Request context: what every procedure may use. Built by a function tests can call without HTTP.
import type { Kysely } from "kysely";
import type { AddressLookupProvider, CatalogReader, Database, PaymentProvider, PaymentVelocity, StockPolicy } from "@checkout/core";
import type { Logger } from "./logger.ts";
import type { AdminAuth, RequestOrigin } from "./admin/admin-auth.ts";
import type { Metrics } from "./http/metrics.ts";
import type { Tracing } from "./telemetry/tracing.ts";

export interface Services {
  /** Writer: every mutation, and reads that must see the latest write. */
  db: Kysely<Database>;
  /** Reader: catalogue reads that tolerate replica lag; the writer when there is no replica. */
  readDb: Kysely<Database>;
  /** Catalogue reads, from the reader through a short single-flight cache. */
  catalog: CatalogReader;
  payments: PaymentProvider;
  /** City and state from a ZIP code, and address-line completions (ADDRESS_LOOKUP: the offline list, or none). */
  addressLookup: AddressLookupProvider;
  /** When an authorised payment is captured: at once, or when the order is fulfilled. */
  captureMode: "immediate" | "on_fulfilment";
  /** Card-testing limits on declined payments per cart, client address, email and card (PAYMENT_DECLINES_PER_*). */
  paymentVelocity: PaymentVelocity.Limits;
  /** Units per order and how long a pending order holds them (MAX_UNITS_PER_SKU, MAX_UNITS_PER_ORDER, MAX_STOCK_SHARE_PERCENT, STOCK_HOLD_MS). */
  stockPolicy: StockPolicy.StockPolicy;
  log: Logger;
  /** Checks admin.* bearer tokens (ADMIN_API_TOKENS). */
  adminAuth: AdminAuth;
  /** The process's Prometheus counters (/metrics); procedures add their own (payment attempts …). */
  metrics: Metrics;
  /** Spans for requests, procedures, statements and provider calls; absent when tracing is off (OTEL_*). */
  tracing?: Tracing;
}

export interface Context extends Services {
  requestId: string;
  /** Client IP and user agent, for audit records. */
  origin: RequestOrigin;
  /** The raw Authorization header; only admin.* reads it. */
  authorization: string | null;
}

/**
 * `log` may be given as a function making the request's logger: it is then made on first use only, since most
 * procedures never log (a logger child per request was a measurable share of a cached read's CPU).
 */
export function createContext(services: Services, request: { requestId: string; log?: Logger | (() => Logger); origin?: RequestOrigin; authorization?: string | null }): Context {
  const { log } = request;
  if (typeof log !== "function") {
    return { ...services, log: log ?? services.log, requestId: request.requestId, origin: request.origin ?? {}, authorization: request.authorization ?? null };
  }
  let made: Logger | undefined;
  return {
    ...services,
    get log() {
      made ??= log();
      return made;
    },
    requestId: request.requestId,
    origin: request.origin ?? {},
    authorization: request.authorization ?? null,
  };
}
