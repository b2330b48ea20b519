// Worker-thread runs against a real local HTTP server: exact totals, merged progress, abort and worker failures.
import { describe, expect, it } from "vitest";
import { buildScript, useTestServers } from "../../test/support/index.ts";
import { summarize, summarizeEncoded } from "./run-result.ts";
import { defaultWorkerCount, plannedPeakRequestRate, runScriptParallel } from "./run-parallel.ts";
import type { ProgressSnapshot } from "./run-script.ts";

const serve = useTestServers();

describe("runScriptParallel", () => {
  it("splits the arrivals over two workers and merges their results and progress exactly", { timeout: 30_000 }, async () => {
    const paths: string[] = [];
    const server = await serve((request, response) => {
      paths.push(request.url ?? "");
      response.end("ok");
    });
    const snapshots: ProgressSnapshot[] = [];
    const result = await runScriptParallel(
      buildScript({
        target: server.url,
        phases: [{ duration: 2, arrivalRate: 200 }],
        scenarios: [
          {
            weight: 1,
            flow: [
              { kind: "request", method: "GET", url: "/a" },
              { kind: "request", method: "GET", url: "/b" },
            ],
          },
        ],
      }),
      { workers: 2, onProgress: (snapshot) => snapshots.push(snapshot) },
    );
    const summary = summarize(result);
    expect(result.counters.arrivalsPlanned).toBe(400);
    expect(result.counters.vusersCreated).toBe(400);
    expect(result.counters.vusersCompleted).toBe(400);
    expect(result.counters.requests).toBe(800);
    expect(result.counters.statusCodes).toEqual({ 200: 800 });
    expect(paths.length).toBe(800);
    expect(summary.latency.count).toBe(800);
    expect(summary.intervals.reduce((sum, interval) => sum + interval.latency.count, 0)).toBe(800);
    expect(summary.endpoints["GET /a"]?.count).toBe(400);
    expect(summary.endpoints["GET /b"]?.count).toBe(400);
    expect(summarizeEncoded(result.histograms.serviceTime).count).toBe(800);
    // Each second's 200 arrivals came from two shards of 100; the live line saw them merged.
    expect(result.intervals.slice(0, 2).map((interval) => interval.vusersCreated)).toEqual([200, 200]);
    expect(snapshots.slice(0, 2).map((s) => [s.interval.startMs, s.interval.vusersCreated])).toEqual([
      [0, 200],
      [1000, 200],
    ]);
    // Each merged snapshot holds exactly what the merged result holds for its interval.
    for (const snapshot of snapshots) {
      const interval = summary.intervals.find((i) => i.startMs === snapshot.interval.startMs);
      expect(snapshot.interval.responses).toBe(interval?.responses);
      expect(snapshot.interval.latency).toEqual(interval?.latency);
    }
    expect(snapshots.at(-1)?.counters.vusersCreated).toBe(400);
  });

  it("runs in this thread when asked for one worker", async () => {
    const server = await serve((_request, response) => response.end("ok"));
    const result = await runScriptParallel(
      buildScript({
        target: server.url,
        phases: [{ duration: 0.5, arrivalCount: 10 }],
        scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }],
      }),
      { workers: 1 },
    );
    expect(result.counters.responses).toBe(10);
  });

  it("aborts every worker when the signal fires", { timeout: 30_000 }, async () => {
    const server = await serve((_request, response) => response.end("ok"));
    const controller = new AbortController();
    const result = await runScriptParallel(
      buildScript({
        target: server.url,
        phases: [{ duration: 20, arrivalRate: 50 }],
        scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }],
      }),
      // Abort once the workers are generating load: after the first merged interval.
      { workers: 2, intervalMs: 250, signal: controller.signal, onProgress: () => controller.abort() },
    );
    expect(result.aborted).toBe(true);
    expect(result.counters.arrivalsPlanned).toBe(1000);
    expect(result.counters.vusersCreated).toBeGreaterThan(0);
    expect(result.counters.vusersCreated).toBeLessThan(500);
    expect(result.counters.responses).toBe(result.counters.vusersCreated);
  });

  it("fails with the worker's number and its error when a worker's run fails", { timeout: 30_000 }, async () => {
    const script = buildScript({
      target: "not a url",
      phases: [{ duration: 1, arrivalRate: 10 }],
      scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }],
    });
    await expect(runScriptParallel(script, { workers: 2 })).rejects.toThrow(/^load-generator worker [12] of 2 failed: Invalid URL/);
  });

  it("refuses a worker count that is not a whole number of at least 1", async () => {
    const script = buildScript({ target: "http://127.0.0.1:9", phases: [], scenarios: [] });
    await expect(runScriptParallel(script, { workers: 0 })).rejects.toThrow(RangeError);
    await expect(runScriptParallel(script, { workers: 1.5 })).rejects.toThrow(RangeError);
  });
});

describe("defaultWorkerCount", () => {
  const script = (arrivalRate: number, rampTo?: number) =>
    buildScript({
      target: "http://127.0.0.1:9",
      phases: [
        { duration: 60, arrivalRate: 5 },
        { duration: 60, arrivalRate, rampTo },
      ],
      scenarios: [
        { weight: 3, flow: [{ kind: "request", method: "GET", url: "/" }] },
        { weight: 1, flow: [{ kind: "loop", count: 5, steps: [{ kind: "request", method: "GET", url: "/" }] }] },
      ],
    });

  it("plans the peak request rate from the highest phase rate and the weighted requests per virtual user", () => {
    // 3/4 of the users make 1 request, 1/4 make 5: 2 per user.
    expect(plannedPeakRequestRate(script(100, 1000))).toBe(2000);
  });

  it("keeps one thread for low planned rates", () => {
    expect(defaultWorkerCount(script(100), 16)).toBe(1);
  });

  it("adds workers as the planned peak needs them, leaving a core free", () => {
    expect(defaultWorkerCount(script(10_000), 16)).toBe(3);
    expect(defaultWorkerCount(script(100_000), 16)).toBe(15);
    expect(defaultWorkerCount(script(100_000), 2)).toBe(1);
  });
});
