// Tracing end to end: one purchase over HTTP with tracing on, its spans received by a local OTLP/HTTP endpoint and
// checked as a tree (request → procedure → SQL statements and the payment call); and with tracing off, nothing at all.
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { trace } from "@opentelemetry/api";
import { createTRPCClient, httpLink } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "../src/router.ts";
import { CARDS, readyCart, startTestApp, US_ADDRESS, type TestApp } from "./support/app.ts";

/** A local OTLP/HTTP receiver: keeps every body POSTed to /v1/traces, as the exporter sent it (JSON). */
async function startOtlpReceiver() {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") {
        bodies.push(Buffer.concat(chunks).toString("utf8"));
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
        return;
      }
      res.writeHead(404);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
}

/** Every span in the OTLP JSON bodies, with its attributes as a plain object. */
function spansOf(bodies: string[]): { spans: ExportedSpan[]; serviceNames: unknown[] } {
  const spans: ExportedSpan[] = [];
  const serviceNames: unknown[] = [];
  for (const body of bodies) {
    const parsed = JSON.parse(body) as {
      resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: (Omit<ExportedSpan, "attributes"> & { attributes: OtlpAttribute[] })[] }[] }[];
    };
    for (const resourceSpans of parsed.resourceSpans) {
      serviceNames.push(attributesOf(resourceSpans.resource.attributes)["service.name"]);
      for (const scope of resourceSpans.scopeSpans) {
        for (const span of scope.spans) spans.push({ ...span, parentSpanId: span.parentSpanId || undefined, attributes: attributesOf(span.attributes) });
      }
    }
  }
  return { spans, serviceNames };
}

function attributesOf(attributes: OtlpAttribute[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const { key, value } of attributes) {
    values[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue));
  }
  return values;
}

/** OTLP's span kinds. */
const SERVER = 2;
const CLIENT = 3;

/** A typed client like the web app's that notes each response's X-Request-Id, and sends a sampled traceparent of its own. */
function recordingClient(url: string, callerTraceId: string) {
  const calls: { path: string; requestId: string }[] = [];
  const client = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/trpc`,
        methodOverride: "POST",
        headers: ({ op }) => ({
          traceparent: `00-${callerTraceId}-00f067aa0ba902b7-01`,
          ...(op.path === "checkout.placeOrder" ? { "idempotency-key": randomUUID() } : {}),
        }),
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          calls.push({ path: new URL(String(input)).pathname.slice("/trpc/".length), requestId: response.headers.get("x-request-id") ?? "" });
          return response;
        },
      }),
    ],
  });
  return { client, calls };
}

describe("tracing on: one purchase", () => {
  const callerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let t: TestApp;
  let calls: { path: string; requestId: string }[];
  let spans: ExportedSpan[];
  let serviceNames: unknown[];
  const secrets: string[] = [];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    t = await startTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: "checkout-api-test" });
    const recording = recordingClient(t.app.url, callerTraceId);
    calls = recording.calls;
    const cartId = await readyCart(recording.client);
    await recording.client.checkout.listShippingOptions.query({ cartId });
    const quote = await recording.client.checkout.quote.mutate({ cartId });
    const paymentToken = await t.tokenize(CARDS.success, { cvc: "987" });
    const order = await recording.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken });
    expect(order.status).toBe("captured");
    secrets.push(CARDS.success, CARDS.success.slice(-8), paymentToken, cartId, order.id, quote.id, "ada@example.com", US_ADDRESS.name, US_ADDRESS.line1, US_ADDRESS.postalCode);
    // Closing is the graceful shutdown: it must export what the batch still holds.
    await t.close();
    ({ spans, serviceNames } = spansOf(receiver.bodies));
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const serverSpanOf = (requestId: string) => spans.filter((span) => span.kind === SERVER && span.attributes["checkout.request_id"] === requestId);
  const childrenOf = (parent: ExportedSpan) => spans.filter((span) => span.traceId === parent.traceId && span.parentSpanId === parent.spanId);

  it("exports the purchase's requests, each as one trace whose root is its server span with its request id", () => {
    expect(calls.map((call) => call.path)).toEqual([
      "cart.create",
      "cart.addLine",
      "checkout.setContact",
      "checkout.setShippingAddress",
      "checkout.setShippingOption",
      "checkout.listShippingOptions",
      "checkout.quote",
      "checkout.placeOrder",
    ]);
    expect(new Set(serviceNames)).toEqual(new Set(["checkout-api-test"]));
    const traceIds = new Set<string>();
    for (const { path, requestId } of calls) {
      expect(requestId).not.toBe("");
      const servers = serverSpanOf(requestId);
      expect(servers).toHaveLength(1);
      const server = servers[0]!;
      expect(server.name).toBe(`POST /trpc/${path}`);
      expect(server.parentSpanId).toBeUndefined();
      expect(server.attributes).toMatchObject({ "http.request.method": "POST", "http.route": `/trpc/${path}`, "http.response.status_code": 200 });
      traceIds.add(server.traceId);
    }
    expect(traceIds.size).toBe(calls.length);
    // Each trace has exactly one root; the only others are the payment sandbox's webhook deliveries, requests of their own.
    const allTraceIds = new Set(spans.map((span) => span.traceId));
    for (const traceId of allTraceIds) {
      const roots = spans.filter((span) => span.traceId === traceId && !span.parentSpanId);
      expect(roots).toHaveLength(1);
      if (!traceIds.has(traceId)) expect(roots[0]!.name).toBe("POST /webhooks/payments");
    }
  });

  it("starts its own traces: the caller's traceparent neither names them nor parents them", () => {
    expect(spans.some((span) => span.traceId === callerTraceId)).toBe(false);
    expect(spans.some((span) => span.parentSpanId === "00f067aa0ba902b7")).toBe(false);
  });

  it("puts each procedure's span under its request's, with the same request id", () => {
    for (const { path, requestId } of calls) {
      const server = serverSpanOf(requestId)[0]!;
      const procedures = childrenOf(server).filter((span) => span.name.startsWith("trpc "));
      expect(procedures.map((span) => span.name)).toEqual([`trpc ${path}`]);
      expect(procedures[0]!.attributes).toMatchObject({ "rpc.system": "trpc", "rpc.method": path, "checkout.request_id": requestId });
    }
  });

  it("puts the SQL statements under the procedure that ran them, as text with placeholders", () => {
    for (const { path, requestId } of calls) {
      const server = serverSpanOf(requestId)[0]!;
      const procedure = childrenOf(server).find((span) => span.name === `trpc ${path}`)!;
      const statements = childrenOf(procedure).filter((span) => span.attributes["db.system"] === "postgresql");
      expect(statements.length, path).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement.kind).toBe(CLIENT);
        expect(statement.name).toBe(String(statement.attributes["db.statement"]).trim().split(/\s+/)[0]!.toUpperCase());
      }
      // Only the pipeline's idempotency record (placeOrder's Idempotency-Key) is a statement of the request itself.
      const outside = spans.filter((span) => span.traceId === server.traceId && span.attributes["db.system"] && span.parentSpanId !== procedure.spanId);
      for (const statement of outside) {
        expect(statement.parentSpanId).toBe(server.spanId);
        expect(String(statement.attributes["db.statement"])).toMatch(/idempotency_key|^(begin|commit|rollback)$/i);
      }
      if (path !== "checkout.placeOrder") expect(outside).toEqual([]);
    }
    const texts = spans.map((span) => span.attributes["db.statement"]).filter((text): text is string => typeof text === "string");
    expect(texts.some((text) => /\$1\b/.test(text) && /insert into "cart_line/i.test(text))).toBe(true);
  });

  it("puts the payment provider's authorisation under placeOrder as a client span named by its route", () => {
    const placeOrder = calls.find((call) => call.path === "checkout.placeOrder")!;
    const server = serverSpanOf(placeOrder.requestId)[0]!;
    const procedure = childrenOf(server).find((span) => span.name === "trpc checkout.placeOrder")!;
    const payments = spans.filter((span) => span.attributes["peer.service"] === "payment-provider");
    expect(payments.length).toBeGreaterThan(0);
    expect(payments.every((span) => span.parentSpanId === procedure.spanId && span.kind === CLIENT)).toBe(true);
    const authorize = payments.find((span) => span.name === "POST /v1/authorizations");
    expect(authorize?.attributes).toMatchObject({ "http.request.method": "POST", "url.template": "/v1/authorizations", "http.response.status_code": 201 });
  });

  it("never exports card data, a payment token, a capability id or the shopper's details", () => {
    const payload = receiver.bodies.join("\n");
    expect(payload.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(payload.includes(secret), secret).toBe(false);
    expect(payload).not.toMatch(/\b987\b/);
  });

  it("writes each sampled request's trace id in its access log line", () => {
    const accessLines = t.logs.map((line) => JSON.parse(line) as { msg?: string; requestId?: string; traceId?: string }).filter((line) => line.msg === "request");
    for (const { requestId } of calls) {
      const line = accessLines.find((candidate) => candidate.requestId === requestId);
      expect(line?.traceId).toBe(serverSpanOf(requestId)[0]!.traceId);
    }
  });

  it("registers nothing globally: OpenTelemetry's global tracer stays a no-op", () => {
    expect(trace.getTracer("probe").startSpan("probe").isRecording()).toBe(false);
  });
});

describe("tracing off", () => {
  it("loads no tracer, exports nothing and logs no trace id", async () => {
    const receiver = await startOtlpReceiver();
    // The receiver exists but is not configured: a default start must never find it.
    const t = await startTestApp();
    try {
      expect(t.app.services.tracing).toBeUndefined();
      const cartId = await readyCart(t.client);
      await t.client.cart.get.query({ cartId });
    } finally {
      await t.close();
      await receiver.close();
    }
    expect(receiver.bodies).toEqual([]);
    expect(trace.getTracer("probe").startSpan("probe").isRecording()).toBe(false);
    const accessLines = t.logs.map((line) => JSON.parse(line) as { msg?: string; traceId?: string }).filter((line) => line.msg === "request");
    expect(accessLines.length).toBeGreaterThan(0);
    expect(accessLines.every((line) => line.traceId === undefined)).toBe(true);
  });

  it("fails at start-up, naming the variable, on a bad endpoint, sampler or ratio", async () => {
    const { loadEnv } = await import("../src/env.ts");
    const base = { NODE_ENV: "test", DATABASE_URL: "postgres://localhost/x" };
    expect(() => loadEnv({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => loadEnv({ ...base, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "grpc://collector:4317" })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT/);
    expect(() => loadEnv({ ...base, OTEL_TRACES_SAMPLER: "sometimes" })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(() => loadEnv({ ...base, OTEL_TRACES_SAMPLER_ARG: "5" })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => loadEnv({ ...base, OTEL_TRACES_SAMPLER_ARG: "half" })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => loadEnv({ ...base, OTEL_SERVICE_NAME: "checkout api" })).toThrow(/OTEL_SERVICE_NAME/);
  });
});
