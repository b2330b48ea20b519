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

/** Runs a command from the repository root with the test's environment plus `env`; resolves with its exit code and output. */
function run({ command, args, env = {} }: { command: string; args: string[]; env?: Record<string, string> }): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, output }));
  });
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

/** Each bench entry, how its smoke mode is asked for (both ways are covered), and what its report must contain. */
const BENCHES: { name: string; args: string[]; env: Record<string, string>; mustContain: string[] }[] = [
  {
    name: "api-bench",
    args: ["--filter", "@checkout/api", "bench", "--smoke"],
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
    name: "overload-bench",
    args: ["--filter", "@checkout/api", "bench:overload"],
    env: { BENCH_SMOKE: "1" },
    mustContain: ["<!-- overload-bench:start -->", "<!-- overload-bench:end -->"],
  },
  {
    name: "abuse-bench",
    args: ["--filter", "@checkout/api", "bench:abuse", "--smoke"],
    env: {},
    mustContain: ["<!-- abuse-bench:start -->", "spoofed", "<!-- abuse-bench:end -->"],
  },
  {
    name: "engine-bench",
    args: ["--filter", "@checkout/loadtest", "bench"],
    env: { BENCH_SMOKE: "true" },
    mustContain: ["<!-- engine-bench:start -->", "Artillery", "<!-- engine-bench:end -->"],
  },
];

describe("bench --help", () => {
  // Five pnpm + tsx starts (the root command runs all four benches' help): on a busy 2-core machine that alone can take
  // over the default 30 s, so this test gets the suite's longest budget. Nothing here is timed.
  it("prints every bench command's help and starts nothing", { timeout: 180_000 }, async () => {
    const before = docHash();
    const reportDir = await mkdtemp(path.join(os.tmpdir(), "bench-help-"));
    try {
      const env = { BENCH_SMOKE_REPORT_DIR: reportDir };
      // The root command runs each bench command with --help (bench:overload's own `--help` included); abuse's `-h` is the short form.
      const [root, abuse] = await Promise.all([
        run({ command: "pnpm", args: ["bench", "--smoke", "--help"], env }),
        run({ command: "pnpm", args: ["--filter", "@checkout/api", "bench:abuse", "-h"], env }),
      ]);
      expect(root.code, root.output).toBe(0);
      // The root command passes --help to all four benches (with --smoke it chains overload and abuse too).
      expect(root.output).toContain("pnpm bench [--smoke] — raw node:http against the real API");
      expect(root.output).toContain("pnpm --filter @checkout/loadtest bench [--smoke]");
      expect(root.output).toContain("pnpm --filter @checkout/api bench:overload [--smoke]");
      expect(root.output).toContain("pnpm --filter @checkout/api bench:abuse [--smoke]");
      expect(abuse.code).toBe(0);
      expect(abuse.output).toContain("bench:abuse [--smoke]");
      for (const finished of [root, abuse]) expect(finished.output).not.toMatch(/starting|embedded PostgreSQL on port|hello-world server at/);
      expect(await readdir(reportDir)).toEqual([]);
      expect(docHash()).toBe(before);
    } finally {
      await rm(reportDir, { recursive: true, force: true });
    }
  });
});

describe("bench smoke mode", () => {
  let reportDir = "";
  let docBefore = "";
  let results: Finished[] = [];

  beforeAll(async () => {
    docBefore = docHash();
    reportDir = await mkdtemp(path.join(os.tmpdir(), "bench-smoke-"));
    // Two at a time: each only has to finish, and each is mostly starting processes (PostgreSQL, the API, Artillery);
    // four at once on two cores only thrash, one at a time leaves a core idle while one waits on its database.
    results = await runLimited(
      BENCHES.map((bench) => () => run({ command: "pnpm", args: bench.args, env: { ...bench.env, BENCH_SMOKE_REPORT_DIR: reportDir } })),
      2,
    );
  }, 300_000);

  afterAll(async () => {
    if (reportDir) await rm(reportDir, { recursive: true, force: true });
  });

  for (const [at, bench] of BENCHES.entries()) {
    it(`${bench.name} completes and writes its report`, async () => {
      const finished = results[at];
      expect(finished?.code, finished?.output.slice(-4000)).toBe(0);
      const report = path.join(reportDir, `${bench.name}.md`);
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

  it("leaves docs/BENCHMARKS.md as it was", () => {
    expect(docHash()).toBe(docBefore);
  });

  it("refuses to write its report next to docs/BENCHMARKS.md", async () => {
    const finished = await run({ command: "pnpm", args: ["--filter", "@checkout/api", "bench", "--smoke"], env: { BENCH_SMOKE_REPORT_DIR: path.dirname(docPath) } });
    expect(finished.code).not.toBe(0);
    expect(finished.output).toContain("never writes next to or over BENCHMARKS.md");
    // It refuses before it starts anything.
    expect(finished.output).not.toMatch(/starting|embedded PostgreSQL on port|hello-world server at/);
    expect(docHash()).toBe(docBefore);
    expect(existsSync(path.join(path.dirname(docPath), "api-bench.md"))).toBe(false);
  });
});
