// The Tracing hooks (tracing.ts) on OpenTelemetry's SDK, exporting OTLP/HTTP JSON. Loaded only when tracing is on.
// Nothing is registered globally (no global tracer provider, context manager or propagator): the active span lives in
// this instance's own AsyncLocalStorage, so two apps in one process (tests) never see each other's spans.
import { AsyncLocalStorage } from "node:async_hooks";
import type http from "node:http";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, RandomIdGenerator, type IdGenerator } from "@opentelemetry/sdk-trace-base";
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from "@opentelemetry/semantic-conventions";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { TRPCError } from "@trpc/server";
import type { LogEvent } from "kysely";
import { isAppError } from "@checkout/core";
import type { ClientCall, ProcedureResult, Tracing, TracingSettings } from "./tracing.ts";

/** The request id attribute on the request and procedure spans (the X-Request-Id header's value). */
export const REQUEST_ID_ATTRIBUTE = "checkout.request_id";
/** Long statements are cut here: enough to recognise one, bounded span size. */
const MAX_STATEMENT_LENGTH = 2048;
/** Routes never traced: the load balancer's and Prometheus's probes (many, and they say nothing about a purchase). */
const PROBES = new Set(["/health", "/ready", "/metrics"]);

/**
 * Trace ids whose first 4 bytes are the time in seconds, as X-Ray's own ids are: X-Ray refuses a trace whose id
 * dates more than 30 days back, which a random id often would. Span ids stay random.
 */
class TimestampedIdGenerator implements IdGenerator {
  readonly #random = new RandomIdGenerator();
  generateTraceId(): string {
    return (
      Math.floor(Date.now() / 1000)
        .toString(16)
        .padStart(8, "0") + this.#random.generateTraceId().slice(8)
    );
  }
  generateSpanId(): string {
    return this.#random.generateSpanId();
  }
}

/** The HTTP route a request is named by: the procedure's /trpc path, a fixed path, or none (static files, unknown). */
function httpRouteOf(route: string): string | undefined {
  if (route === "static" || route === "trpc:unknown") return undefined;
  return route.startsWith("/") ? route : `/trpc/${route}`;
}

/** SELECT, INSERT, BEGIN …: a statement's first word, the span's name. */
function operationOf(statement: string): string {
  const match = /^\s*([A-Za-z]+)/.exec(statement);
  return match ? match[1]!.toUpperCase() : "SQL";
}

/** The domain or edge error code a failed procedure answered with (OUT_OF_STOCK …), else tRPC's. */
function errorCodeOf(error: { code: string; cause?: unknown }): string {
  const cause = error.cause;
  if (isAppError(cause)) return cause.code;
  if (typeof cause === "object" && cause !== null && typeof (cause as { code?: unknown }).code === "string" && /^[A-Z_]+$/.test((cause as { code: string }).code)) {
    return (cause as { code: string }).code;
  }
  return error.code;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

export function createOtelTracing(settings: TracingSettings): Tracing {
  const exporter = new OTLPTraceExporter({ url: settings.tracesUrl, timeoutMillis: 5000 });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: settings.serviceName,
      ...(settings.serviceVersion ? { [ATTR_SERVICE_VERSION]: settings.serviceVersion } : {}),
    }),
    // The request's sampling is decided in serveRequest before the SDK is asked for anything (an unsampled request costs
    // one Math.random()); every span the SDK is asked for is then recorded, and children follow their request.
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    idGenerator: new TimestampedIdGenerator(),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer("@checkout/api");
  /** The innermost span of the request being run: only ever a recording (sampled) one. */
  const active = new AsyncLocalStorage<Span>();
  const requestSpans = new WeakMap<http.IncomingMessage, Span>();
  /** Statements Kysely reported as failed: it reports them a second time as queries, which must not make a second span. */
  const failedQueries = new WeakSet<object>();

  const childOf = (parent: Span) => trace.setSpan(ROOT_CONTEXT, parent);

  return {
    serveRequest(req, res, routeOf, handle) {
      // An unsampled request (and a probe): no span object, no async context, nothing after this check.
      if (settings.ratio < 1 && Math.random() >= settings.ratio) {
        handle(req, res);
        return;
      }
      const url = req.url ?? "/";
      const queryAt = url.indexOf("?");
      const route = routeOf(queryAt === -1 ? url : url.slice(0, queryAt));
      if (PROBES.has(route)) {
        handle(req, res);
        return;
      }
      const method = req.method ?? "GET";
      const httpRoute = httpRouteOf(route);
      // A new trace per request, whatever traceparent the caller sent (docs/OPERATIONS.md "Tracing": who may steer sampling).
      const span = tracer.startSpan(
        httpRoute ? `${method} ${httpRoute}` : method,
        { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, ...(httpRoute ? { [ATTR_HTTP_ROUTE]: httpRoute } : {}) } },
        ROOT_CONTEXT,
      );
      requestSpans.set(req, span);
      res.once("close", () => {
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        if (!res.writableFinished) span.setAttribute("checkout.response_incomplete", true);
        span.end();
      });
      active.run(span, handle, req, res);
      // The handler sets the request id before anything asynchronous (packages/api/src/http/server.ts).
      const requestId = res.getHeader("x-request-id");
      if (typeof requestId === "string") span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
    },

    async traceProcedure(procedure, next) {
      const parent = active.getStore();
      if (!parent) return next();
      const span = tracer.startSpan(
        `trpc ${procedure.path}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: { "rpc.system": "trpc", "rpc.method": procedure.path, "checkout.procedure_type": procedure.type, [REQUEST_ID_ATTRIBUTE]: procedure.requestId },
        },
        childOf(parent),
      );
      try {
        const result = await active.run(span, next);
        if (!result.ok && result.error) recordFailure(span, result);
        return result;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },

    onQuery(event: LogEvent) {
      const parent = active.getStore();
      if (!parent) return;
      if (event.level === "query" && failedQueries.delete(event.query)) return;
      const end = now();
      const statement = event.query.sql;
      const span = tracer.startSpan(
        operationOf(statement),
        {
          kind: SpanKind.CLIENT,
          startTime: end - event.queryDurationMillis,
          // The text with its $1 … placeholders only: parameter values (names, addresses, emails) never enter a span.
          attributes: { "db.system": "postgresql", "db.statement": statement.length > MAX_STATEMENT_LENGTH ? statement.slice(0, MAX_STATEMENT_LENGTH) : statement },
        },
        childOf(parent),
      );
      if (event.level === "error") {
        failedQueries.add(event.query);
        // The SQLSTATE alone: PostgreSQL's messages can quote the values (a unique violation's "Key (email)=(…)").
        const sqlState = (event.error as { code?: unknown }).code;
        if (typeof sqlState === "string") span.setAttribute("db.response.status_code", sqlState);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end(end);
    },

    async traceClientCall(call: ClientCall, run) {
      const parent = active.getStore();
      if (!parent) return run();
      const span = tracer.startSpan(
        `${call.method} ${call.template}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { [ATTR_HTTP_REQUEST_METHOD]: call.method, "url.template": call.template, [ATTR_SERVER_ADDRESS]: call.serverAddress, "peer.service": "payment-provider" },
        },
        childOf(parent),
      );
      try {
        const result = await run();
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, result.status);
        if (result.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        return result;
      } catch (error) {
        // The kind of failure (TimeoutError …), not its message: a message may carry the URL and its ids.
        const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
        span.setAttribute("error.type", cause instanceof Error ? cause.name : "unknown");
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },

    traceIdOf(req) {
      return requestSpans.get(req)?.spanContext().traceId;
    },

    async shutdown(timeoutMs = 3000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([provider.shutdown(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    },
  };
}

function recordFailure(span: Span, result: ProcedureResult): void {
  const error = result.error as TRPCError;
  span.setAttribute("checkout.error_code", errorCodeOf(error));
  if (getHTTPStatusCodeFromError(error) >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
}
