// The S3 result store against a real S3 API (s3rver from npm, on a free port): objects round-trip, listings page
// through, and a whole distributed run keeps its job and results there, written by generator processes.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLatencyHistogram, decodeHistogram, encodeHistogram, type RunResult } from "../src/engine/run-result.ts";
import { runDistributed } from "../src/distributed/coordinator.ts";
import { LocalLauncher } from "../src/distributed/local-launcher.ts";
import { openResultStore, S3ResultStore, StoreUrlError } from "../src/distributed/result-store.ts";
import { readJob, runFiles } from "../src/distributed/run-files.ts";
import { buildScript, collectOutput, exited, useTestServers, waitUntil } from "./support/index.ts";

const startTestServer = useTestServers();
const BUCKET = "loadtest-runs";
// s3rver checks every request's SigV4 signature against these fixed credentials.
const credentials = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" };

let s3rver: ChildProcess;
let directory: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), "loadtest-s3rver-"));
  // Its own process: s3rver's listing continuation tokens use DES, which Node's OpenSSL 3 offers only with the
  // legacy provider (a truncated listing is otherwise a 500).
  const bin = createRequire(import.meta.url).resolve("s3rver/bin/s3rver.js");
  s3rver = spawn(process.execPath, ["--openssl-legacy-provider", bin, "-d", directory, "-a", "127.0.0.1", "-p", "0", "-s", "--configure-bucket", BUCKET], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = collectOutput(s3rver);
  const port = await waitUntil("s3rver listening", () => /S3rver listening on [\d.]+:(\d+)/.exec(output.stdout())?.[1], { timeoutMs: 20_000, details: output.all });
  Object.assign(process.env, credentials, { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` });
});

afterAll(async () => {
  process.env = savedEnv;
  s3rver.kill();
  await exited(s3rver);
  rmSync(directory, { recursive: true, force: true });
});

describe("S3ResultStore", () => {
  it("writes, reads and lists objects under its prefix, and reads a missing key as undefined", async () => {
    const store = openResultStore(`s3://${BUCKET}/round-trip/`);
    expect(store).toBeInstanceOf(S3ResultStore);
    expect(store.url).toBe(`s3://${BUCKET}/round-trip`);
    try {
      await store.write("run-a/job.json", '{"a":1}');
      await store.write("run-a/generators/0/intervals/0.json", "{}");
      await store.write("run-a/generators/0/intervals/1000.json", "{}");
      await store.write("run-b/job.json", "{}");
      expect(await store.read("run-a/job.json")).toBe('{"a":1}');
      expect(await store.read("run-a/nothing.json")).toBeUndefined();
      expect((await store.list("run-a/")).sort()).toEqual(["run-a/generators/0/intervals/0.json", "run-a/generators/0/intervals/1000.json", "run-a/job.json"]);
      expect(await store.list("run-c/")).toEqual([]);
    } finally {
      store.close();
    }
  });

  it("pages through a listing longer than one answer holds", async () => {
    const store = openResultStore(`s3://${BUCKET}/paged`, { listPageSize: 3 });
    try {
      const keys = Array.from({ length: 8 }, (_, i) => `run/generators/0/intervals/${i * 1000}.json`);
      await Promise.all(keys.map((key) => store.write(key, "{}")));
      expect((await store.list("run/")).sort()).toEqual([...keys].sort());
    } finally {
      store.close();
    }
  });

  it("refuses an address that is not s3://bucket/prefix or a folder, in one line", () => {
    expect(() => openResultStore("s3://A_Bucket/x")).toThrow(StoreUrlError);
    expect(() => openResultStore("https://example.com/runs")).toThrow(/unsupported store "https:\/\/example.com\/runs"/);
  });

  it("holds a whole distributed run: the job, and each generator's intervals and result, written by generator processes", async () => {
    const server = await startTestServer((_request, response) => response.end("ok"));
    const store = openResultStore(`s3://${BUCKET}/runs`);
    const script = buildScript({
      target: server.url,
      phases: [{ duration: 1, arrivalCount: 15 }],
      scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }],
    });
    try {
      const outcome = await runDistributed(script, {
        launcher: new LocalLauncher({ onOutput: () => undefined, env: process.env }),
        store,
        count: 2,
        startDelayMs: 2500,
        intervalMs: 250,
      });
      expect(outcome.failed).toEqual([]);
      expect(outcome.storeUrl).toBe(`s3://${BUCKET}/runs`);
      expect((await readJob(store, outcome.runId))?.count).toBe(2);
      const results = await Promise.all([0, 1].map(async (index) => JSON.parse((await store.read(runFiles.result(outcome.runId, index))) ?? "null") as RunResult));
      expect(results.map((r) => r.counters.vusersCreated)).toEqual([8, 7]);
      const merged = createLatencyHistogram();
      for (const r of results) {
        const part = decodeHistogram(r.histograms.latency);
        merged.add(part);
        part.destroy();
      }
      expect(outcome.result.histograms.latency).toBe(encodeHistogram(merged));
      expect(merged.totalCount).toBe(15);
      merged.destroy();
      const intervalKeys = (await store.list(runFiles.generatorsPrefix(outcome.runId))).filter((key) => key.includes("/intervals/"));
      expect(intervalKeys.length).toBe(outcome.generators.reduce((sum, g) => sum + g.intervalsReported, 0));
    } finally {
      store.close();
    }
  });
});
