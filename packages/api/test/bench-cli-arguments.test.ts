// The benches' and the developer scripts' command lines, each run as a developer runs it (its own process): `--help`
// and `-h` print the help and exit 0; an unknown option or a stray argument is one line on stderr and exit 2, before
// the command starts anything (no PostgreSQL, no API, no build, no load: nothing on stdout, no report written). A
// command that ignored the line would start its benchmark instead, and say so on stdout.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

interface Command {
  /** The name its usage errors start with. */
  name: string;
  /** The package folder it runs from, and its script there. */
  cwd: string;
  script: string;
  /** A phrase from the command's own help. */
  helpSays: string;
}

const COMMANDS: Command[] = [
  { name: "bench", cwd: "packages/api", script: "bench/run.ts", helpSays: "pnpm bench [--smoke] — raw node:http against the real API" },
  { name: "bench:overload", cwd: "packages/api", script: "bench/overload.ts", helpSays: "pnpm --filter @checkout/api bench:overload [--smoke]" },
  { name: "bench:abuse", cwd: "packages/api", script: "bench/abuse.ts", helpSays: "pnpm --filter @checkout/api bench:abuse [--smoke]" },
  { name: "bench:scale", cwd: "packages/api", script: "bench/scale-main.ts", helpSays: "Usage: pnpm bench:scale [options]" },
  { name: "tracing-overhead", cwd: "packages/api", script: "bench/tracing-overhead.ts", helpSays: "tsx bench/tracing-overhead.ts — what tracing costs the API" },
  { name: "rehearse", cwd: "packages/api", script: "scripts/rehearse/rehearse.ts", helpSays: "pnpm rehearse [options] — a blue/green release and a rollback" },
  { name: "drill:failover", cwd: "packages/api", script: "scripts/rehearse/failover.ts", helpSays: "pnpm drill:failover [options]" },
  { name: "engine-bench", cwd: "packages/loadtest", script: "bench/engine-bench.ts", helpSays: "pnpm --filter @checkout/loadtest bench [--smoke]" },
  { name: "bundle-report", cwd: "packages/web", script: "scripts/bundle-report.ts", helpSays: "Usage: pnpm --filter @checkout/web bundle-report" },
  { name: "lighthouse", cwd: "packages/web", script: "scripts/lighthouse.ts", helpSays: "Usage: pnpm --filter @checkout/web lighthouse" },
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let reportDir = "";

function run(file: string, args: string[], cwd: string): Promise<Run> {
  // A smoke run's report would land in reportDir: a bench that ran anyway leaves one there.
  const env = { ...process.env, BENCH_SMOKE_REPORT_DIR: reportDir, ABUSE_WRITE_DOC: "0" };
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: 90_000, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr });
    });
  });
}

/** `node --import tsx <script> <args>` in the command's package, as its package.json script runs it. */
function runCommand(command: Command, args: string[]): Promise<Run> {
  return run(process.execPath, ["--import", "tsx", command.script, ...args], path.join(repoRoot, command.cwd));
}

beforeAll(async () => {
  reportDir = await mkdtemp(path.join(os.tmpdir(), "bench-cli-arguments-"));
});

afterAll(async () => {
  if (reportDir) await rm(reportDir, { recursive: true, force: true });
});

describe.concurrent.each(COMMANDS)("$name", (command) => {
  it("refuses an unknown option with one line naming it and exit 2, starting nothing", async () => {
    const result = await runCommand(command, ["--bogus"]);
    expect(result).toEqual({ code: 2, stdout: "", stderr: `${command.name}: unknown option --bogus (see --help)\n` });
  });

  it("prints its help for --help and exits 0, even beside an option it does not take", async () => {
    const result = await runCommand(command, ["--bogus", "--help"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(command.helpSays);
    expect(result.stderr).toBe("");
  });
});

describe.concurrent("the other ways a bench's command line goes wrong", () => {
  const bench = COMMANDS[0]!;
  const engine = COMMANDS.find((command) => command.name === "engine-bench")!;

  it("--smoke, a bench's real option, does not carry an unknown one through", async () => {
    const [api, loadtest] = await Promise.all([runCommand(bench, ["--smoke", "--bogus"]), runCommand(engine, ["--smoke", "--bogus"])]);
    expect(api).toEqual({ code: 2, stdout: "", stderr: "bench: unknown option --bogus (see --help)\n" });
    expect(loadtest).toEqual({ code: 2, stdout: "", stderr: "engine-bench: unknown option --bogus (see --help)\n" });
  });

  it("a stray argument is refused", async () => {
    const [api, loadtest] = await Promise.all([runCommand(bench, ["now"]), runCommand(engine, ["now"])]);
    expect(api).toEqual({ code: 2, stdout: "", stderr: "bench: unexpected argument now (see --help)\n" });
    expect(loadtest).toEqual({ code: 2, stdout: "", stderr: "engine-bench: unexpected argument now (see --help)\n" });
  });

  it("-h is --help", async () => {
    const result = await runCommand(engine, ["-h"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(engine.helpSays);
  });

  it("a bad value is a usage error too, not a stack trace", async () => {
    const scale = COMMANDS.find((command) => command.name === "bench:scale")!;
    const result = await runCommand(scale, ["--calls", "many"]);
    expect(result).toEqual({ code: 2, stdout: "", stderr: 'bench:scale: --calls takes a whole number above 0, not "many" (see --help)\n' });
  });
});

describe.concurrent("the root package.json's wrappers pass the arguments through", () => {
  it("pnpm bench --smoke --bogus stops at the first bench with its line and exit 2; pnpm bench:scale --bogus too", async () => {
    const [bench, scale] = await Promise.all([run("pnpm", ["--silent", "bench", "--smoke", "--bogus"], repoRoot), run("pnpm", ["--silent", "bench:scale", "--bogus"], repoRoot)]);
    expect(bench).toEqual({ code: 2, stdout: "", stderr: "bench: unknown option --bogus (see --help)\n" });
    expect(scale).toEqual({ code: 2, stdout: "", stderr: "bench:scale: unknown option --bogus (see --help)\n" });
  });
});

// Not concurrent: it runs after every test above has finished.
describe("after every refusal", () => {
  it("no bench wrote a report where a smoke run writes it", async () => {
    expect(await readdir(reportDir)).toEqual([]);
  });
});
