// The overload bench's probes, in their own thread so the load generator's busy event loop does not inflate their
// times. On "start", /health and /ready on fresh connections every `intervalMs`; on "stop", the probes finish and every
// sample of that window goes back to the parent. One thread serves the whole run. Started by probes.ts.
import http from "node:http";
import { parentPort, workerData } from "node:worker_threads";
import type { ProbeSample, ProbeSamples, ProbeWorkerData } from "./probes.ts";

const { port, timeoutMs, intervalMs } = workerData as ProbeWorkerData;
let samples: ProbeSamples = { health: [], ready: [] };
let isStopping = false;
let loops: Promise<void>[] = [];

/** One GET on a fresh connection: ok on a 200, timed until the body has been read (or the request failed). */
function probeOnce(path: string): Promise<ProbeSample> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ ms: performance.now() - started, ok: res.statusCode === 200 }));
      res.on("error", () => resolve({ ms: performance.now() - started, ok: false }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ ms: performance.now() - started, ok: false }));
  });
}

/** Probes `path` every `intervalMs` (or as soon as the last probe answered, when it took longer) until told to stop. */
async function probeLoop(path: string, list: ProbeSample[]): Promise<void> {
  while (!isStopping) {
    const next = performance.now() + intervalMs;
    list.push(await probeOnce(path));
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

parentPort!.on("message", async (message: "start" | "stop") => {
  if (message === "start") {
    samples = { health: [], ready: [] };
    isStopping = false;
    loops = [probeLoop("/health", samples.health), probeLoop("/ready", samples.ready)];
    parentPort!.postMessage({ isProbing: true });
  } else {
    isStopping = true;
    await Promise.all(loops);
    parentPort!.postMessage(samples);
  }
});
