// Drives one target with autocannon: a discarded warm-up, then a measured window with exact latency percentiles and CPU use.
import autocannon from "autocannon";
import { machineBusyCpuSeconds, ownCpuSeconds, percentile } from "@checkout/bench-support";

export interface Target {
  label: string;
  /** What is requested, as shown in the report, e.g. "GET /trpc/catalog.list". */
  request: string;
  url: string;
  /** A JSON body to POST (a query whose input carries a cart id goes in a body, never a URL); GET without it. */
  body?: unknown;
  isBaseline: boolean;
  /** CPU seconds used so far by the server answering this target, or null when unknown. */
  serverCpuSeconds: () => number | null;
  /** CPU seconds used so far by the database behind it, or null when unknown or none. */
  databaseCpuSeconds: () => number | null;
}

export interface LoadSettings {
  connections: number;
  /** 0 skips the warm-up (a smoke run). */
  warmupSeconds: number;
  durationSeconds: number;
  /** A smoke run's fixed number of measured requests instead of `durationSeconds` of load. */
  amount?: number;
}

export interface Measurement {
  label: string;
  request: string;
  isBaseline: boolean;
  /** autocannon's mean of its one-second samples. */
  requestsPerSecond: number;
  responses: number;
  non2xx: number;
  /** Socket errors and timeouts (timeouts are also counted here). */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Exact, from every 2xx response's own time (autocannon's histogram rounds to whole milliseconds). */
  latencyMs: { mean: number; p50: number; p99: number; max: number };
  /** Percent of one core over the measured window; null when unknown. */
  cpuPercent: {
    server: number | null;
    database: number | null;
    loadGenerator: number;
    /** Everything else on the machine (other programs): busy CPU minus the three above. */
    others: number | null;
  };
  warmup: { responses: number; non2xx: number; errors: number };
}

/** Share of requests that did not get a 2xx answer (non-2xx, socket errors and timeouts). */
export function failureRate(measurement: Measurement): number {
  const attempts = measurement.responses + measurement.errors;
  return attempts === 0 ? 1 : (measurement.non2xx + measurement.errors) / attempts;
}

/** Collects response times without reallocating on every push. */
class Samples {
  private values = new Float64Array(1 << 16);
  length = 0;

  add(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.length).sort();
  }
}

export async function measure(target: Target, settings: LoadSettings): Promise<Measurement> {
  const common = {
    url: target.url,
    connections: settings.connections,
    pipelining: 1,
    ...(target.body === undefined ? { method: "GET" as const } : { method: "POST" as const, headers: { "content-type": "application/json" }, body: JSON.stringify(target.body) }),
  };

  const warmup = settings.warmupSeconds > 0 ? await autocannon({ ...common, duration: settings.warmupSeconds }) : null;

  const latencies = new Samples();
  const statusCodes: Record<string, number> = {};
  let responses = 0;
  const before = {
    server: target.serverCpuSeconds(),
    database: target.databaseCpuSeconds(),
    own: ownCpuSeconds(),
    machine: machineBusyCpuSeconds(),
    at: performance.now(),
  };
  // autocannon notices a fixed amount is done only at its next sample tick (1 s by default): short ticks end the window
  // with its last answer.
  const run = autocannon({ ...common, ...(settings.amount === undefined ? { duration: settings.durationSeconds } : { amount: settings.amount, sampleInt: 50 }) });
  run.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
    responses += 1;
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) latencies.add(responseTimeMs);
  });
  const result = await run;
  const seconds = (performance.now() - before.at) / 1000;
  const after = { server: target.serverCpuSeconds(), database: target.databaseCpuSeconds(), own: ownCpuSeconds(), machine: machineBusyCpuSeconds() };
  const percentOfCore = (start: number | null, end: number | null) => (start === null || end === null ? null : (100 * (end - start)) / seconds);

  const server = percentOfCore(before.server, after.server);
  const database = percentOfCore(before.database, after.database);
  const loadGenerator = (100 * (after.own - before.own)) / seconds;
  const machine = percentOfCore(before.machine, after.machine);
  const others = machine === null ? null : Math.max(0, machine - (server ?? 0) - (database ?? 0) - loadGenerator);

  const sorted = latencies.sorted();
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    label: target.label,
    request: target.request,
    isBaseline: target.isBaseline,
    // autocannon averages whole one-second samples, which a fixed amount may finish before the first of.
    requestsPerSecond: settings.amount === undefined ? result.requests.average : responses / seconds,
    responses,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    latencyMs: {
      mean: sorted.length ? sum / sorted.length : Number.NaN,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.length ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN,
    },
    cpuPercent: { server, database, loadGenerator, others },
    warmup: warmup ? { responses: warmup.requests.total, non2xx: warmup.non2xx, errors: warmup.errors } : { responses: 0, non2xx: 0, errors: 0 },
  };
}
