// A distributed run with real generator processes (the local launcher) and a real folder store, against a local
// node:http target: the merge is exact, every arrival is run once by its shard, payload rows are shared out, and a
// part that arrives late is merged, not dropped.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createLatencyHistogram, decodeHistogram, encodeHistogram, type RunResult, summarizeEncoded } from "../src/engine/run-result.ts";
import { buildArrivalSchedule, selectShard } from "../src/engine/schedule.ts";
import { runDistributed, type DistributedProgress } from "../src/distributed/coordinator.ts";
import { LocalLauncher } from "../src/distributed/local-launcher.ts";
import { FolderResultStore, type ResultStore } from "../src/distributed/result-store.ts";
import type { IntervalReport } from "../src/distributed/run-files.ts";
import type { Script } from "../src/script/script-types.ts";
import { buildScript, useTestServers, useTemporaryFolders } from "./support/index.ts";

const startTestServer = useTestServers();
const temporaryFolder = useTemporaryFolders("loadtest-distributed-");

/** A target that answers each GET /item/SKU with the SKU as the order number, and counts the requests. */
async function startItemServer() {
  const skus: string[] = [];
  const server = await startTestServer((request, response) => {
    const sku = decodeURIComponent(request.url?.split("/").at(-1) ?? "");
    skus.push(sku);
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ number: sku }));
  });
  return { ...server, skus };
}

/** `arrivals` users over `seconds`, each sending GET /item/{{ sku }} with a row of a 12-row payload. */
function itemScript(target: string, arrivals: number, seconds: number): Script {
  const script = buildScript({
    target,
    phases: [{ duration: seconds, arrivalCount: arrivals }],
    scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/item/{{ sku }}", capture: [{ json: "$.number", as: "orderNumber" }] }] }],
  });
  const rows = Array.from({ length: 12 }, (_, row) => [`sku-${row}`]);
  return {
    ...script,
    payloads: [{ path: "skus.csv", fields: ["sku"], order: "random", skipHeader: false, rows }],
    invariants: { adminTokenEnv: "UNUSED_ADMIN_TOKEN", acknowledgedOrders: "orderNumber" },
  };
}

const quietLauncher = () => new LocalLauncher({ onOutput: () => undefined });

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

function intervalFiles(folder: string, runId: string, index: number): IntervalReport[] {
  const dir = path.join(folder, runId, "generators", String(index), "intervals");
  return readdirSync(dir).map((name) => readJson<IntervalReport>(path.join(dir, name)));
}

function mergeEncoded(encoded: string[]): string {
  const merged = createLatencyHistogram();
  for (const base64 of encoded) {
    const part = decodeHistogram(base64);
    merged.add(part);
    part.destroy();
  }
  const result = encodeHistogram(merged);
  merged.destroy();
  return result;
}

describe("runDistributed with local generators", () => {
  it("merges two generators exactly: each runs exactly its shard with its own payload rows, and the merged histogram is every sample's", async () => {
    const server = await startItemServer();
    const folder = temporaryFolder();
    const script = itemScript(server.url, 41, 1.5);
    const progress: DistributedProgress[] = [];
    const outcome = await runDistributed(script, {
      launcher: quietLauncher(),
      store: new FolderResultStore(folder),
      count: 2,
      startDelayMs: 2500,
      intervalMs: 250,
      onProgress: (update) => progress.push(update),
    });

    expect(outcome.failed).toEqual([]);
    const schedule = buildArrivalSchedule(script.phases);
    const results = [0, 1].map((index) => readJson<RunResult>(path.join(folder, outcome.runId, "generators", String(index), "result.json")));
    // Each shard ran exactly its share (21 and 20 of 41), together exactly the schedule.
    expect(results.map((r) => r.counters.vusersCreated)).toEqual([0, 1].map((index) => selectShard(schedule, { index, count: 2 }).atMs.length));
    expect(results.map((r) => r.counters.vusersCreated)).toEqual([21, 20]);
    expect(outcome.result.counters.vusersCreated).toBe(schedule.atMs.length);
    expect(outcome.result.counters.arrivalsPlanned).toBe(41);
    expect(outcome.generators.map((g) => [g.vusersCreated, g.arrivalsPlanned])).toEqual([
      [21, 21],
      [20, 20],
    ]);

    // The merged histogram holds every sample once: one per request the target answered.
    expect(server.skus).toHaveLength(41);
    expect(summarizeEncoded(outcome.result.histograms.latency).count).toBe(41);
    expect(outcome.result.histograms.latency).toBe(mergeEncoded(results.map((r) => r.histograms.latency)));
    // The interval files hold the same samples: merged, they are the final histogram exactly, and the live series
    // merged from them is the final result's series.
    const files = [0, 1].flatMap((index) => intervalFiles(folder, outcome.runId, index));
    expect(mergeEncoded(files.map((f) => f.interval.latency))).toBe(outcome.result.histograms.latency);
    expect(files.reduce((sum, f) => sum + f.interval.vusersCreated, 0)).toBe(41);
    expect(files.reduce((sum, f) => sum + f.countersDelta.responses, 0)).toBe(41);
    expect(outcome.intervals).toEqual(outcome.result.intervals);
    expect(Math.max(...progress.map((p) => p.snapshot.counters.responses))).toBe(41);

    // Payload rows are shared out: generator g used only rows g, g + 2, …; no row went to both.
    const used = results.map((r) => new Set(r.acknowledgedOrders));
    expect([...used[0]!].every((sku) => Number(sku.slice(4)) % 2 === 0)).toBe(true);
    expect([...used[1]!].every((sku) => Number(sku.slice(4)) % 2 === 1)).toBe(true);
    expect(outcome.result.acknowledgedOrders).toHaveLength(41);
    expect(new Set(outcome.result.acknowledgedOrders)).toEqual(new Set(server.skus));

    // Each generator reported how it kept up.
    for (const generator of outcome.generators) {
      expect(generator.hasResult).toBe(true);
      expect(generator.intervalsReported).toBeGreaterThan(0);
      expect(generator.cpuMs).toBeGreaterThan(0);
      expect(generator.id).toMatch(/^local pid \d+$/);
    }
  });

  it("merges an interval part that becomes visible only after its interval was shown, rather than dropping it", async () => {
    const server = await startItemServer();
    const folder = temporaryFolder();
    const folderStore = new FolderResultStore(folder);
    // Generator 1's first interval file stays out of listings until interval 0 has been shown without it.
    let isRevealed = false;
    const hidden = (key: string) => !isRevealed && key.endsWith("/generators/1/intervals/0.json");
    const store: ResultStore = {
      url: folderStore.url,
      read: (key) => folderStore.read(key),
      write: (key, text) => folderStore.write(key, text),
      list: async (prefix) => (await folderStore.list(prefix)).filter((key) => !hidden(key)),
      close: () => undefined,
    };
    const progress: DistributedProgress[] = [];
    const outcome = await runDistributed(itemScript(server.url, 24, 1.5), {
      launcher: quietLauncher(),
      store,
      count: 2,
      startDelayMs: 2500,
      intervalMs: 250,
      onProgress: (update) => {
        progress.push(update);
        if (update.snapshot.interval.startMs === 0) isRevealed = true;
      },
    });

    expect(outcome.failed).toEqual([]);
    const first = progress.filter((p) => p.snapshot.interval.startMs === 0);
    expect(first.map((p) => [p.isLate, p.included, p.missing])).toEqual([
      [false, [0], [1]],
      [true, [0, 1], []],
    ]);
    expect(first[1]!.generators.map((g) => g.index)).toEqual([1]);
    expect(outcome.generators[1]?.intervalsLate).toBe(1);
    // The live series holds the late part: it is the final result's series exactly.
    expect(outcome.intervals).toEqual(outcome.result.intervals);
    expect(outcome.result.counters.vusersCreated).toBe(24);
  });
});
