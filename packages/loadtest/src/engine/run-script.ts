// Runs a script in the open model: each virtual user starts at its intended time, and latency counts from then.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";
import type { Histogram } from "hdr-histogram-js";
import type { Scenario, Script, Step } from "../script/script-types.ts";
import { compileJsonPath, evaluateJsonPath, type JsonPath } from "../script/json-path.ts";
import { compileTemplate, renderRequestStep, renderTemplate, type Template } from "../script/template.ts";
import { buildArrivalSchedule, selectShard, type ArrivalSchedule } from "./schedule.ts";
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
  /** The interval that just closed. */
  interval: Omit<IntervalResult, "latency"> & { latency: LatencySummary };
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
}

type RequestStep = Extract<Step, { kind: "request" }>;
type VuOutcome = "completed" | "failed" | "aborted";

interface Interval {
  requests: number;
  responses: number;
  errors: number;
  vusersCreated: number;
  latency: Histogram;
}

/** Maps a transport error to a short kind: the errno when there is one, else undici's code. */
function errorKind(error: unknown): string {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  if (typeof cause?.code === "string") return cause.code;
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return "ETIMEDOUT";
  }
  if (code === "UND_ERR_SOCKET") return "ECONNRESET";
  if (typeof code === "string") return code;
  return error instanceof Error ? error.name : "EUNKNOWN";
}

function pickScenario(scenarios: Scenario[], totalWeight: number): Scenario {
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

export async function runScript(script: Script, options: RunOptions = {}): Promise<RunResult> {
  const lateThresholdMs = options.lateThresholdMs ?? 10;
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = script.http.timeoutSeconds * 1000;
  const { signal } = options;
  let schedule: ArrivalSchedule = buildArrivalSchedule(script.phases);
  if (options.shard) schedule = selectShard(schedule, options.shard);

  const counters = createCounters();
  counters.arrivalsPlanned = schedule.atMs.length;
  const latency = createLatencyHistogram();
  const serviceTime = createLatencyHistogram();
  const endpoints = new Map<string, Histogram>();
  const intervals: (Interval | undefined)[] = [];
  const pools = new Map<string, Pool>();
  const jsonPaths = new Map<string, JsonPath>();
  const defaultHeaders: [string, Template][] = Object.entries(script.defaults.headers).map(([name, value]) => [
    name,
    compileTemplate(value),
  ]);
  const totalWeight = script.scenarios.reduce((sum, s) => sum + s.weight, 0);
  const payloadCursors = script.payloads.map(() => 0);
  let maxLatenessMs = 0;
  let activeVusers = 0;
  let isAborted = signal?.aborted ?? false;
  const onAbort = () => {
    isAborted = true;
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  const startedAt = Date.now();
  const t0 = performance.now();
  const now = () => performance.now() - t0;

  const intervalAt = (ms: number): Interval => {
    const index = Math.max(0, Math.floor(ms / intervalMs));
    let interval = intervals[index];
    if (!interval) {
      interval = { requests: 0, responses: 0, errors: 0, vusersCreated: 0, latency: createLatencyHistogram() };
      intervals[index] = interval;
    }
    return interval;
  };

  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: options.connectionsPerOrigin === undefined ? 100 : options.connectionsPerOrigin,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connect: { timeout: timeoutMs },
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      pools.set(origin, pool);
    }
    return pool;
  };

  const jsonPathFor = (source: string): JsonPath => {
    let path = jsonPaths.get(source);
    if (!path) {
      path = compileJsonPath(source);
      jsonPaths.set(source, path);
    }
    return path;
  };

  const countVuserError = (kind: string) => {
    counters.vuserErrors[kind] = (counters.vuserErrors[kind] ?? 0) + 1;
  };

  /** One request; `intendedMs` is when the virtual user meant to send it. Returns false when the VU fails. */
  const runRequest = async (step: RequestStep, vars: Record<string, unknown>, intendedMs: number): Promise<boolean> => {
    let rendered;
    try {
      rendered = renderRequestStep(step, vars);
    } catch {
      countVuserError("ETEMPLATE");
      return false;
    }
    const url = new URL(rendered.url + buildQuery(rendered.qs), script.target);
    const headers: Record<string, string> = {};
    for (const [name, template] of defaultHeaders) headers[name.toLowerCase()] = renderTemplate(template, vars);
    for (const [name, value] of Object.entries(rendered.headers)) headers[name.toLowerCase()] = value;
    let body: string | undefined;
    if (rendered.json !== undefined) {
      body = JSON.stringify(rendered.json);
      headers["content-type"] ??= "application/json";
    }

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const sentMs = now();
    counters.requests++;
    intervalAt(sentMs).requests++;
    let status: number;
    let text: string | undefined;
    try {
      const response = await poolFor(url.origin).request({
        path: url.pathname + url.search,
        method: step.method,
        headers,
        body,
        signal: controller.signal,
      });
      status = response.statusCode;
      if (step.capture?.length) text = await response.body.text();
      else for await (const _chunk of response.body);
    } catch (error) {
      const kind = controller.signal.aborted ? "ETIMEDOUT" : errorKind(error);
      counters.errors[kind] = (counters.errors[kind] ?? 0) + 1;
      intervalAt(now()).errors++;
      return false;
    } finally {
      clearTimeout(timer);
    }

    const endMs = now();
    counters.responses++;
    counters.statusCodes[status] = (counters.statusCodes[status] ?? 0) + 1;
    const interval = intervalAt(endMs);
    interval.responses++;
    recordMs(latency, endMs - intendedMs);
    recordMs(interval.latency, endMs - intendedMs);
    recordMs(serviceTime, endMs - sentMs);
    const endpoint = `${step.method} ${step.url}`;
    let endpointHistogram = endpoints.get(endpoint);
    if (!endpointHistogram) {
      endpointHistogram = createLatencyHistogram();
      endpoints.set(endpoint, endpointHistogram);
    }
    recordMs(endpointHistogram, endMs - intendedMs);

    if (step.expectStatus && !step.expectStatus.includes(status)) {
      counters.unexpectedStatus++;
      return false;
    }
    for (const capture of step.capture ?? []) {
      let document: unknown;
      try {
        document = JSON.parse(text ?? "");
      } catch {
        countVuserError("ECAPTURE");
        return false;
      }
      const found = evaluateJsonPath(jsonPathFor(capture.json), document);
      if (!found.found) {
        countVuserError("ECAPTURE");
        return false;
      }
      vars[capture.as] = found.value;
    }
    return true;
  };

  /** Runs steps in order; `clock.intendedMs` carries when the next request is meant to go out. */
  const runSteps = async (
    steps: Step[],
    vars: Record<string, unknown>,
    clock: { intendedMs: number },
  ): Promise<VuOutcome> => {
    for (const step of steps) {
      if (isAborted) return "aborted";
      if (step.kind === "think") {
        clock.intendedMs += step.seconds * 1000;
        const waitMs = clock.intendedMs - now();
        if (waitMs > 0) await sleep(waitMs);
      } else if (step.kind === "loop") {
        for (let i = 0; i < step.count; i++) {
          const outcome = await runSteps(step.steps, vars, clock);
          if (outcome !== "completed") return outcome;
        }
      } else {
        if (!(await runRequest(step, vars, clock.intendedMs))) return "failed";
        clock.intendedMs = now();
      }
    }
    return "completed";
  };

  const initialVars = (): Record<string, unknown> => {
    const vars: Record<string, unknown> = {};
    for (const [name, values] of Object.entries(script.variables)) {
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

  const runVuser = async (intendedMs: number): Promise<void> => {
    activeVusers++;
    try {
      const scenario = pickScenario(script.scenarios, totalWeight);
      const outcome = await runSteps(scenario.flow, initialVars(), { intendedMs });
      if (outcome === "completed") counters.vusersCompleted++;
      else if (outcome === "failed") counters.vusersFailed++;
    } catch {
      counters.vusersFailed++;
      countVuserError("EINTERNAL");
    } finally {
      activeVusers--;
    }
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
          vusersCreated: interval.vusersCreated,
          latency: summarizeHistogram(interval.latency),
        },
      });
    }
  };

  // The arrival loop: it never waits for a response, only for the next intended time.
  const running = new Set<Promise<void>>();
  const { atMs, phaseIndex } = schedule;
  let next = 0;
  while (next < atMs.length && !isAborted) {
    const current = now();
    while (next < atMs.length && (atMs[next] ?? 0) <= current) {
      const intendedMs = atMs[next] ?? 0;
      const maxVusers = script.phases[phaseIndex[next] ?? 0]?.maxVusers;
      next++;
      if (maxVusers !== undefined && activeVusers >= maxVusers) {
        counters.vusersDropped++;
        continue;
      }
      const latenessMs = current - intendedMs;
      if (latenessMs > lateThresholdMs) counters.arrivalsLate++;
      maxLatenessMs = Math.max(maxLatenessMs, latenessMs);
      counters.vusersCreated++;
      intervalAt(intendedMs).vusersCreated++;
      const vuser = runVuser(intendedMs);
      running.add(vuser);
      void vuser.finally(() => running.delete(vuser));
    }
    reportProgress(current);
    if (next < atMs.length) await sleep(Math.max(0, (atMs[next] ?? 0) - now()));
  }
  while (running.size > 0) {
    await Promise.race([Promise.all(running), sleep(intervalMs)]);
    reportProgress(now());
  }
  const durationMs = Math.max(now(), isAborted ? 0 : schedule.durationMs);
  reportProgress(durationMs);
  signal?.removeEventListener("abort", onAbort);
  await Promise.all([...pools.values()].map((pool) => pool.close()));

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
      endpoints: Object.fromEntries([...endpoints].map(([name, histogram]) => [name, encodeHistogram(histogram)])),
    },
    intervals: intervals.flatMap((interval, index) =>
      interval
        ? [
            {
              startMs: index * intervalMs,
              requests: interval.requests,
              responses: interval.responses,
              errors: interval.errors,
              vusersCreated: interval.vusersCreated,
              latency: encodeHistogram(interval.latency),
            },
          ]
        : [],
    ),
  };
  for (const histogram of [latency, serviceTime, ...endpoints.values()]) histogram.destroy();
  for (const interval of intervals) interval?.latency.destroy();
  return result;
}
