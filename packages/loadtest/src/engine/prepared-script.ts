// A script worked out once for a run: its scenarios with each request pre-encoded when nothing in it depends on the
// virtual user, the keep-alive pools per origin, and each new user's variables.
import type { Histogram } from "hdr-histogram-js";
import { compileJsonPath, type JsonPath } from "../script/json-path.ts";
import type { Script, Step } from "../script/script-types.ts";
import { compileRequestStep, compileTemplate, hasPlaceholders, renderRequestStep, renderTemplate, type Template } from "../script/template.ts";
import { createVuVariablePicker } from "../script/vu-variables.ts";
import { HttpPool } from "./http-pool.ts";
import { encodeRequest, type EncodedRequest } from "./http-request.ts";
import { failureSite } from "./failure-causes.ts";

type RequestStep = Extract<Step, { kind: "request" }>;

/** A request as it goes on the wire, and the pool that sends it. */
export interface WireRequest {
  pool: HttpPool;
  request: EncodedRequest;
}

/** A request step with everything that does not depend on the virtual user worked out once. */
export interface PreparedRequest {
  kind: "request";
  step: RequestStep;
  method: RequestStep["method"];
  /** Latency by endpoint, when the script has more than one (with one, it is the overall latency). */
  endpointHistogram: Histogram | null;
  captures: { path: JsonPath; as: string }[];
  expectStatus: number[] | undefined;
  /** Where it is in the script, for the failures it causes: `check out · step 8 POST /trpc/checkout.placeOrder`. */
  site: string;
  /** The encoded request and its pool, when nothing in it depends on the virtual user. */
  fixed: WireRequest | null;
}

export type PreparedStep = PreparedRequest | { kind: "think"; ms: number } | { kind: "loop"; count: number; steps: PreparedStep[] };

export interface PreparedScenario {
  /** Its name, or `scenario N` (1-based) when it has none. */
  name: string;
  weight: number;
  flow: PreparedStep[];
}

export interface PrepareOptions {
  /** Keep-alive sockets per origin. */
  connections: number;
  timeoutMs: number;
  /** The histogram an endpoint's latency goes to, or null when the overall latency stands for it. */
  endpointHistogram(name: string): Histogram | null;
}

/** Endpoints are named by method and url template. */
function endpointName(step: RequestStep): string {
  return `${step.method} ${step.url}`;
}

function listRequestSteps(steps: Step[]): RequestStep[] {
  return steps.flatMap((step) => (step.kind === "request" ? [step] : step.kind === "loop" ? listRequestSteps(step.steps) : []));
}

/** Every endpoint the script's scenarios can call, once each. */
export function listEndpointNames(script: Script): string[] {
  const allRequestSteps = script.scenarios.flatMap((scenario) => listRequestSteps(scenario.flow));
  return [...new Set(allRequestSteps.map(endpointName))];
}

function buildQuery(qs: Record<string, unknown> | undefined): string {
  if (!qs) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(qs)) {
    params.append(key, typeof value === "object" && value !== null ? JSON.stringify(value) : String(value));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

/** A rendered path that `new URL` would pass through unchanged: no dot segments, nothing to percent-encode. */
const plainPath = /^\/(?!\/)[A-Za-z0-9\-_~!$&()*+,;=:@/%?.]*$/;

export class PreparedScript {
  readonly scenarios: PreparedScenario[];
  /** A new virtual user's variables: one value per config variable and one row per payload. */
  readonly pickVariables: () => Record<string, unknown>;
  private readonly totalWeight: number;
  private readonly target: URL;
  private readonly pools = new Map<string, HttpPool>();
  private readonly targetPool: HttpPool;
  private readonly defaultHeaders: [string, Template][];
  private readonly hasFixedDefaultHeaders: boolean;

  constructor(
    private readonly script: Script,
    private readonly options: PrepareOptions,
  ) {
    this.target = new URL(script.target);
    this.defaultHeaders = Object.entries(script.defaults.headers).map(([name, value]) => [name.toLowerCase(), compileTemplate(value)]);
    this.hasFixedDefaultHeaders = this.defaultHeaders.every(([, template]) => !hasPlaceholders(template));
    this.targetPool = this.poolFor(this.target.origin);
    const hasVariables = Object.keys(script.variables).length > 0 || script.payloads.length > 0;
    this.pickVariables = hasVariables ? createVuVariablePicker(script) : () => ({});
    this.scenarios = script.scenarios.map((scenario, index) => {
      const name = scenario.name ?? `scenario ${index + 1}`;
      return { name, weight: scenario.weight, flow: this.prepareSteps(scenario.flow, name, "") };
    });
    this.totalWeight = this.scenarios.reduce((sum, s) => sum + s.weight, 0);
  }

  /** A scenario drawn by weight. */
  pickScenario(): PreparedScenario {
    const { scenarios } = this;
    if (scenarios.length === 1) return scenarios[0]!;
    let ticket = Math.random() * this.totalWeight;
    for (const scenario of scenarios) {
      ticket -= scenario.weight;
      if (ticket < 0) return scenario;
    }
    const last = scenarios[scenarios.length - 1];
    if (!last) throw new Error("the script has no scenario");
    return last;
  }

  /** The request as it goes on the wire for a virtual user, or the kind of error when its values cannot make one. */
  encodeFor(prepared: PreparedRequest, vars: Record<string, unknown>): WireRequest | "ETEMPLATE" | "EREQUEST" {
    if (prepared.fixed) return prepared.fixed;
    let rendered;
    try {
      rendered = renderRequestStep(prepared.step, vars);
    } catch {
      return "ETEMPLATE";
    }
    try {
      return this.encode(prepared.method, rendered.url, rendered.qs, this.requestHeaders(rendered.headers, vars), rendered.json);
    } catch {
      // A rendered value that would corrupt the request (a line break in a header, an invalid URL).
      return "EREQUEST";
    }
  }

  /** Closes every pool once the responses in flight have ended. */
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }

  private poolFor(origin: string): HttpPool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new HttpPool({ origin, connections: this.options.connections, timeoutMs: this.options.timeoutMs });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** The request as it goes on the wire for given url, qs, headers and json, or a thrown error. */
  private encode(method: string, url: string, qs: Record<string, unknown> | undefined, headers: Record<string, string>, json: unknown): WireRequest {
    const pathAndQuery = url + buildQuery(qs);
    let pool = this.targetPool;
    let path = pathAndQuery;
    let host = this.target.host;
    if (!plainPath.test(pathAndQuery) || pathAndQuery.includes("/.")) {
      const resolved = new URL(pathAndQuery, this.script.target);
      if (resolved.origin !== this.target.origin) pool = this.poolFor(resolved.origin);
      path = resolved.pathname + resolved.search;
      host = resolved.host;
    }
    let body: string | undefined;
    if (json !== undefined) {
      body = JSON.stringify(json);
      headers["content-type"] ??= "application/json";
    }
    return { pool, request: encodeRequest({ method, path, host, headers, body }) };
  }

  /** Defaults first, then the step's own headers; names lower-cased so a step's header replaces a default. */
  private requestHeaders(own: Record<string, string>, vars: Record<string, unknown>): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, template] of this.defaultHeaders) headers[name] = renderTemplate(template, vars);
    for (const name in own) headers[name.toLowerCase()] = own[name] ?? "";
    return headers;
  }

  /** Steps are numbered as written in the flow, from 1; a loop's own steps after its number (`step 3.2`). */
  private prepareSteps(steps: Step[], scenario: string, numberPrefix: string): PreparedStep[] {
    return steps.map((step, index) => {
      const number = `${numberPrefix}${index + 1}`;
      return step.kind === "request"
        ? this.prepareRequest(step, failureSite(scenario, number, step.method, step.url))
        : step.kind === "think"
          ? { kind: "think", ms: step.seconds * 1000 }
          : { kind: "loop", count: step.count, steps: this.prepareSteps(step.steps, scenario, `${number}.`) };
    });
  }

  private prepareRequest(step: RequestStep, site: string): PreparedRequest {
    const compiled = compileRequestStep(step);
    const isFixed =
      this.hasFixedDefaultHeaders &&
      !hasPlaceholders(compiled.url) &&
      (compiled.json === undefined || compiled.json.kind === "constant") &&
      (compiled.qs === undefined || compiled.qs.kind === "constant") &&
      compiled.headers.every(([, template]) => !hasPlaceholders(template));
    let fixed: WireRequest | null = null;
    if (isFixed) {
      try {
        const rendered = renderRequestStep(step, {});
        fixed = this.encode(step.method, rendered.url, rendered.qs, this.requestHeaders(rendered.headers, {}), rendered.json);
      } catch {
        // Left to fail per request, where it is counted like any other bad request.
      }
    }
    return {
      kind: "request",
      step,
      method: step.method,
      endpointHistogram: this.options.endpointHistogram(endpointName(step)),
      captures: (step.capture ?? []).map((capture) => ({ path: compileJsonPath(capture.json), as: capture.as })),
      expectStatus: step.expectStatus,
      site,
      fixed,
    };
  }
}
