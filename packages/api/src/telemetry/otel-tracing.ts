// The Tracing hooks (tracing.ts) on OpenTelemetry's SDK, exporting OTLP/HTTP JSON. Loaded only when tracing is on.
// Nothing is registered globally (no global tracer provider, context manager or propagator), and no AsyncLocalStorage
// (tracing.ts says why): a span's children are handed their parent, so two apps in one process never mix spans.
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
import type { KyselyPlugin, LogEvent, QueryId } from "kysely";
import { isAppError } from "@checkout/core";
import type { ClientCall, ProcedureResult, TraceablePaymentProvider, TraceParent, Tracing, TracingSettings } from "./tracing.ts";

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
  /** Spans of the requests being traced, and of the procedure contexts made for them. */
  const requestSpans = new WeakMap<http.IncomingMessage, Span>();
  const contextSpans = new WeakMap<object, Span>();
  /** The procedure span each statement a traced procedure built belongs to, by Kysely's id of the query. */
  const queryParents = new WeakMap<QueryId, Span>();
  /**
   * Statements compiled ahead of time (core's compileOnce) are never shown to a plugin before they run, only their
   * result after: while a traced procedure runs, a statement of no known procedure waits here for that moment.
   */
  const pendingStatements = new WeakMap<QueryId, { event: LogEvent; end: number }>();
  let tracedProcedures = 0;

  /** A statement's span, a child of `parent`: its text with $1 … placeholders only, never parameter values. */
  const recordStatement = (parent: Span, event: LogEvent, end: number) => {
    const statement = event.query.sql;
    const span = tracer.startSpan(
      operationOf(statement),
      {
        kind: SpanKind.CLIENT,
        startTime: end - event.queryDurationMillis,
        attributes: { "db.system": "postgresql", "db.statement": statement.length > MAX_STATEMENT_LENGTH ? statement.slice(0, MAX_STATEMENT_LENGTH) : statement },
      },
      childOf(parent),
    );
    if (event.level === "error") {
      // The SQLSTATE alone: PostgreSQL's messages can quote the values (a unique violation's "Key (email)=(…)").
      const sqlState = (event.error as { code?: unknown }).code;
      if (typeof sqlState === "string") span.setAttribute("db.response.status_code", sqlState);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(end);
  };
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
      handle(req, res);
      // The handler sets the request id before anything asynchronous (packages/api/src/http/server.ts).
      const requestId = res.getHeader("x-request-id");
      if (typeof requestId === "string") span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
    },

    contextFor(req, ctx) {
      const span = requestSpans.get(req);
      if (span) contextSpans.set(ctx, span);
      return ctx;
    },

    async traceProcedure(ctx, procedure, run) {
      const parent = contextSpans.get(ctx);
      if (!parent) return run();
      const span = tracer.startSpan(
        `trpc ${procedure.path}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: { "rpc.system": "trpc", "rpc.method": procedure.path, "checkout.procedure_type": procedure.type, [REQUEST_ID_ATTRIBUTE]: ctx.requestId },
        },
        childOf(parent),
      );
      // The procedure's own handles: the same pool and provider, their statements and calls marked as this span's.
      const marker: KyselyPlugin = {
        transformQuery({ node, queryId }) {
          queryParents.set(queryId, span);
          return node;
        },
        transformResult: async ({ result, queryId }) => {
          const pending = pendingStatements.get(queryId);
          if (pending) {
            pendingStatements.delete(queryId);
            recordStatement(span, pending.event, pending.end);
          }
          return result;
        },
      };
      const db = ctx.db.withPlugin(marker);
      const override = {
        db,
        readDb: ctx.readDb === ctx.db ? db : ctx.readDb.withPlugin(marker),
        payments: isTraceable(ctx.payments) ? ctx.payments.tracedUnder(span as unknown as TraceParent) : ctx.payments,
      };
      tracedProcedures += 1;
      try {
        const result = await run(override);
        if (!result.ok && result.error) recordFailure(span, result);
        return result;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        tracedProcedures -= 1;
        span.end();
      }
    },

    onQuery(event: LogEvent) {
      if (event.level === "query" && failedQueries.delete(event.query)) return;
      if (event.level === "error") failedQueries.add(event.query);
      const parent = queryParents.get(event.query.queryId);
      if (parent) recordStatement(parent, event, now());
      else if (tracedProcedures > 0) pendingStatements.set(event.query.queryId, { event, end: now() });
    },

    async traceClientCall(traceParent, call: ClientCall, run) {
      const parent = traceParent as unknown as Span;
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

function isTraceable(payments: object): payments is TraceablePaymentProvider {
  return typeof (payments as Partial<TraceablePaymentProvider>).tracedUnder === "function";
}

function recordFailure(span: Span, result: ProcedureResult): void {
  const error = result.error as TRPCError;
  span.setAttribute("checkout.error_code", errorCodeOf(error));
  if (getHTTPStatusCodeFromError(error) >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
}
