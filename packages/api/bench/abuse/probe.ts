// The abuse bench's shopper probe, run in a worker thread (probe-worker.ts) so the attackers' busy loop in the main
// thread does not time it: started as a window opens, stopped as it closes, summarised into successes and percentiles.
import { loopback, type Target } from "../../test/support/attack-tools.ts";
import { nextMessage, startTsWorker } from "../ts-worker.ts";

/** The shoppers: one loop per address, each pausing between requests so it stays within the default rate classes. */
export const PROBE = { addresses: [1, 2, 3, 4].map((n) => loopback(256 + n)), pauseMs: 100, timeoutMs: 10_000 };

export interface ProbeWorkerData {
  target: Target;
  probe: typeof PROBE;
}

export interface ProbeSummary {
  attempts: number;
  succeeded: number;
  p50: number;
  p99: number;
  failures: string[];
}

/** The probe's worker, idle until `start`; each `stop` ends that window's probe and gives its summary. */
export function startProbeWorker(target: Target) {
  const workerData: ProbeWorkerData = { target, probe: PROBE };
  const worker = startTsWorker(new URL("./probe-worker.ts", import.meta.url), { workerData });
  return {
    async start() {
      const started = nextMessage<{ started: true }>(worker);
      worker.postMessage("start");
      await started;
    },
    async stop(): Promise<ProbeSummary> {
      const summary = nextMessage<ProbeSummary>(worker);
      worker.postMessage("stop");
      return summary;
    },
    terminate: () => worker.terminate(),
  };
}
