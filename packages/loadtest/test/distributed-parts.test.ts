// The parts of a distributed run that need no generator processes: the Fargate cost estimate, payload rows shared
// out, the store's file names, the live interval merge, the coordinator's refusals, and the generator's command line.
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runDistributed, worstLagMs } from "../src/distributed/coordinator.ts";
import { estimateFargateCost, FARGATE_PRICES } from "../src/distributed/fargate-cost.ts";
import { GeneratorSetupError, runGenerator, subtractCounters } from "../src/distributed/generator.ts";
import { IntervalMerger, type DistributedProgress } from "../src/distributed/interval-merge.ts";
import { FargateLauncher } from "../src/distributed/fargate-launcher.ts";
import { launcherFor, LOCAL_RUNS_FOLDER, LOCAL_RUNS_KEPT_MS, pruneLocalRuns } from "../src/distributed/launcher-for.ts";
import type { GeneratorLauncher } from "../src/distributed/launcher.ts";
import { LocalLauncher } from "../src/distributed/local-launcher.ts";
import { FolderResultStore, S3ResultStore } from "../src/distributed/result-store.ts";
import { checkPayloadsSplit, DistributedUsageError, parseGeneratorKey, partitionPayloads, runFiles, type IntervalReport } from "../src/distributed/run-files.ts";
import { sumCounters } from "../src/engine/run-parallel.ts";
import { createCounters, createLatencyHistogram, encodeHistogram, recordMs } from "../src/engine/run-result.ts";
import type { Script } from "../src/script/script-types.ts";
import { buildScript, repoRoot, runToExit, useTemporaryFolders } from "./support/index.ts";

const temporaryFolder = useTemporaryFolders("loadtest-distributed-");

function withRows(rows: number): Script {
  const script = buildScript({ target: "http://127.0.0.1:9", phases: [{ duration: 1, arrivalRate: 1 }], scenarios: [{ weight: 1, flow: [] }] });
  return { ...script, payloads: [{ path: "users.csv", fields: ["user"], order: "sequence", skipHeader: false, rows: Array.from({ length: rows }, (_, r) => [`u${r}`]) }] };
}

describe("estimateFargateCost", () => {
  it("prices vCPU-hours and GB-hours at the us-east-1 rates, billed per second with a one-minute minimum", () => {
    const estimate = estimateFargateCost({ count: 10, cpu: 2048, memoryMiB: 4096, durationMs: 30 * 60_000 });
    expect(estimate.vcpuHours).toBeCloseTo(10 * 2 * 0.5, 10);
    expect(estimate.gbHours).toBeCloseTo(10 * 4 * 0.5, 10);
    expect(estimate.usd).toBeCloseTo(10 * 0.04048 + 20 * 0.004445, 10);
    const short = estimateFargateCost({ count: 1, cpu: 1024, memoryMiB: 2048, durationMs: 5_000 });
    expect(short.billedSecondsPerTask).toBe(FARGATE_PRICES.minimumBilledSeconds);
    expect(estimateFargateCost({ count: 1, cpu: 1024, memoryMiB: 2048, durationMs: 60_001 }).billedSecondsPerTask).toBe(61);
    expect(estimateFargateCost({ count: 1, cpu: 1024, memoryMiB: 2048, durationMs: 3_600_000, architecture: "arm64" }).usd).toBeCloseTo(0.03238 + 2 * 0.00356, 10);
  });

  it("refuses a CPU that is not an ECS CPU-unit size, so vCPUs given by mistake are caught", () => {
    expect(() => estimateFargateCost({ count: 1, cpu: 2, memoryMiB: 4096, durationMs: 60_000 })).toThrow(/ECS CPU units/);
    expect(() => estimateFargateCost({ count: 0, cpu: 1024, memoryMiB: 2048, durationMs: 60_000 })).toThrow(RangeError);
  });
});

describe("partitionPayloads", () => {
  it("gives generator i of n the rows i, i + n, …: every row to exactly one generator", () => {
    const script = withRows(7);
    const parts = [0, 1, 2].map((index) => partitionPayloads(script, { index, count: 3 }).payloads[0]!.rows.map(([user]) => user));
    expect(parts).toEqual([
      ["u0", "u3", "u6"],
      ["u1", "u4"],
      ["u2", "u5"],
    ]);
    expect(parts.flat().sort()).toEqual(script.payloads[0]!.rows.map(([user]) => user).sort());
  });

  it("refuses a payload with fewer rows than generators", () => {
    expect(() => checkPayloadsSplit(withRows(2), 3)).toThrow(
      new DistributedUsageError("payload users.csv has 2 rows, fewer than the 3 generators: each generator needs rows of its own"),
    );
  });
});

describe("parseGeneratorKey", () => {
  it("names interval, result and error files and ignores anything else", () => {
    expect(parseGeneratorKey("r1", runFiles.interval("r1", 3, 12000))).toEqual({ index: 3, kind: "interval", startMs: 12000 });
    expect(parseGeneratorKey("r1", runFiles.result("r1", 0))).toEqual({ index: 0, kind: "result" });
    expect(parseGeneratorKey("r1", runFiles.error("r1", 2))).toEqual({ index: 2, kind: "error" });
    expect(parseGeneratorKey("r1", "r1/generators/0/notes.txt")).toBeUndefined();
    expect(parseGeneratorKey("r1", runFiles.result("r2", 0))).toBeUndefined();
  });
});

function part(index: number, startMs: number, latenciesMs: number[]): IntervalReport {
  const histogram = createLatencyHistogram();
  for (const ms of latenciesMs) recordMs(histogram, ms);
  const latency = encodeHistogram(histogram);
  histogram.destroy();
  const countersDelta = { ...createCounters(), responses: latenciesMs.length };
  return {
    version: 1,
    index,
    interval: { startMs, requests: latenciesMs.length, responses: latenciesMs.length, errors: 0, vusersCreated: latenciesMs.length, latency },
    countersDelta,
    stats: { cpuMs: 50, wallMs: 1000, maxLagMs: 2, startLagMs: 0, droppedArrivals: 0, lateArrivals: 0 },
  };
}

describe("subtractCounters", () => {
  it("gives the growth of every counter and table of counts, which added to the earlier counters gives the later ones", () => {
    const earlier = { ...createCounters(), vusersCreated: 5, responses: 4, errors: { ECONNRESET: 1 }, statusCodes: { 200: 4 }, failures: { "a · step 1 GET / · 500": 1 } };
    const later = {
      ...createCounters(),
      vusersCreated: 9,
      responses: 8,
      errors: { ECONNRESET: 1, ETIMEDOUT: 2 },
      statusCodes: { 200: 7, 500: 1 },
      failures: { "a · step 1 GET / · 500": 2 },
    };
    const delta = subtractCounters(later, earlier);
    expect(delta).toMatchObject({ vusersCreated: 4, responses: 4, errors: { ETIMEDOUT: 2 }, statusCodes: { 200: 3, 500: 1 }, failures: { "a · step 1 GET / · 500": 1 } });
    expect(sumCounters([earlier, delta])).toEqual(later);
  });
});

describe("pruneLocalRuns", () => {
  it("removes the runs last written more than a week ago and leaves newer runs and anything not named as a run", async () => {
    const folder = temporaryFolder();
    const now = Date.now();
    const make = (name: string, ageMs: number, isFile = false) => {
      const at = path.join(folder, name);
      if (isFile) writeFileSync(at, "x");
      else {
        mkdirSync(path.join(at, "generators", "0"), { recursive: true });
        writeFileSync(path.join(at, "job.json"), "{}");
      }
      utimesSync(at, (now - ageMs) / 1000, (now - ageMs) / 1000);
      return at;
    };
    const old = make("20261101T080000Z-aaaaaa", LOCAL_RUNS_KEPT_MS + 60_000);
    const recent = make("20261202T080000Z-bbbbbb", LOCAL_RUNS_KEPT_MS - 60_000);
    const oldFile = make("20261101T080000Z-notes.txt", LOCAL_RUNS_KEPT_MS + 60_000, true);
    const foreign = make(".hidden-old", LOCAL_RUNS_KEPT_MS + 60_000);

    expect(await pruneLocalRuns(folder, LOCAL_RUNS_KEPT_MS, now)).toEqual(["20261101T080000Z-aaaaaa"]);
    expect([old, recent, oldFile, foreign].map((at) => existsSync(at))).toEqual([false, true, true, true]);
    expect(await pruneLocalRuns(path.join(folder, "missing"))).toEqual([]);
  });
});

describe("worstLagMs", () => {
  it("takes a finished generator's own figures over its interval files' start-lag estimate", () => {
    // The interval files estimated 38 ms of start lag; the result says the schedule began 3 ms late, worst arrival 6 ms.
    expect(worstLagMs(38, { maxLatenessMs: 6 }, 3)).toBe(6);
    expect(worstLagMs(38, { maxLatenessMs: 1 }, 3)).toBe(3);
  });

  it("falls back on the interval files for a generator that left no result", () => {
    expect(worstLagMs(38, undefined, 3)).toBe(38);
    expect(worstLagMs(2, undefined, 40)).toBe(40);
  });
});

describe("IntervalMerger", () => {
  it("shows an interval once every generator is done with it, in order, and shows it again when a part comes late", () => {
    const shown: DistributedProgress[] = [];
    const merger = new IntervalMerger(2, 1000, (progress) => shown.push(progress));
    const moved = new Set<number>();
    const accounted = (index: number, startMs: number) => moved.has(index) && startMs < 1000;
    merger.add(part(0, 0, [5, 6]));
    merger.add(part(0, 1000, [7]));
    merger.flush(accounted);
    expect(shown).toEqual([]);
    // Generator 1 has moved past interval 0 (its part of it not seen yet): interval 0 is shown without it.
    moved.add(1);
    merger.flush(accounted);
    expect(shown.map((p) => [p.snapshot.interval.startMs, p.snapshot.interval.responses, p.missing, p.isLate])).toEqual([[0, 2, [1], false]]);
    merger.add(part(1, 0, [100]));
    expect(shown.map((p) => [p.snapshot.interval.startMs, p.snapshot.interval.responses, p.snapshot.interval.latency.count, p.included, p.isLate])).toEqual([
      [0, 2, 2, [0], false],
      [0, 3, 3, [0, 1], true],
    ]);
    expect(shown[1]!.snapshot.interval.latency.max).toBeCloseTo(100, 0);
    expect(shown[1]!.snapshot.counters.responses).toBe(4);
    expect(merger.intervals().map((i) => [i.startMs, i.responses])).toEqual([
      [0, 3],
      [1000, 1],
    ]);
    merger.close();
  });
});

describe("launcherFor", () => {
  const fargateConfig = { region: "eu-west-1", cluster: "c", taskDefinition: "t:1", subnets: ["s"], securityGroups: ["g"], bucket: "runs-bucket" };

  it("gives local processes and a folder, or Fargate tasks and the runs bucket", async () => {
    const local = await launcherFor("local");
    expect(local.launcher).toBeInstanceOf(LocalLauncher);
    expect(local.store.url).toBe(LOCAL_RUNS_FOLDER);
    expect(local.startDelayMs).toBe(3000);
    const fargate = await launcherFor("fargate", { fargateConfig });
    expect(fargate.launcher).toBeInstanceOf(FargateLauncher);
    expect(fargate.store).toBeInstanceOf(S3ResultStore);
    expect(fargate.store.url).toBe("s3://runs-bucket/runs");
    expect(fargate.startDelayMs).toBe(90_000);
    fargate.store.close();
  });

  it("refuses an unknown platform, and a Fargate store outside the generators' bucket", async () => {
    await expect(launcherFor("lambda")).rejects.toThrow(new DistributedUsageError('--on must be local or fargate, got "lambda"'));
    await expect(launcherFor("fargate", { fargateConfig, storeUrl: "s3://elsewhere/runs" })).rejects.toThrow(/must be in the generators' bucket s3:\/\/runs-bucket/);
  });
});

describe("runDistributed refusals", () => {
  it("refuses before starting anything: too few payload rows, a bad count, a run id already used", async () => {
    const store = new FolderResultStore(temporaryFolder());
    const launcher = new LocalLauncher({ onOutput: () => undefined });
    await expect(runDistributed(withRows(1), { launcher, store, count: 2 })).rejects.toThrow(DistributedUsageError);
    await expect(runDistributed(withRows(4), { launcher, store, count: 1.5 })).rejects.toThrow(/whole number/);
    await store.write(runFiles.job("taken"), "{}");
    await expect(runDistributed(withRows(4), { launcher, store, count: 2, runId: "taken" })).rejects.toThrow(/already used/);
    expect(await launcher.status()).toEqual([]);
  });
});

describe("runDistributed with a generator whose files are hand-written", () => {
  it("names a generator whose result.json is not JSON, and counts what its interval files hold", async () => {
    const store = new FolderResultStore(temporaryFolder());
    const launcher: GeneratorLauncher = {
      kind: "local",
      async start(specs) {
        for (const spec of specs) {
          await store.write(runFiles.interval(spec.runId, spec.index, 0), JSON.stringify(part(spec.index, 0, [3, 4, 5])));
          await store.write(runFiles.result(spec.runId, spec.index), "{ not json");
        }
        return specs.map((spec) => ({ spec, id: `fake ${spec.index}` }));
      },
      status: async () => [{ state: "exited", exitCode: 0 }],
      stopAll: async () => undefined,
    };
    const outcome = await runDistributed(withRows(4), { launcher, store, count: 1, startDelayMs: 0, intervalMs: 100 });
    expect(outcome.failed).toEqual([{ index: 0, id: "fake 0", reason: "exited without writing its result (its result.json is not JSON)" }]);
    expect(outcome.result.counters.responses).toBe(3);
    expect(outcome.result.counters.arrivalsPlanned).toBe(1);
    expect(outcome.generators[0]).toMatchObject({ hasResult: false, intervalsReported: 1, cpuMs: 50 });
  });
});

describe("the generator", () => {
  it("writes error.json and throws when the run has no job", async () => {
    const folder = temporaryFolder();
    await expect(runGenerator({ storeUrl: folder, runId: "missing", index: 0, count: 1 })).rejects.toThrow(GeneratorSetupError);
    const error = JSON.parse(readFileSync(path.join(folder, "missing/generators/0/error.json"), "utf8")) as { message: string };
    expect(error.message).toBe(`run missing has no job.json in ${folder}`);
  });

  it("exits 2 with one line for a usage error, and 1 for a run with no job", async () => {
    const main = path.join(repoRoot, "packages/loadtest/src/distributed/generator-main.ts");
    const usage = await runToExit(process.execPath, ["--import", "tsx", main, "--store", "/tmp", "--run-id", "r", "--index", "2", "--count", "2"], process.env);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim()).toBe("generator: --index must be below --count (2), got 2 (see --help)");
    const folder = temporaryFolder();
    const failed = await runToExit(process.execPath, ["--import", "tsx", main, "--store", folder, "--run-id", "r", "--index", "0", "--count", "1"], process.env);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim()).toBe(`generator 0 of 1 (run r) failed: run r has no job.json in ${folder}`);
  });
});
