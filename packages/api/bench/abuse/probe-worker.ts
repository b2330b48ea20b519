// The abuse bench's probe thread: on "start", the suite's shopper probe from PROBE's addresses; on "stop", its summary
// for the window back to the parent. Started by probe.ts.
import { parentPort, workerData } from "node:worker_threads";
import { percentile } from "@checkout/bench-support";
import { startShopperProbe, type ProbeReport } from "../../test/support/attack-tools.ts";
import type { ProbeSummary, ProbeWorkerData } from "./probe.ts";

const { target, probe: settings } = workerData as ProbeWorkerData;

function summarise(report: ProbeReport): ProbeSummary {
  const ok = report.samples
    .filter((sample) => sample.isOk)
    .map((sample) => sample.ms)
    .sort((a, b) => a - b);
  return { attempts: report.attempts, succeeded: report.succeeded, p50: percentile(ok, 0.5), p99: percentile(ok, 0.99), failures: report.failures.slice(0, 3) };
}

let probe: ReturnType<typeof startShopperProbe> | null = null;
parentPort!.on("message", (message: "start" | "stop") => {
  if (message === "start") {
    probe = startShopperProbe(target, { localAddresses: settings.addresses, shoppersPerAddress: 1, pauseMs: settings.pauseMs, timeoutMs: settings.timeoutMs });
    parentPort!.postMessage({ started: true });
  } else {
    void probe!.stop().then((report) => parentPort!.postMessage(summarise(report)));
  }
});
