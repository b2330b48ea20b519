// The journey as it really runs, interleaved, at a fixed share of what the pinned API process can serve: the project's
// load tester plays tests/performance/checkout-journey.yml (open model, latency from each request's intended start) at
// that rate, and its own invariant check judges the orders afterwards. Its latency percentiles are the figure here.
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import hdr from "hdr-histogram-js";
import { parse, stringify } from "yaml";
import { JOURNEY_SCENARIOS } from "./journey.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const JOURNEY_SCRIPT = path.join(repoRoot, "tests/performance/checkout-journey.yml");
const LOADTEST_CLI = path.join(repoRoot, "packages/loadtest/src/cli.ts");

export interface JourneyAtRate {
  /** Requests per second the run aimed at: `share` × the API's per-core rate. */
  targetRequestsPerSecond: number;
  share: number;
  arrivalsPerSecond: number;
  seconds: number;
  requests: number;
  /** Latency from each request's intended start, ms, over every request of the run. */
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** The load tester's exit code: 0 its thresholds and the shop's invariants held. */
  exitCode: number | null;
  /** The load tester's FAIL lines (a threshold, its schedule, an invariant), as it printed them. */
  failures: string[];
  /** API CPU over the run, per request, ms. */
  apiCpuMsPerRequest: number | null;
}

/** API requests one arrival of the journey makes, on average (the scenarios' weights). */
export function requestsPerArrival(): number {
  const weight = JOURNEY_SCENARIOS.reduce((sum, scenario) => sum + scenario.weight, 0);
  return JOURNEY_SCENARIOS.reduce((sum, scenario) => sum + scenario.weight * scenario.procedures.length, 0) / weight;
}

export async function runJourneyAtRate(input: {
  apiUrl: string;
  sandboxUrl: string;
  adminToken: string;
  requestsPerSecondPerCore: number;
  share: number;
  seconds: number;
  workDir: string;
  /** Prefix that pins the load tester (taskset -c 0), or none. */
  pinPrefix: string[];
  apiCpuSeconds: () => number | null;
  /**
   * Whether the load tester's verdict judges time: the script's latency thresholds and its own schedule (arrivals
   * launched late). A smoke run, on a machine busy with other work, has its verdict judge only what it counts: the
   * error rate and the shop's invariants.
   */
  isTimingJudged: boolean;
  log: (message: string) => void;
}): Promise<JourneyAtRate> {
  const targetRequestsPerSecond = input.share * input.requestsPerSecondPerCore;
  const arrivalsPerSecond = Math.max(1, Math.round(targetRequestsPerSecond / requestsPerArrival()));
  const script = parse(await readFile(JOURNEY_SCRIPT, "utf8")) as { config: Record<string, unknown> };
  script.config.phases = [{ name: "steady", duration: input.seconds, arrivalRate: arrivalsPerSecond }];
  delete script.config.environments;
  if (!input.isTimingJudged) delete (script.config.plugins as { ensure?: { thresholds?: unknown } } | undefined)?.ensure?.thresholds;
  const scriptPath = path.join(input.workDir, "journey-at-rate.yml");
  const outputPath = path.join(input.workDir, "journey-at-rate.json");
  await writeFile(scriptPath, stringify(script));

  input.log(
    `journey at ${Math.round(100 * input.share)} % of the API's per-core rate: ${arrivalsPerSecond} arrivals/s (about ${Math.round(arrivalsPerSecond * requestsPerArrival())} req/s) for ${input.seconds} s`,
  );
  const cpu0 = input.apiCpuSeconds();
  const [command, ...prefixArgs] = [...input.pinPrefix, process.execPath];
  const args = [
    ...prefixArgs,
    "--import",
    "tsx",
    LOADTEST_CLI,
    "run",
    scriptPath,
    "--target",
    input.apiUrl,
    "-v",
    JSON.stringify({ paymentUrl: input.sandboxUrl }),
    "--output",
    outputPath,
    "--workers",
    "1",
  ];
  let output = "";
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    // Untimed, an arrival counts as late only a minute after its planned time, which a run of seconds never reaches.
    const env = { ...process.env, CHECKOUT_ADMIN_TOKEN: input.adminToken, ...(input.isTimingJudged ? {} : { LOADTEST_LATE_MS: "60000" }) };
    const child = spawn(command as string, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    // "close", not "exit": the pipes may still hold the report's last lines when the process exits.
    child.once("close", (code) => {
      if (code !== 0) input.log(`  the load tester exited ${code}:\n${output.split("\n").slice(-25).join("\n")}`);
      resolve(code);
    });
  });
  const cpu1 = input.apiCpuSeconds();
  if (exitCode === 2) throw new Error("The load tester refused the journey script (exit 2); see its output above");
  const run = JSON.parse(await readFile(outputPath, "utf8")) as { histograms: { latency: string }; counters: { requestsCompleted?: number } };
  const histogram = hdr.decodeFromCompressedBase64(run.histograms.latency, 32, false);
  try {
    const requests = histogram.totalCount;
    const ms = (percentile: number) => histogram.getValueAtPercentile(percentile) / 1000;
    return {
      targetRequestsPerSecond,
      share: input.share,
      arrivalsPerSecond,
      seconds: input.seconds,
      requests,
      latencyMs: { p50: ms(50), p95: ms(95), p99: ms(99), max: histogram.maxValue / 1000 },
      exitCode,
      failures: output
        .split("\n")
        .filter((line) => line.startsWith("FAIL"))
        .map((line) => line.replace(/^FAIL\s+/, "")),
      apiCpuMsPerRequest: cpu0 === null || cpu1 === null || requests === 0 ? null : ((cpu1 - cpu0) * 1000) / requests,
    };
  } finally {
    histogram.destroy();
  }
}
