// A distributed run whose generators do not all finish: one killed mid-run fails the outcome and is named, and what it
// wrote before dying (even a file seen only after its death) is still in the result; Ctrl-C stops every generator and
// still returns what arrived.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type RunResult, summarizeEncoded } from "../src/engine/run-result.ts";
import { runDistributed } from "../src/distributed/coordinator.ts";
import { generatorVerdicts } from "../src/distributed/generator-report.ts";
import type { GeneratorLauncher } from "../src/distributed/launcher.ts";
import { LocalLauncher } from "../src/distributed/local-launcher.ts";
import { FolderResultStore, type ResultStore } from "../src/distributed/result-store.ts";
import type { IntervalReport } from "../src/distributed/run-files.ts";
import { buildScript, useTestServers, useTemporaryFolders } from "./support/index.ts";

const startTestServer = useTestServers();
const temporaryFolder = useTemporaryFolders("loadtest-distributed-");

const okServer = () =>
  startTestServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/plain" });
    response.end("ok");
  });

const steadyScript = (target: string, arrivalRate: number, seconds: number) =>
  buildScript({ target, phases: [{ duration: seconds, arrivalRate }], scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }] });

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("runDistributed when generators do not finish", () => {
  it("fails and names a generator killed mid-run, and keeps what it wrote, a file that showed up only after its death included", async () => {
    const server = await okServer();
    const folder = temporaryFolder();
    const folderStore = new FolderResultStore(folder);
    const local = new LocalLauncher({ onOutput: () => undefined });
    // The killed generator's first interval file stays out of listings until the coordinator has seen it dead.
    let hasSeenDeath = false;
    let isRevealed = false;
    const launcher: GeneratorLauncher = {
      kind: local.kind,
      start: (specs) => local.start(specs),
      stopAll: (reason) => local.stopAll(reason),
      status: async () => {
        const states = await local.status();
        if (hasSeenDeath) isRevealed = true;
        if (states[1]?.state === "exited") hasSeenDeath = true;
        return states;
      },
    };
    const store: ResultStore = {
      url: folderStore.url,
      read: (key) => folderStore.read(key),
      write: (key, text) => folderStore.write(key, text),
      list: async (prefix) => (await folderStore.list(prefix)).filter((key) => isRevealed || !key.endsWith("/generators/1/intervals/0.json")),
      close: () => undefined,
    };
    let killedPid: number | undefined;
    const outcome = await runDistributed(steadyScript(server.url, 20, 4), {
      launcher,
      store,
      count: 2,
      startDelayMs: 2500,
      intervalMs: 250,
      onProgress: (update) => {
        // Killed once it has written a later interval (interval 0 is then shown without its hidden part).
        if (killedPid === undefined && update.snapshot.interval.startMs === 0) {
          killedPid = local.pid(1);
          if (killedPid !== undefined) process.kill(killedPid, "SIGKILL");
        }
      },
    });

    expect(killedPid).toBeDefined();
    expect(outcome.failed).toEqual([{ index: 1, id: `local pid ${killedPid}`, reason: "killed by SIGKILL" }]);
    const [failedVerdict] = generatorVerdicts(outcome);
    expect(failedVerdict?.passed).toBe(false);
    expect(failedVerdict?.message).toContain(`generator 1 (local pid ${killedPid}): killed by SIGKILL`);
    expect(outcome.generators.map((g) => g.hasResult)).toEqual([true, false]);

    // The survivor's result and every interval the dead one wrote, the late one included, make up the result.
    const survivor = JSON.parse(readFileSync(path.join(folder, outcome.runId, "generators/0/result.json"), "utf8")) as RunResult;
    const intervalsDir = path.join(folder, outcome.runId, "generators/1/intervals");
    const dead = readdirSync(intervalsDir).map((name) => JSON.parse(readFileSync(path.join(intervalsDir, name), "utf8")) as IntervalReport);
    expect(dead.some((report) => report.interval.startMs === 0)).toBe(true);
    expect(outcome.generators[1]?.intervalsLate).toBeGreaterThanOrEqual(1);
    const deadArrivals = dead.reduce((sum, report) => sum + report.countersDelta.vusersCreated, 0);
    expect(deadArrivals).toBeGreaterThan(0);
    expect(outcome.generators[1]?.vusersCreated).toBe(deadArrivals);
    expect(outcome.result.counters.vusersCreated).toBe(survivor.counters.vusersCreated + deadArrivals);
    expect(summarizeEncoded(outcome.result.histograms.latency).count).toBe(
      summarizeEncoded(survivor.histograms.latency).count + dead.reduce((sum, r) => sum + summarizeEncoded(r.interval.latency).count, 0),
    );
    // Planned arrivals stay the whole schedule's, so the shortfall shows, and the partial part marks the run incomplete.
    expect(outcome.result.counters.arrivalsPlanned).toBe(80);
    expect(outcome.result.aborted).toBe(true);
  });

  it("stops every generator on abort and returns what arrived", async () => {
    const server = await okServer();
    const folder = temporaryFolder();
    const launcher = new LocalLauncher({ onOutput: () => undefined });
    const controller = new AbortController();
    const outcome = await runDistributed(steadyScript(server.url, 20, 30), {
      launcher,
      store: new FolderResultStore(folder),
      count: 2,
      startDelayMs: 2500,
      intervalMs: 250,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });

    expect(outcome.aborted).toBe(true);
    expect(outcome.result.aborted).toBe(true);
    const states = await launcher.status();
    expect(states.map((s) => s.state)).toEqual(["exited", "exited"]);
    for (const generator of outcome.generators) expect(isAlive(Number(generator.id.replace("local pid ", "")))).toBe(false);
    // Stopped by SIGTERM, each wrote what it had: nothing failed, and far fewer than the 600 planned arrivals ran.
    expect(outcome.failed).toEqual([]);
    expect(outcome.generators.map((g) => g.hasResult)).toEqual([true, true]);
    expect(outcome.result.counters.arrivalsPlanned).toBe(600);
    expect(outcome.result.counters.vusersCreated).toBeGreaterThan(0);
    expect(outcome.result.counters.vusersCreated).toBeLessThan(600);
  });
});
