// The /health and /ready probes beside each overload window, as the ALB would send them: from a worker thread
// (probe-worker.ts), started and stopped with the window, summarised into a count, failures and percentiles.
import { percentile } from "@checkout/bench-support";
import { nextMessage, startTsWorker } from "../ts-worker.ts";

/** The ALB target group's health check (stacks/health-check.ts): /health every 10 s, 5 s timeout, unhealthy after 3 failures. */
export const PROBE_TIMEOUT_MS = 5000;
export const PROBE_INTERVAL_MS = 200;

export interface Probe {
  count: number;
  /** Not 200, or no answer within PROBE_TIMEOUT_MS. */
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ProbeWorkerData {
  port: number;
  timeoutMs: number;
  intervalMs: number;
}

export interface ProbeSample {
  ms: number;
  ok: boolean;
}

export interface ProbeSamples {
  health: ProbeSample[];
  ready: ProbeSample[];
}

function summariseProbe(samples: ProbeSample[]): Probe {
  const sorted = samples.map((sample) => sample.ms).sort((a, b) => a - b);
  return {
    count: samples.length,
    failed: samples.filter((sample) => !sample.ok || sample.ms >= PROBE_TIMEOUT_MS).length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export interface ProbeThread {
  /** Starts probing; resolves once the probes run. */
  start(): Promise<void>;
  /** Stops probing once the probes under way have finished, and summarises the samples since `start`. */
  stop(): Promise<{ health: Probe; ready: Probe }>;
  terminate(): Promise<number>;
}

/** The thread that probes the API on `port` between each `start` and `stop` (one for the run: it loads tsx once). */
export function startProbeThread(port: number): ProbeThread {
  const workerData: ProbeWorkerData = { port, timeoutMs: PROBE_TIMEOUT_MS, intervalMs: PROBE_INTERVAL_MS };
  const worker = startTsWorker(new URL("./probe-worker.ts", import.meta.url), { workerData });
  return {
    async start() {
      const isProbing = nextMessage<{ isProbing: true }>(worker);
      worker.postMessage("start");
      await isProbing;
    },
    async stop() {
      const results = nextMessage<ProbeSamples>(worker);
      worker.postMessage("stop");
      const { health, ready } = await results;
      return { health: summariseProbe(health), ready: summariseProbe(ready) };
    },
    terminate: () => worker.terminate(),
  };
}
