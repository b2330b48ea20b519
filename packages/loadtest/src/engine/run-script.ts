// Runs a script in the open model: each virtual user starts at its intended time, and latency counts from then.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Histogram } from "hdr-histogram-js";
import type { Scenario, Script, Step } from "../script/script-types.ts";
import { compileJsonPath, evaluateJsonPath, type JsonPath } from "../script/json-path.ts";
import { compileRequestStep, compileTemplate, hasPlaceholders, renderRequestStep, renderTemplate, type Template } from "../script/template.ts";
import { buildArrivalSchedule, selectShard, type ArrivalSchedule } from "./schedule.ts";
import { encodeRequest, HttpPool, type EncodedRequest, type ResponseReceiver } from "./http-pool.ts";
import {
  createCounters,
  createLatencyHistogram,
  encodeHistogram,
  recordMs,
  summarizeHistogram,
  type IntervalResult,
  type LatencySummary,
  type RunCounters,
  type RunResult,
} from "./run-result.ts";

export interface ProgressSnapshot {
  elapsedMs: number;
  counters: RunCounters;
  /** The interval that just closed; `encodedLatency` (its histogram) only with `progressHistograms`. */
  interval: Omit<IntervalResult, "latency"> & { latency: LatencySummary; encodedLatency?: string };
}

export interface RunOptions {
  onProgress?(snapshot: ProgressSnapshot): void;
  signal?: AbortSignal;
  /** An arrival launched later than this after its intended time counts as late. Default 10 ms. */
  lateThresholdMs?: number;
  /** Length of a time-series interval. Default 1000 ms. */
  intervalMs?: number;
  /**
   * Keep-alive sockets per origin. Default 100: unbounded (null) opens a socket per concurrent request, which hits
   * EMFILE near 8k req/s here; requests queued behind busy sockets still count their wait, from the intended time.
   */
  connectionsPerOrigin?: number | null;
  /** Run only this shard of the arrivals (for worker threads); results merge with mergeRunResults. */
  shard?: { index: number; count: number };
  /** Start the schedule at this moment, as `performance.timeOrigin + performance.now()` (comparable across threads). */
  startAt?: number;
  /** Add each closed interval's encoded latency histogram to the progress snapshots (so shards' progress merges exactly). */
  progressHistograms?: boolean;
}

type RequestStep = Extract<Step, { kind: "request" }>;
type VuOutcome = "completed" | "failed" | "aborted";

/** A request step with everything that does not depend on the virtual user worked out once. */
interface PreparedRequest {
  kind: "request";
  step: RequestStep;
  method: RequestStep["method"];
  /** Latency by endpoint, when the script has more than one (with one, it is the overall latency). */
  endpointHistogram: Histogram | null;
  captures: { path: JsonPath; as: string }[];
  expectStatus: number[] | undefined;
  /** The encoded request and its pool, when nothing in it depends on the virtual user. */
  fixed: { pool: HttpPool; request: EncodedRequest } | null;
}

type PreparedStep = PreparedRequest | { kind: "think"; ms: number } | { kind: "loop"; count: number; steps: PreparedStep[] };

interface PreparedScenario {
  weight: number;
  flow: PreparedStep[];
}

interface Interval {
  requests: number;
  responses: number;
  errors: number;
  unexpected: number;
  serverErrors: number;
  vusersCreated: number;
  latency: Histogram;
}

/** Maps a transport error to a short kind: the errno (ECONNREFUSED, ETIMEDOUT …) when there is one. */
function errorKind(error: unknown): string {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  if (typeof cause?.code === "string") return cause.code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.name : "EUNKNOWN";
}

function pickScenario(scenarios: PreparedScenario[], totalWeight: number): PreparedScenario {
  if (scenarios.length === 1) return scenarios[0]!;
  let ticket = Math.random() * totalWeight;
  for (const scenario of scenarios) {
    ticket -= scenario.weight;
    if (ticket < 0) return scenario;
  }
  const last = scenarios[scenarios.length - 1];
  if (!last) throw new Error("the script has no scenario");
  return last;
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

function listRequestSteps(steps: Step[]): RequestStep[] {
  return steps.flatMap((step) => (step.kind === "request" ? [step] : step.kind === "loop" ? listRequestSteps(step.steps) : []));
}

export async function runScript(script: Script, options: RunOptions = {}): Promise<RunResult> {
  const lateThresholdMs = options.lateThresholdMs ?? 10;
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = script.http.timeoutSeconds * 1000;
  const connections = options.connectionsPerOrigin === undefined ? 100 : (options.connectionsPerOrigin ?? Number.POSITIVE_INFINITY);
  const { signal } = options;
  let schedule: ArrivalSchedule = buildArrivalSchedule(script.phases);
  if (options.shard) schedule = selectShard(schedule, options.shard);

  const counters = createCounters();
  // The order numbers the service acknowledged, for the post-run check that each exists exactly once.
  const acknowledgedVariable = script.invariants?.acknowledgedOrders;
  const acknowledged: string[] = [];
  counters.arrivalsPlanned = schedule.atMs.length;
  const serviceTime = createLatencyHistogram();
  const intervals: (Interval | undefined)[] = [];
  const pools = new Map<string, HttpPool>();
  const target = new URL(script.target);
  const defaultHeaders: [string, Template][] = Object.entries(script.defaults.headers).map(([name, value]) => [
    name.toLowerCase(),
    compileTemplate(value),
  ]);
  const hasFixedDefaultHeaders = defaultHeaders.every(([, template]) => !hasPlaceholders(template));
  const payloadCursors = script.payloads.map(() => 0);
  const variableEntries = Object.entries(script.variables);
  const hasVariables = variableEntries.length > 0 || script.payloads.length > 0;
  let maxLatenessMs = 0;
  let activeVusers = 0;
  let isAborted = signal?.aborted ?? false;
  const onAbort = () => {
    isAborted = true;
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  const poolFor = (origin: string): HttpPool => {
    let pool = pools.get(origin);
    if (!pool) {
      pool = new HttpPool({ origin, connections, timeoutMs });
      pools.set(origin, pool);
    }
    return pool;
  };
  const targetPool = poolFor(target.origin);

  // Endpoints are named by their url template; with one endpoint its histogram is the overall latency.
  const allRequestSteps = script.scenarios.flatMap((scenario) => listRequestSteps(scenario.flow));
  const endpointNames = [...new Set(allRequestSteps.map((step) => `${step.method} ${step.url}`))];
  const endpointHistograms = new Map<string, Histogram>(
    endpointNames.length > 1 ? endpointNames.map((name) => [name, createLatencyHistogram()]) : [],
  );

  /** The request as it goes on the wire for given url, qs, headers and json, or a thrown error. */
  const encode = (
    method: string,
    url: string,
    qs: Record<string, unknown> | undefined,
    headers: Record<string, string>,
    json: unknown,
  ): { pool: HttpPool; request: EncodedRequest } => {
    const pathAndQuery = url + buildQuery(qs);
    let pool = targetPool;
    let path = pathAndQuery;
    let host = target.host;
    if (!plainPath.test(pathAndQuery) || pathAndQuery.includes("/.")) {
      const resolved = new URL(pathAndQuery, script.target);
      if (resolved.origin !== target.origin) pool = poolFor(resolved.origin);
      path = resolved.pathname + resolved.search;
      host = resolved.host;
    }
    let body: string | undefined;
    if (json !== undefined) {
      body = JSON.stringify(json);
      headers["content-type"] ??= "application/json";
    }
    return { pool, request: encodeRequest({ method, path, host, headers, body }) };
  };

  const prepareRequest = (step: RequestStep): PreparedRequest => {
    const compiled = compileRequestStep(step);
    const isFixed =
      hasFixedDefaultHeaders &&
      !hasPlaceholders(compiled.url) &&
      (compiled.json === undefined || compiled.json.kind === "constant") &&
      (compiled.qs === undefined || compiled.qs.kind === "constant") &&
      compiled.headers.every(([, template]) => !hasPlaceholders(template));
    let fixed: PreparedRequest["fixed"] = null;
    if (isFixed) {
      try {
        const rendered = renderRequestStep(step, {});
        fixed = encode(step.method, rendered.url, rendered.qs, requestHeaders(rendered.headers, {}), rendered.json);
      } catch {
        // Left to fail per request, where it is counted like any other bad request.
      }
    }
    return {
      kind: "request",
      step,
      method: step.method,
      endpointHistogram: endpointHistograms.get(`${step.method} ${step.url}`) ?? null,
      captures: (step.capture ?? []).map((capture) => ({ path: compileJsonPath(capture.json), as: capture.as })),
      expectStatus: step.expectStatus,
      fixed,
    };
  };

  /** Defaults first, then the step's own headers; names lower-cased so a step's header replaces a default. */
  const requestHeaders = (own: Record<string, string>, vars: Record<string, unknown>): Record<string, string> => {
    const headers: Record<string, string> = {};
    for (const [name, template] of defaultHeaders) headers[name] = renderTemplate(template, vars);
    for (const name in own) headers[name.toLowerCase()] = own[name] ?? "";
    return headers;
  };

  const prepareSteps = (steps: Step[]): PreparedStep[] =>
    steps.map((step) =>
      step.kind === "request"
        ? prepareRequest(step)
        : step.kind === "think"
          ? { kind: "think", ms: step.seconds * 1000 }
          : { kind: "loop", count: step.count, steps: prepareSteps(step.steps) },
    );
  const scenarios: PreparedScenario[] = script.scenarios.map((scenario: Scenario) => ({
    weight: scenario.weight,
    flow: prepareSteps(scenario.flow),
  }));
  const totalWeight = scenarios.reduce((sum, s) => sum + s.weight, 0);
  const maxVusersByPhase = script.phases.map((phase) => phase.maxVusers ?? Number.POSITIVE_INFINITY);

  if (options.startAt !== undefined) {
    const waitMs = options.startAt - (performance.timeOrigin + performance.now());
    if (waitMs > 0 && !isAborted) await sleep(waitMs);
  }
  const startedAt = Date.now();
  const t0 = performance.now();
  const now = () => performance.now() - t0;

  const intervalAt = (ms: number): Interval => {
    const index = ms > 0 ? Math.floor(ms / intervalMs) : 0;
    let interval = intervals[index];
    if (!interval) {
      interval = { requests: 0, responses: 0, errors: 0, unexpected: 0, serverErrors: 0, vusersCreated: 0, latency: createLatencyHistogram() };
      intervals[index] = interval;
    }
    return interval;
  };

  const countVuserError = (kind: string) => {
    counters.vuserErrors[kind] = (counters.vuserErrors[kind] ?? 0) + 1;
  };

  /** The request as it goes on the wire for a virtual user, or null (counted) when its values cannot make one. */
  const encodeFor = (prepared: PreparedRequest, vars: Record<string, unknown>): { pool: HttpPool; request: EncodedRequest } | null => {
    if (prepared.fixed) return prepared.fixed;
    let rendered;
    try {
      rendered = renderRequestStep(prepared.step, vars);
    } catch {
      countVuserError("ETEMPLATE");
      return null;
    }
    try {
      return encode(prepared.method, rendered.url, rendered.qs, requestHeaders(rendered.headers, vars), rendered.json);
    } catch {
      // A rendered value that would corrupt the request (a line break in a header, an invalid URL).
      countVuserError("EREQUEST");
      return null;
    }
  };

  const initialVars = (): Record<string, unknown> => {
    const vars: Record<string, unknown> = {};
    if (!hasVariables) return vars;
    for (const [name, values] of variableEntries) {
      if (values.length > 0) vars[name] = values[Math.floor(Math.random() * values.length)];
    }
    script.payloads.forEach((payload, p) => {
      if (payload.rows.length === 0) return;
      const cursor = payloadCursors[p] ?? 0;
      const index = payload.order === "sequence" ? cursor % payload.rows.length : Math.floor(Math.random() * payload.rows.length);
      payloadCursors[p] = cursor + 1;
      const row = payload.rows[index] ?? [];
      payload.fields.forEach((field, f) => {
        vars[field] = row[f];
      });
    });
    return vars;
  };

  let onDrained: (() => void) | null = null;
  const onVuserEnd = (outcome: VuOutcome) => {
    if (outcome === "completed") counters.vusersCompleted++;
    else if (outcome === "failed") counters.vusersFailed++;
    if (--activeVusers === 0) onDrained?.();
  };

  /** A loop being repeated (its body is the user's current steps): the iterations left, and where its parent resumes. */
  interface LoopFrame {
    iterationsLeft: number;
    parentSteps: PreparedStep[];
    parentIndex: number;
  }

  /**
   * One virtual user walking its flow without promises: a request hands the user to the pool as its receiver, and the
   * response (or error) moves it on. `intendedMs` is when its next request is meant to go out.
   */
  class VirtualUser implements ResponseReceiver {
    private steps: PreparedStep[];
    private index = 0;
    private loops: LoopFrame[] | null = null;
    private current: PreparedRequest | null = null;
    private sentMs = 0;
    private isEnded = false;

    constructor(
      flow: PreparedStep[],
      private readonly vars: Record<string, unknown>,
      private intendedMs: number,
    ) {
      this.steps = flow;
    }

    /** Runs steps until a request is in flight, a think time is pending, or the flow ends. */
    run(): void {
      try {
        for (;;) {
          if (isAborted) return this.end("aborted");
          if (this.index >= this.steps.length) {
            const loop = this.loops?.at(-1);
            if (!loop) return this.end("completed");
            if (--loop.iterationsLeft > 0) {
              this.index = 0;
              continue;
            }
            this.loops?.pop();
            this.steps = loop.parentSteps;
            this.index = loop.parentIndex;
            continue;
          }
          const step = this.steps[this.index++]!;
          if (step.kind === "request") {
            if (!this.send(step)) return this.end("failed");
            return;
          }
          if (step.kind === "think") {
            this.intendedMs += step.ms;
            const waitMs = this.intendedMs - now();
            if (waitMs > 0) {
              setTimeout(() => this.run(), waitMs);
              return;
            }
          } else if (step.count > 0) {
            (this.loops ??= []).push({ iterationsLeft: step.count, parentSteps: this.steps, parentIndex: this.index });
            this.steps = step.steps;
            this.index = 0;
          }
        }
      } catch {
        this.crash();
      }
    }

    private send(prepared: PreparedRequest): boolean {
      const encoded = encodeFor(prepared, this.vars);
      if (!encoded) return false;
      this.current = prepared;
      this.sentMs = now();
      counters.requests++;
      intervalAt(this.sentMs).requests++;
      encoded.pool.send(encoded.request, prepared.captures.length > 0, this);
      return true;
    }

    onResponse(status: number, text: string | undefined): void {
      try {
        const prepared = this.current!;
        const endMs = now();
        counters.responses++;
        counters.statusCodes[status] = (counters.statusCodes[status] ?? 0) + 1;
        const interval = intervalAt(endMs);
        interval.responses++;
        // The overall latency histogram is the sum of the interval ones, so each response is recorded once for both.
        recordMs(interval.latency, endMs - this.intendedMs);
        recordMs(serviceTime, endMs - this.sentMs);
        if (prepared.endpointHistogram) recordMs(prepared.endpointHistogram, endMs - this.intendedMs);

        if (prepared.expectStatus && !prepared.expectStatus.includes(status)) {
          counters.unexpectedStatus++;
          interval.unexpected++;
          return this.end("failed");
        }
        if (status >= 500) interval.serverErrors++;
        for (const capture of prepared.captures) {
          let document: unknown;
          try {
            document = JSON.parse(text ?? "");
          } catch {
            countVuserError("ECAPTURE");
            return this.end("failed");
          }
          const found = evaluateJsonPath(capture.path, document);
          if (!found.found) {
            countVuserError("ECAPTURE");
            return this.end("failed");
          }
          this.vars[capture.as] = found.value;
          if (capture.as === acknowledgedVariable && (typeof found.value === "string" || typeof found.value === "number")) {
            acknowledged.push(String(found.value));
          }
        }
        this.intendedMs = endMs;
      } catch {
        return this.crash();
      }
      this.run();
    }

    onError(error: Error): void {
      const kind = errorKind(error);
      counters.errors[kind] = (counters.errors[kind] ?? 0) + 1;
      intervalAt(now()).errors++;
      this.end("failed");
    }

    private end(outcome: VuOutcome): void {
      if (this.isEnded) return;
      this.isEnded = true;
      onVuserEnd(outcome);
    }

    /** A bug of ours, not the target's: the user fails with EINTERNAL rather than taking the run down. */
    private crash(): void {
      if (this.isEnded) return;
      countVuserError("EINTERNAL");
      this.end("failed");
    }
  }

  const startVuser = (intendedMs: number): void => {
    activeVusers++;
    new VirtualUser(pickScenario(scenarios, totalWeight).flow, initialVars(), intendedMs).run();
  };

  let reportedIntervals = 0;
  const reportProgress = (upToMs: number) => {
    const closed = Math.floor(upToMs / intervalMs);
    for (; reportedIntervals < closed; reportedIntervals++) {
      if (!options.onProgress) continue;
      const interval = intervalAt(reportedIntervals * intervalMs);
      options.onProgress({
        elapsedMs: upToMs,
        counters: structuredClone(counters),
        interval: {
          startMs: reportedIntervals * intervalMs,
          requests: interval.requests,
          responses: interval.responses,
          errors: interval.errors,
          unexpected: interval.unexpected,
          serverErrors: interval.serverErrors,
          vusersCreated: interval.vusersCreated,
          latency: summarizeHistogram(interval.latency),
          ...(options.progressHistograms ? { encodedLatency: encodeHistogram(interval.latency) } : {}),
        },
      });
    }
  };

  // The arrival loop: it never waits for a response, only for the next intended time. Its timer ticks at most every
  // millisecond, so at high rates a tick launches a millisecond's arrivals together (lateness is still measured per
  // arrival). Launching them between ticks as responses came in was tried: it held no higher a rate here.
  const { atMs, phaseIndex } = schedule;
  let next = 0;
  const launchDueArrivals = (current: number): void => {
    while (next < atMs.length && (atMs[next] ?? 0) <= current && !isAborted) {
      const intendedMs = atMs[next] ?? 0;
      const maxVusers = maxVusersByPhase[phaseIndex[next] ?? 0] ?? Number.POSITIVE_INFINITY;
      next++;
      if (activeVusers >= maxVusers) {
        counters.vusersDropped++;
        continue;
      }
      const latenessMs = current - intendedMs;
      if (latenessMs > lateThresholdMs) counters.arrivalsLate++;
      if (latenessMs > maxLatenessMs) maxLatenessMs = latenessMs;
      counters.vusersCreated++;
      intervalAt(intendedMs).vusersCreated++;
      startVuser(intendedMs);
    }
  };
  while (next < atMs.length && !isAborted) {
    const current = now();
    launchDueArrivals(current);
    reportProgress(current);
    if (next < atMs.length) await sleep(Math.max(0, (atMs[next] ?? 0) - now()));
  }
  while (activeVusers > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      onDrained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    onDrained = null;
    reportProgress(now());
  }
  const durationMs = Math.max(now(), isAborted ? 0 : schedule.durationMs);
  reportProgress(durationMs);
  signal?.removeEventListener("abort", onAbort);
  await Promise.all([...pools.values()].map((pool) => pool.close()));

  const latency = createLatencyHistogram();
  for (const interval of intervals) if (interval) latency.add(interval.latency);
  const endpoints: [string, Histogram][] =
    endpointHistograms.size > 0 ? [...endpointHistograms] : endpointNames.map((name): [string, Histogram] => [name, latency]);
  const result: RunResult = {
    version: 1,
    startedAt,
    durationMs,
    intervalMs,
    lateThresholdMs,
    maxLatenessMs,
    aborted: isAborted,
    counters,
    histograms: {
      latency: encodeHistogram(latency),
      serviceTime: encodeHistogram(serviceTime),
      endpoints: Object.fromEntries(endpoints.filter(([, h]) => h.totalCount > 0).map(([name, h]) => [name, encodeHistogram(h)])),
    },
    intervals: intervals.flatMap((interval, index) =>
      interval
        ? [
            {
              startMs: index * intervalMs,
              requests: interval.requests,
              responses: interval.responses,
              errors: interval.errors,
              unexpected: interval.unexpected,
              serverErrors: interval.serverErrors,
              vusersCreated: interval.vusersCreated,
              latency: encodeHistogram(interval.latency),
            },
          ]
        : [],
    ),
    ...(acknowledgedVariable ? { acknowledgedOrders: acknowledged } : {}),
  };
  for (const histogram of [latency, serviceTime, ...endpointHistograms.values()]) histogram.destroy();
  for (const interval of intervals) interval?.latency.destroy();
  return result;
}
