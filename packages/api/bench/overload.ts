// `pnpm --filter @checkout/api bench:overload`: the admission-control settings under overload, measured in one run.
// This entry answers --help and refuses an option it does not take, or a smoke report directory next to
// docs/BENCHMARKS.md, before it loads the benchmark (overload-main.ts), so neither starts or loads anything heavy.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isSmokeRun, smokeReportPath } from "@checkout/bench-support";
import { readCommandLine } from "../src/cli/help.ts";

readCommandLine({
  name: "bench:overload",
  options: { smoke: "flag" },
  help: `
pnpm --filter @checkout/api bench:overload [--smoke] — admission control under overload against admission off, in one
run (about 8 minutes): a retry storm, clients that wait the Retry-After, and open arrivals above capacity; written to
docs/BENCHMARKS.md.

  --smoke   (or BENCH_SMOKE=1) one round of "off" and the defaults, 10 clients, 0.5 s windows, no warm-up; the
            report goes to BENCH_SMOKE_REPORT_DIR (default $TMPDIR/checkout-bench-smoke), never docs/BENCHMARKS.md.
            Checks the benchmark still runs, not its numbers.

Settings (environment): OVERLOAD_CONNECTIONS (800), OVERLOAD_DURATION (10 s), OVERLOAD_WARMUP (3 s), OVERLOAD_ROUNDS (2),
OVERLOAD_SETTINGS (which settings besides "off"), BENCH_DATABASE_URL and more (see bench/overload/settings.ts).
Exit 78 names a bad setting.
`,
});

if (isSmokeRun()) {
  const docPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../docs/BENCHMARKS.md");
  try {
    smokeReportPath({ name: "overload-bench", docPath });
  } catch (error) {
    console.error(`[overload] FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

await import("./overload-main.ts");
