// `pnpm bench`: raw node:http vs the real API (production mode, its own PostgreSQL) in one run, same load tool, ratios to docs/BENCHMARKS.md.
// This entry answers --help and refuses an option it does not take, or a smoke report directory next to
// docs/BENCHMARKS.md, before it loads the benchmark (run-main.ts), so neither starts or loads anything heavy.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isSmokeRun, smokeReportPath } from "@checkout/bench-support";
import { readCommandLine } from "../src/cli/help.ts";

readCommandLine({
  name: "bench",
  options: { smoke: "flag" },
  help: `
pnpm bench [--smoke] — raw node:http against the real API (production mode; a fresh embedded PostgreSQL started by
the bench, or BENCH_DATABASE_URL), one run with the same load tool, ratios written to docs/BENCHMARKS.md (then the
load tester's own engine benchmark).

  --smoke   (or BENCH_SMOKE=1) each target once, 100 requests, 2 connections, no warm-up; the report goes to
            BENCH_SMOKE_REPORT_DIR (default $TMPDIR/checkout-bench-smoke), never docs/BENCHMARKS.md: checks the
            benchmark still runs, not its numbers.
            The root \`pnpm bench --smoke\` also runs bench:overload and bench:abuse in smoke mode.

Settings (environment): BENCH_DURATION (10 s per target), BENCH_WARMUP (3 s), BENCH_CONNECTIONS (50),
BENCH_DATABASE_URL, BENCH_CPU_PROF=1 (CPU profiles of the API). Exit 78 names a bad setting.
`,
});

if (isSmokeRun()) {
  const docPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../docs/BENCHMARKS.md");
  try {
    smokeReportPath({ name: "api-bench", docPath });
  } catch (error) {
    console.error(`[bench] FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

await import("./run-main.ts");
