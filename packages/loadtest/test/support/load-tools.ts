// Runs a script with this load tester's CLI or with real Artillery 2.0.21, the same arguments for both,
// and reads back the counters each writes with --output, under Artillery's metric names.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RunCounters, RunResult } from "../../src/engine/run-result.ts";
import { repoRoot, runToExit } from "./processes.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const artilleryBin = path.join(here, "../../node_modules/.bin/artillery");
const cli = path.join(here, "../../src/cli.ts");
export const scriptsDir = path.join(repoRoot, "tests/performance");

export interface RunArgs {
  /** A shipped script's file name in tests/performance, or an absolute path. */
  script: string;
  target: string;
  environment?: string;
  variables?: Record<string, unknown>;
  scenarioName?: string;
  /** Extra environment variables for the load tester process. */
  env?: Record<string, string>;
  /** Extra arguments for our load tester only (Artillery is never given them). */
  ourArgs?: string[];
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The counters under Artillery's names: vusers.*, http.requests/responses, http.codes.*, errors.*. */
  counters: Record<string, number>;
}

export interface OurRun extends ToolRun {
  result: RunResult;
}

function commonArgs(args: RunArgs, output: string): string[] {
  return [
    "run",
    "--target",
    args.target,
    "--output",
    output,
    ...(args.environment === undefined ? [] : ["-e", args.environment]),
    ...(args.variables === undefined ? [] : ["--variables", JSON.stringify(args.variables)]),
    ...(args.scenarioName === undefined ? [] : ["--scenario-name", args.scenarioName]),
    path.resolve(scriptsDir, args.script),
  ];
}

function withOutputFile<T>(body: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "loadtest-run-"));
  return body(path.join(dir, "result.json")).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const counterPattern = /^(vusers\.(created|completed|failed)|http\.(requests|responses)|http\.codes\.\d+|errors\..+)$/;

function baseCounters(): Record<string, number> {
  return { "vusers.created": 0, "vusers.completed": 0, "vusers.failed": 0, "http.requests": 0, "http.responses": 0 };
}

/** Our error kinds that Artillery names differently; transport errors (ECONNREFUSED, ETIMEDOUT …) share their errno. */
const artilleryErrorNames: Record<string, string> = { ECAPTURE: "Failed capture or match" };

export function toArtilleryNames(c: RunCounters): Record<string, number> {
  const counters = baseCounters();
  counters["vusers.created"] = c.vusersCreated;
  counters["vusers.completed"] = c.vusersCompleted;
  counters["vusers.failed"] = c.vusersFailed;
  counters["http.requests"] = c.requests;
  counters["http.responses"] = c.responses;
  for (const [code, n] of Object.entries(c.statusCodes)) counters[`http.codes.${code}`] = n;
  for (const [kind, n] of [...Object.entries(c.errors), ...Object.entries(c.vuserErrors)]) {
    const name = `errors.${artilleryErrorNames[kind] ?? kind}`;
    counters[name] = (counters[name] ?? 0) + n;
  }
  return counters;
}

export function runOurs(args: RunArgs): Promise<OurRun> {
  return withOutputFile(async (output) => {
    const env = { ...process.env, ...args.env };
    const outcome = await runToExit(process.execPath, ["--import", "tsx", cli, ...commonArgs(args, output), ...(args.ourArgs ?? [])], env);
    if (outcome.code !== 0 && outcome.code !== 1) throw new Error(`checkout-loadtest exited with ${outcome.code}:\n${outcome.stdout}\n${outcome.stderr}`);
    const result = JSON.parse(readFileSync(output, "utf8")) as RunResult;
    return { ...outcome, result, counters: toArtilleryNames(result.counters) };
  });
}

export function runArtillery(args: RunArgs): Promise<ToolRun> {
  return withOutputFile(async (output) => {
    const env = {
      ...process.env,
      ...args.env,
      PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1",
      ARTILLERY_DISABLE_TELEMETRY: "1",
      NODE_OPTIONS: `--require ${path.join(here, "../artillery-offline.cjs")}`,
    };
    const outcome = await runToExit(artilleryBin, commonArgs(args, output), env);
    let report: { aggregate: { counters: Record<string, number> } };
    try {
      report = JSON.parse(readFileSync(output, "utf8")) as typeof report;
    } catch {
      throw new Error(`artillery exited with ${outcome.code} and wrote no report:\n${outcome.stdout}\n${outcome.stderr}`);
    }
    const counters = baseCounters();
    for (const [name, n] of Object.entries(report.aggregate.counters)) if (counterPattern.test(name)) counters[name] = n;
    return { ...outcome, counters };
  });
}

const scheduleFailure = /^FAIL {2}(\d+ of \d+ arrivals|schedule:|generators: \d+ generators? started late)/;
const latencyFailure = /^FAIL {2}http\.response_time\./;

/**
 * The FAIL lines of our run's verdicts, and whether every one is a timing verdict (its own schedule or a latency
 * threshold), which on this shared machine says how busy it was, not whether the service kept its promises.
 */
export function failedVerdicts(run: ToolRun): { lines: string[]; isTimingOnly: boolean } {
  const lines = run.stdout.split("\n").filter((line) => line.startsWith("FAIL"));
  return { lines, isTimingOnly: lines.every((line) => scheduleFailure.test(line) || latencyFailure.test(line)) };
}
