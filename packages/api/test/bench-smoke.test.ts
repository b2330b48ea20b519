// Every benchmark still runs: each bench command's smoke mode completes and renders its report (never judged on its
// numbers) without touching docs/BENCHMARKS.md, and --help prints help and does nothing else.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const docPath = path.join(repoRoot, "docs", "BENCHMARKS.md");

interface Finished {
  code: number | null;
  output: string;
}

/** Runs a command from `cwd` (the repository root by default) with the test's environment plus `env`; resolves with its exit code and output. */
function run({ command, args, cwd = repoRoot, env = {} }: { command: string; args: string[]; cwd?: string; env?: Record<string, string> }): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    // "close", not "exit": the output pipes may still hold the last lines when the process exits.
    child.once("close", (code) => resolve({ code, output }));
  });
}

/**
 * A bench script run as its package.json script runs it (`tsx <script>`), without pnpm's start-up in front: that the
 * documented pnpm commands reach these scripts is the help test's part (the root `pnpm bench --smoke --help` goes through
 * all four), and that each script is the one its package.json names is checked below.
 */
function runScript({ cwd, script, args, env }: { cwd: string; script: string; args: string[]; env: Record<string, string> }): Promise<Finished> {
  return run({ command: process.execPath, args: ["--import", "tsx", script, ...args], cwd: path.join(repoRoot, cwd), env });
}

/** Runs `jobs` at most `limit` at a time (in order), resolving with their results in the same order. */
async function runLimited<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const at = next++;
      results[at] = await (jobs[at] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, lane));
  return results;
}

const docHash = () => createHash("sha256").update(readFileSync(docPath)).digest("hex");

interface Bench {
  name: string;
  /** The package folder, its package.json script's name, and the file that script runs with tsx. */
  cwd: string;
  packageScript: string;
  script: string;
  /** How its smoke mode is asked for (both ways are covered). */
  args: string[];
  env: Record<string, string>;
  /** What its report must contain. */
  mustContain: string[];
}

/** Each bench entry, longest smoke run first, so the two lanes below finish close together. */
const BENCHES: Bench[] = [
  {
    name: "api-bench",
    cwd: "packages/api",
    packageScript: "bench",
    script: "bench/run.ts",
    args: ["--smoke"],
    env: {},
    mustContain: [
      "## Results",
      "## Ratios against raw `node:http` (same run)",
      "cart.get",
      "## Against the database's own speed (same run)",
      "## The checkout journey: CPU per request by procedure (same run)",
      "## Tracing's cost (same run)",
    ],
  },
  {
    name: "engine-bench",
    cwd: "packages/loadtest",
    packageScript: "bench",
    script: "bench/engine-bench.ts",
    args: [],
    env: { BENCH_SMOKE: "true" },
    mustContain: ["<!-- engine-bench:start -->", "Artillery", "<!-- engine-bench:end -->"],
  },
  {
    name: "overload-bench",
    cwd: "packages/api",
    packageScript: "bench:overload",
    script: "bench/overload.ts",
    args: [],
    env: { BENCH_SMOKE: "1" },
    mustContain: ["<!-- overload-bench:start -->", "<!-- overload-bench:end -->"],
  },
  {
    name: "abuse-bench",
    cwd: "packages/api",
    packageScript: "bench:abuse",
    script: "bench/abuse.ts",
    args: ["--smoke"],
    env: {},
    mustContain: ["<!-- abuse-bench:start -->", "spoofed", "<!-- abuse-bench:end -->"],
  },
];

const apiBench = BENCHES[0] as Bench;
const abuseBench = BENCHES.find((bench) => bench.name === "abuse-bench") as Bench;
const startsSomething = /starting|embedded PostgreSQL on port|hello-world server at/;

let docBefore = "";
let helpDir = "";
let smokeDir = "";
let helpRuns: Promise<{ root: Finished; abuse: Finished }>;
let smokeRuns: Promise<Finished[]>;

beforeAll(async () => {
  docBefore = docHash();
  helpDir = await mkdtemp(path.join(os.tmpdir(), "bench-help-"));
  smokeDir = await mkdtemp(path.join(os.tmpdir(), "bench-smoke-"));
  // The help runs go beside the smoke runs (they only start processes that print and exit); each test awaits what it
  // checks, and afterAll waits for every run before it removes their folders.
  const helpEnv = { BENCH_SMOKE_REPORT_DIR: helpDir };
  helpRuns = Promise.all([
    // The root command runs each bench command with --help (bench:overload's own `--help` included), through pnpm.
    run({ command: "pnpm", args: ["bench", "--smoke", "--help"], env: helpEnv }),
    // abuse's `-h` is the short form.
    runScript({ cwd: abuseBench.cwd, script: abuseBench.script, args: ["-h"], env: helpEnv }),
  ]).then(([root, abuse]) => ({ root, abuse }));
  // Two at a time: each only has to finish, and each is mostly starting processes (PostgreSQL, the API, Artillery);
  // four at once on two cores only thrash, one at a time leaves a core idle while one waits on its database.
  smokeRuns = runLimited(
    BENCHES.map((bench) => () => runScript({ cwd: bench.cwd, script: bench.script, args: bench.args, env: { ...bench.env, BENCH_SMOKE_REPORT_DIR: smokeDir } })),
    2,
  );
  // A failed start is reported by the test that awaits it, not as an unhandled rejection.
  helpRuns.catch(() => {});
  smokeRuns.catch(() => {});
});

afterAll(async () => {
  await Promise.allSettled([helpRuns, smokeRuns]);
  for (const dir of [helpDir, smokeDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe("bench --help", () => {
  // Five pnpm + tsx starts (the root command runs all four benches' help) beside the smoke runs: on a busy 2-core machine
  // that can take over the default 30 s, so this test gets a long budget. Nothing here is timed.
  it("prints every bench command's help and starts nothing", { timeout: 300_000 }, async () => {
    const { root, abuse } = await helpRuns;
    expect(root.code, root.output).toBe(0);
    // The root command passes --help to all four benches (with --smoke it chains overload and abuse too).
    expect(root.output).toContain("pnpm bench [--smoke] — raw node:http against the real API");
    expect(root.output).toContain("pnpm --filter @checkout/loadtest bench [--smoke]");
    expect(root.output).toContain("pnpm --filter @checkout/api bench:overload [--smoke]");
    expect(root.output).toContain("pnpm --filter @checkout/api bench:abuse [--smoke]");
    expect(abuse.code).toBe(0);
    expect(abuse.output).toContain("bench:abuse [--smoke]");
    for (const finished of [root, abuse]) expect(finished.output).not.toMatch(startsSomething);
    expect(await readdir(helpDir)).toEqual([]);
    expect(docHash()).toBe(docBefore);
  });

  it("each bench's pnpm script runs the file the smoke runs below run", () => {
    for (const bench of BENCHES) {
      const manifest = JSON.parse(readFileSync(path.join(repoRoot, bench.cwd, "package.json"), "utf8")) as { scripts: Record<string, string> };
      expect(manifest.scripts[bench.packageScript], `${bench.cwd} ${bench.packageScript}`).toBe(`tsx ${bench.script}`);
    }
  });
});

describe("bench smoke mode", () => {
  for (const [at, bench] of BENCHES.entries()) {
    it(`${bench.name} completes and writes its report`, { timeout: 300_000 }, async () => {
      const finished = (await smokeRuns)[at];
      expect(finished?.code, finished?.output.slice(-4000)).toBe(0);
      const report = path.join(smokeDir, `${bench.name}.md`);
      expect(existsSync(report), `${report} was not written`).toBe(true);
      const text = await readFile(report, "utf8");
      for (const expected of bench.mustContain) expect(text).toContain(expected);
      // cart.get against pgbench sending its statement: measured where pgbench is installed, said so where it is not.
      if (bench.name === "api-bench") {
        expect(text).toMatch(/pgbench -M prepared -c \d+ -t 10`: [\d,]+ tps, [\d,]+ transactions, 0 failed|not measured: pgbench not found/);
        // Every procedure of the journey was measured, each with its CPU per call, and the weighted journey row: ten
        // shoppers each, and each check-out shopper adds two items (checkout-journey.yml), so cart.addLine is 20 calls.
        for (const [procedure, calls] of [
          ["catalog.list", 10],
          ["cart.addLine", 20],
          ["checkout.quote", 10],
          ["checkout.placeOrder", 10],
        ] as const)
          expect(text).toMatch(new RegExp(`\\| \`${procedure.replace(".", "\\.")}\` \\| [\\d.]+ % \\| ${calls} \\| [\\d.]+ \\|`));
        expect(text).toMatch(/\| \*\*Journey, weighted\*\* \| 100 % \| \| \*\*[\d.]+\*\* \|/);
        expect(text).toMatch(/needs\s+\*\*\d+ tasks\*\*/);
        // The interleaved journey ran through the load tester and its invariant check passed.
        expect(text).toMatch(/\*\*p99 [\d.]+ ms\*\*/);
        expect(text).toContain("the load tester's verdict: its thresholds and the shop's invariants held");
      }
      expect(finished?.output).toContain("left unchanged");
    });
  }

  it("leaves docs/BENCHMARKS.md as it was", { timeout: 300_000 }, async () => {
    await Promise.allSettled([helpRuns, smokeRuns]);
    expect(docHash()).toBe(docBefore);
  });

  it("refuses to write its report next to docs/BENCHMARKS.md", async () => {
    const finished = await runScript({ cwd: apiBench.cwd, script: apiBench.script, args: ["--smoke"], env: { BENCH_SMOKE_REPORT_DIR: path.dirname(docPath) } });
    expect(finished.code).not.toBe(0);
    expect(finished.output).toContain("never writes next to or over BENCHMARKS.md");
    // It refuses before it starts anything.
    expect(finished.output).not.toMatch(startsSomething);
    expect(docHash()).toBe(docBefore);
    expect(existsSync(path.join(path.dirname(docPath), "api-bench.md"))).toBe(false);
  });
});
