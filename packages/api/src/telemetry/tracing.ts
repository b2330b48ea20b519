// Tracing's face to the rest of the API: what the server, the procedures, the database and the payment provider call,
// and the settings that turn it on. No OpenTelemetry code loads unless it is configured (otel-tracing.ts, imported
// on demand): with tracing off `services.tracing` is absent and every hook is skipped by a single check.
import type http from "node:http";
import type { Database, PaymentProvider } from "@checkout/core";
import type { Kysely, LogEvent } from "kysely";
import type { Env } from "../env.ts";

/** What a procedure's tRPC middleware passes in and gets back (tRPC's MiddlewareResult, reduced to what is read). */
export interface ProcedureResult {
  ok: boolean;
  error?: { code: string; cause?: unknown };
}

/** One outgoing call to the payment provider, named by its route template (never its URL: ids and tokens stay out). */
export interface ClientCall {
  method: "GET" | "POST";
  /** The path with its ids replaced, e.g. /v1/authorizations/{id}/capture. */
  template: string;
  /** The provider's host:port. */
  serverAddress: string;
}

/** A span that calls made on its behalf are children of (opaque outside telemetry/). */
export interface TraceParent {
  readonly isTraceParent: true;
}

/** A payment provider that can report its calls as children of a span. */
export interface TraceablePaymentProvider extends PaymentProvider {
  tracedUnder(parent: TraceParent): PaymentProvider;
}

/** What a traced procedure runs with instead of the request's own: the same database and provider, reporting to its span. */
export interface ProcedureContextOverride {
  db: Kysely<Database>;
  readDb: Kysely<Database>;
  payments: PaymentProvider;
}

/**
 * No AsyncLocalStorage: once one is in use, Node 20 runs a hook on every promise of the process, sampled request or
 * not (measured: about a fifth more CPU per request with 0.01 % of requests sampled). A span's children find it
 * through what the request hands down instead: the procedure's context, its database handle (a Kysely plugin marks
 * the statements it runs) and its payment provider.
 */
export interface Tracing {
  /** Runs one HTTP request inside a server span (none for the probes or an unsampled request), ended when the response closes. */
  serveRequest(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    routeOf: (pathname: string) => string,
    handle: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  ): void;
  /** Ties a procedure's context to its request's span (when the request is traced); returns the context. */
  contextFor<C extends object>(req: http.IncomingMessage, ctx: C): C;
  /**
   * Runs a procedure inside a span, a child of its request's, with the request id and, on failure, the error code;
   * `run` is given the database and provider that report to that span. An untraced request's procedure: `run()` alone.
   */
  traceProcedure<R extends ProcedureResult>(
    ctx: { requestId: string; db: Kysely<Database>; readDb: Kysely<Database>; payments: PaymentProvider },
    procedure: { path: string; type: string },
    run: (override?: ProcedureContextOverride) => Promise<R>,
  ): Promise<R>;
  /** Kysely's log hook: a span for a statement a traced procedure ran (its text, never its parameters). */
  onQuery(event: LogEvent): void;
  /** Runs a call to the payment provider inside a client span under `parent`; `run` returns the HTTP status it got. */
  traceClientCall<T extends { status: number }>(parent: TraceParent, call: ClientCall, run: () => Promise<T>): Promise<T>;
  /** The trace id of a request being traced and sampled, for its access log line; undefined otherwise. */
  traceIdOf(req: http.IncomingMessage): string | undefined;
  /** Exports what is buffered and stops; waits at most `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export type SamplerName = NonNullable<Env["OTEL_TRACES_SAMPLER"]>;

export interface TracingSettings {
  /** Where spans are POSTed (OTLP/HTTP, JSON). */
  tracesUrl: string;
  /** The share of requests traced, 0–1 (always_on: 1). */
  ratio: number;
  serviceName: string;
  serviceVersion?: string;
}

/**
 * Tracing's settings from the validated configuration, or null when it is off: no endpoint, OTEL_SDK_DISABLED=true,
 * or a sampler that never samples. A request's sampling is always decided here, never by its caller (the incoming
 * traceparent is ignored: docs/OPERATIONS.md "Tracing"), so the parentbased_ samplers act as their root samplers.
 */
export function tracingSettingsOf(env: Env): TracingSettings | null {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const tracesUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined);
  if (!tracesUrl || env.OTEL_SDK_DISABLED) return null;
  const sampler = env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on";
  const ratio = sampler.endsWith("always_off") ? 0 : sampler.endsWith("traceidratio") ? (env.OTEL_TRACES_SAMPLER_ARG ?? 1) : 1;
  if (ratio === 0) return null;
  return { tracesUrl, ratio, serviceName: env.OTEL_SERVICE_NAME, ...(env.APP_VERSION ? { serviceVersion: env.APP_VERSION } : {}) };
}

/** Loads OpenTelemetry and starts exporting, or returns null (and loads nothing) when tracing is off. */
export async function startTracing(settings: TracingSettings | null): Promise<Tracing | null> {
  if (!settings) return null;
  const { createOtelTracing } = await import("./otel-tracing.ts");
  return createOtelTracing(settings);
}
