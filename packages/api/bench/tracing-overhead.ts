// What tracing costs the API: two API processes on one database, tracing off and tracing on (every request sampled,
// exported as OTLP/HTTP to a local sink that only counts spans), the same catalog.list and cart.get load at each in
// alternating windows, and the API's CPU seconds per request on each side. The goal is at most 5 % more CPU per request
// traced (docs/OPERATIONS.md "Tracing"). Called by the API bench; runs alone as `tsx bench/tracing-overhead.ts`.
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { median, processCpuSeconds } from "@checkout/bench-support";
import { prepareBenchData, queryUrl } from "./bench-data.ts";
import { measure, type LoadSettings, type Target } from "./load.ts";
import { readCommandLine } from "../src/cli/help.ts";
import { benchDatabase, Cleanup, findFreePorts, logTail, makeWorkDir, runBench, spawnApi, waitForOk, type ServerProcess } from "./processes.ts";

export interface TracingOverheadSide {
  /** 2xx and other answers in this side's measured windows. */
  responses: number;
  non2xx: number;
  errors: number;
  requestsPerSecond: number;
  /** The API process's CPU (user + system) over its measured windows, per response. */
  apiCpuSecondsPerRequest: number;
}

export interface TracingOverheadRow {
  label: string;
  request: string;
  off: TracingOverheadSide;
  on: TracingOverheadSide & {
    /** Spans the sink received per response (with every request sampled, fewer than a request makes: the exporter's queue dropped some). */
    spansPerRequest: number;
  };
  /** (on − off) / off of CPU seconds per request over all windows, in percent. */
  cpuOverheadPercent: number;
  /** The median over rounds of (on / off − 1) for the two windows of a round, in percent. */
  medianPairOverheadPercent: number;
}

export interface TracingOverheadResult {
  /** The share of requests the traced API sampled (1: every request, the worst case; production stages use 0.05). */
  sampleRatio: number;
  exporter: string;
  /** Measured windows per side per request kind, alternated off/on then on/off. */
  rounds: number;
  rows: TracingOverheadRow[];
}

/** How long the OpenTelemetry SDK's batch span processor waits between exports unless told otherwise. */
const SDK_EXPORT_DELAY_MS = 5000;

/** A local OTLP/HTTP receiver that only counts what it is sent (a span's id appears once per span in the JSON). */
async function startSpanCounter(): Promise<{ url: string; spans(): number; close(): Promise<void> }> {
  let spans = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      spans += body.split('"spanId"').length - 1;
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => spans,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A target whose server CPU readings are kept: measure() reads it at the start and at the end of its measured window. */
function cpuRecordingTarget(target: Omit<Target, "serverCpuSeconds" | "databaseCpuSeconds">, pid: number) {
  const readings: number[] = [];
  return {
    readings,
    target: {
      ...target,
      serverCpuSeconds: () => {
        const seconds = processCpuSeconds(pid);
        if (seconds !== null) readings.push(seconds);
        return seconds;
      },
      databaseCpuSeconds: () => null,
    } satisfies Target,
  };
}

export async function measureTracingOverhead(input: {
  /** A migrated, seeded database both API processes use (the bench's). */
  databaseUrl: string;
  /**
   * Whether an API already migrated and seeded that database (the bench's first API has): the two APIs' own migration
   * and seed at start then change nothing, and they start at once. Otherwise one after the other.
   */
  isDatabasePrepared?: boolean;
  workDir: string;
  /** The bench's environment for the children, minus anything that would point them elsewhere. */
  inherited: NodeJS.ProcessEnv;
  cleanup: Cleanup;
  load: LoadSettings;
  /** Windows per side per request kind (default 2: off, on, then on, off, so drift on the machine falls on both). */
  rounds?: number;
  /** The traced API's OTEL_TRACES_SAMPLER_ARG (default 1: every request). */
  sampleRatio?: number;
  /**
   * Milliseconds the traced API's exporter waits between batches (OTEL_BSP_SCHEDULE_DELAY); by default the SDK's 5 s.
   * A smoke run shortens it, so it waits that long (not 5 s) for each request kind's last spans.
   */
  exportDelayMs?: number;
  log: (message: string) => void;
}): Promise<TracingOverheadResult> {
  const { log } = input;
  const rounds = input.rounds ?? 2;
  const sampleRatio = input.sampleRatio ?? 1;
  const exportDelayMs = input.exportDelayMs ?? SDK_EXPORT_DELAY_MS;
  // Whatever the caller's environment says about tracing, each side is set here alone.
  const inherited = Object.fromEntries(Object.entries(input.inherited).filter(([name]) => !name.startsWith("OTEL_")));
  const sink = await startSpanCounter();
  input.cleanup.add(() => sink.close());
  const [offPort, onPort, offSandboxPort, onSandboxPort] = await findFreePorts(4);
  if (!offPort || !onPort || !offSandboxPort || !onSandboxPort) throw new Error("Could not find free ports");

  const start = async (side: "off" | "on", port: number, sandboxPort: number): Promise<{ api: ServerProcess; url: string; logPath: string }> => {
    const logPath = path.join(input.workDir, `api-tracing-${side}.log`);
    const api = spawnApi({
      name: `checkout API (tracing ${side})`,
      port,
      sandboxPort,
      workDir: path.join(input.workDir, `tracing-${side}`),
      logPath,
      inherited,
      ...(process.env.TRACING_BENCH_PROF ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${process.env.TRACING_BENCH_PROF}/${side}`] } : {}),
      env: {
        CLIENT_LIMITS_EXEMPT: "127.0.0.1",
        DATABASE_URL: input.databaseUrl,
        ...(side === "on"
          ? {
              OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
              OTEL_TRACES_SAMPLER: "traceidratio",
              OTEL_TRACES_SAMPLER_ARG: String(sampleRatio),
              ...(input.exportDelayMs === undefined ? {} : { OTEL_BSP_SCHEDULE_DELAY: String(input.exportDelayMs) }),
            }
          : {}),
      },
    });
    input.cleanup.add(() => api.stop(10_000));
    const url = `http://127.0.0.1:${port}`;
    await waitForOk(`${url}/ready`, api, 180_000).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logTail(logPath, 20)}`);
    });
    return { api, url, logPath };
  };
  // Both migrate and seed the shared database at start: one after the other, unless that is already done.
  const [off, on] = input.isDatabasePrepared
    ? await Promise.all([start("off", offPort, offSandboxPort), start("on", onPort, onSandboxPort)])
    : [await start("off", offPort, offSandboxPort), await start("on", onPort, onSandboxPort)];
  const data = await prepareBenchData(off.url);
  log(`tracing overhead: API ${off.url} (off) and ${on.url} (on, ${100 * sampleRatio} % of requests to ${sink.url}), cart ${data.cartId}`);

  const kinds = [
    { label: "catalog.list (tRPC + catalogue cache)", request: "GET /trpc/catalog.list", urlOf: (base: string) => queryUrl(base, "catalog.list"), body: undefined },
    { label: "cart.get (tRPC + one DB query)", request: "POST /trpc/cart.get", urlOf: (base: string) => `${base}/trpc/cart.get`, body: { cartId: data.cartId } },
  ];
  const rows: TracingOverheadRow[] = [];
  for (const kind of kinds) {
    const totals = {
      off: { responses: 0, non2xx: 0, errors: 0, cpu: 0, rps: 0 },
      on: { responses: 0, non2xx: 0, errors: 0, cpu: 0, rps: 0 },
    };
    /** CPU per request of each window, by side: window i of one side ran right beside window i of the other. */
    const perRequest = { off: [] as number[], on: [] as number[] };
    const spansBefore = sink.spans();
    for (let round = 0; round < rounds; round++) {
      const order: ("off" | "on")[] = round % 2 === 0 ? ["off", "on"] : ["on", "off"];
      for (const side of order) {
        const server = side === "off" ? off : on;
        const { target, readings } = cpuRecordingTarget(
          { label: kind.label, request: kind.request, url: kind.urlOf(server.url), isBaseline: false, body: kind.body },
          server.api.pid,
        );
        const m = await measure(target, input.load);
        if (m.responses === 0 || m.non2xx > 0)
          throw new Error(
            `${server.api.name}: ${m.responses} responses, ${m.non2xx} not 2xx, ${m.errors} errors (${JSON.stringify(m.statusCodes)}); the logs' ends:\n${logTail(off.logPath, 8)}\n${logTail(on.logPath, 8)}`,
          );
        const cpu = readings.length >= 2 ? readings.at(-1)! - readings.at(-2)! : Number.NaN;
        const sums = totals[side];
        sums.responses += m.responses;
        sums.non2xx += m.non2xx;
        sums.errors += m.errors;
        sums.cpu += cpu;
        sums.rps += m.requestsPerSecond / rounds;
        perRequest[side].push(cpu / m.responses);
        log(`  ${kind.request} tracing ${side}: ${Math.round(m.requestsPerSecond)} req/s, ${((1e6 * cpu) / m.responses).toFixed(1)} µs API CPU per request, ${m.non2xx} non-2xx`);
      }
    }
    // The exporter sends a batch at most every exportDelayMs: the last window's spans arrive after it (earlier ones during the next).
    await new Promise((resolve) => setTimeout(resolve, exportDelayMs + 500));
    const spans = sink.spans() - spansBefore;
    const side = (sums: typeof totals.off): TracingOverheadSide => ({
      responses: sums.responses,
      non2xx: sums.non2xx,
      errors: sums.errors,
      requestsPerSecond: sums.rps,
      apiCpuSecondsPerRequest: sums.cpu / sums.responses,
    });
    const offSide = side(totals.off);
    const onSide = { ...side(totals.on), spansPerRequest: spans / totals.on.responses };
    if (spans === 0 && sampleRatio === 1) throw new Error(`the traced API exported no span for ${kind.request}:\n${logTail(on.logPath, 20)}`);
    rows.push({
      label: kind.label,
      request: kind.request,
      off: offSide,
      on: onSide,
      cpuOverheadPercent: (100 * (onSide.apiCpuSecondsPerRequest - offSide.apiCpuSecondsPerRequest)) / offSide.apiCpuSecondsPerRequest,
      // Other programs on the machine change the CPU a request takes from one window to the next: the pair ratio of
      // windows that ran side by side, at their median, is what a busy machine's drift moves least.
      medianPairOverheadPercent: 100 * (median(perRequest.on.map((on, at) => on / perRequest.off[at]!)) - 1),
    });
  }
  await Promise.all([off.api.stop(10_000), on.api.stop(10_000)]);
  await sink.close();
  const batching = input.exportDelayMs === undefined ? "the SDK's defaults" : `a batch every ${input.exportDelayMs} ms`;
  return { sampleRatio, exporter: `OTLP/HTTP JSON, batched (${batching}), to a local sink`, rounds, rows };
}

/** The result as a Markdown table, for a report. */
export function renderTracingOverhead(result: TracingOverheadResult): string {
  const us = (seconds: number) => (1e6 * seconds).toFixed(1);
  return [
    `Tracing on, ${100 * result.sampleRatio} % of requests sampled (${result.exporter}), against tracing off; ${result.rounds} alternating windows per side.`,
    "",
    "| Request | Off: µs API CPU / request | On: µs API CPU / request | Overhead (all windows) | Overhead (median of pairs) | Spans / request received | req/s off → on |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...result.rows.map(
      (row) =>
        `| ${row.request} | ${us(row.off.apiCpuSecondsPerRequest)} | ${us(row.on.apiCpuSecondsPerRequest)} | ${row.cpuOverheadPercent >= 0 ? "+" : ""}${row.cpuOverheadPercent.toFixed(1)} % | ${row.medianPairOverheadPercent >= 0 ? "+" : ""}${row.medianPairOverheadPercent.toFixed(1)} % | ${row.on.spansPerRequest.toFixed(2)} | ${Math.round(row.off.requestsPerSecond)} → ${Math.round(row.on.requestsPerSecond)} |`,
    ),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  readCommandLine({
    name: "tracing-overhead",
    help: `
tsx bench/tracing-overhead.ts — what tracing costs the API, alone (\`pnpm bench\` measures it too): two API processes on a
fresh embedded PostgreSQL (or BENCH_DATABASE_URL), tracing off and on, the same catalog.list and cart.get load at each
in alternating windows, and the API's CPU per request on each side, printed as a table.

Settings (environment): TRACING_BENCH_SECONDS (3 s of load per window), TRACING_BENCH_ROUNDS (6), TRACING_BENCH_RATIOS
(sampled shares, default "1,0.05": every request, and production's share), TRACING_BENCH_PROF=<dir> (both APIs' CPU
profiles there, in off/ and on/).
`,
  });
  const cleanup = new Cleanup();
  const log = (message: string) => console.log(`[tracing-overhead] ${message}`);
  void runBench("tracing-overhead", cleanup, async () => {
    const seconds = Number(process.env.TRACING_BENCH_SECONDS ?? 3);
    const rounds = Number(process.env.TRACING_BENCH_ROUNDS ?? 6);
    const workDir = await makeWorkDir("checkout-tracing-bench-", cleanup);
    const [pgPort] = await findFreePorts(1);
    const db = await benchDatabase({ externalUrl: process.env.BENCH_DATABASE_URL, dataDir: path.join(workDir, "pg"), port: pgPort!, cleanup, log });
    const inherited: NodeJS.ProcessEnv = { ...process.env };
    for (const name of [
      "DATABASE_URL",
      "DATABASE_READ_URL",
      "PORT",
      "HOST",
      "PAYMENT_PROVIDER_URL",
      "PAYMENT_PROVIDER_PUBLIC_URL",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]) {
      delete inherited[name];
    }
    const results: TracingOverheadResult[] = [];
    for (const ratio of (process.env.TRACING_BENCH_RATIOS ?? "1,0.05").split(",").map(Number)) {
      results.push(
        await measureTracingOverhead({
          databaseUrl: db.url,
          workDir,
          inherited,
          cleanup,
          load: { connections: 10, warmupSeconds: 1, durationSeconds: seconds },
          rounds,
          sampleRatio: ratio,
          log,
        }),
      );
    }
    for (const result of results) console.log(`\n${renderTracingOverhead(result)}`);
    console.log(`\n${JSON.stringify(results, null, 2)}`);
    return 0;
  });
}
