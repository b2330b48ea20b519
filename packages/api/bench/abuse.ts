// `pnpm --filter @checkout/api bench:abuse [--smoke]`: the shopper probe's p50, p99 and success rate with no attack
// This entry answers --help and refuses an option it does not take, or a smoke report directory next to
// docs/BENCHMARKS.md, before it loads the benchmark (abuse-main.ts), so neither starts or loads anything heavy.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isSmokeRun, smokeReportPath } from "@checkout/bench-support";
import { readCommandLine } from "../src/cli/help.ts";

readCommandLine({
  name: "bench:abuse",
  options: { smoke: "flag" },
  help: `
pnpm --filter @checkout/api bench:abuse [--smoke] — the shopper probe's success rate, p50 and p99 with no attack and
beside each attack of the abuse suite (slow bodies and headers, socket cap, key bypasses, hostile JSON, card testing,
/ready flood, spoofed addresses), one API process at its default limits; written to docs/BENCHMARKS.md (about 3 min).

  --smoke   (or BENCH_SMOKE=1) 0.5 s windows; the report goes to BENCH_SMOKE_REPORT_DIR (default
            $TMPDIR/checkout-bench-smoke), never docs/BENCHMARKS.md. Checks the benchmark still runs, not its numbers.

Settings (environment): ABUSE_DURATION (seconds a window), ABUSE_ATTACKS (comma-separated keys), ABUSE_WRITE_DOC,
BENCH_DATABASE_URL. Exit 78 names a bad setting.
`,
});

if (isSmokeRun()) {
  const docPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../docs/BENCHMARKS.md");
  try {
    smokeReportPath({ name: "abuse-bench", docPath });
  } catch (error) {
    console.error(`[abuse] FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

await import("./abuse-main.ts");
