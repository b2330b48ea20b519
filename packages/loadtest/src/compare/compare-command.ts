// `checkout-loadtest compare BASELINE.json CURRENT.json`: reads two results written by `run --output`, prints the
// comparison table and its verdict, and writes JUnit XML and an HTML page when asked. Exit 0 when no metric regressed
// past its limit, 1 when one did, 2 for a usage error (CompareUsageError: a missing or unreadable file, a file that is
// not a result, a bad --max-regression).
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { formatAnnotation, isGithubActions, markdownTable } from "../ci/github-actions.ts";
import { renderCompareReport } from "../report/compare-section.ts";
import type { SavedRun } from "../report/saved-run.ts";
import { comparisonAnnotations, comparisonJunit, formatTable, TABLE_HEADERS, tableRows, verdictLine } from "./compare-format.ts";
import { compareRuns, DEFAULT_CONFIDENCE, DEFAULT_ITERATIONS, type Comparison } from "./compare-runs.ts";
import { CompareUsageError, DEFAULT_MAX_REGRESSION, parseMaxRegression } from "./regression-limits.ts";

export { CompareUsageError };

export const COMPARE_SYNOPSIS = ["compare BASELINE.json CURRENT.json [--max-regression p95=10%,p99=20%,error_rate=0.1] [--junit FILE] [--out report.html] [--window S]"];

export const COMPARE_HELP = `Compares two results written by run --output (the same script against a target before and after a change) and
fails only on a regression the data shows: each metric's change comes with a ${Math.round(DEFAULT_CONFIDENCE * 100)} % bootstrap confidence interval
(${DEFAULT_ITERATIONS} resamples of whole windows of each run, seeded: the same files always give the same answer), and a metric
fails when even the interval's low end is worse than its limit. Noise between two runs of one target passes; a
target that has become slower fails.

  --max-regression SPEC  how much worse each metric may get (default ${DEFAULT_MAX_REGRESSION}):
                         p50, p75, p90, p95, p99, p999, mean as a share of the baseline (p95=10%) or in
                         milliseconds (p95=5ms); error_rate in percentage points (error_rate=0.1: 1.0 % → 1.1 %)
  --junit FILE           write JUnit XML: a test case per metric, a failure for each regression
  --out FILE             write an HTML page: the table and both runs side by side
  --window S             seconds per resampled window (default: 5, shorter for runs under 50 s)
  Inside GitHub Actions (GITHUB_ACTIONS=true) each regression is also an ::error annotation and the table goes to
  the job summary.

Exit codes: 0 no metric regressed past its limit, 1 one did, 2 a usage error (a file missing or not a result, a bad
--max-regression).`;

/** The command's options, as node:util parseArgs takes them. */
export const COMPARE_OPTIONS = {
  "max-regression": { type: "string" },
  junit: { type: "string" },
  out: { type: "string" },
  window: { type: "string" },
} as const;

export const COMPARE_USAGE = `Usage:\n  checkout-loadtest ${COMPARE_SYNOPSIS.join("\n  checkout-loadtest ")}\n\n${COMPARE_HELP}`;

/** The positionals and option values, as parseArgs gives them. */
export interface CompareFlags {
  baseline?: string;
  current?: string;
  "max-regression"?: string;
  junit?: string;
  out?: string;
  window?: string;
}

export interface CompareIo {
  /** Lines for standard output. */
  print?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Reads a result written by `run --output`; every problem is a CompareUsageError naming the file. */
export function readResult(file: string, role: "baseline" | "current"): SavedRun {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CompareUsageError(`cannot read the ${role} ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (error as Error).message}`);
  }
  let saved: SavedRun;
  try {
    saved = JSON.parse(text) as SavedRun;
  } catch {
    throw new CompareUsageError(`the ${role} ${file} is not a result written by run --output (not JSON)`);
  }
  const isResult =
    saved?.version === 1 &&
    typeof saved.histograms?.latency === "string" &&
    Array.isArray(saved.intervals) &&
    typeof saved.intervalMs === "number" &&
    saved.intervalMs > 0 &&
    typeof saved.counters?.requests === "number" &&
    saved.intervals.every((i) => typeof i?.latency === "string" && typeof i.startMs === "number" && typeof i.requests === "number");
  if (!isResult) throw new CompareUsageError(`the ${role} ${file} is not a result written by run --output`);
  return saved;
}

function parseWindow(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (value.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) throw new CompareUsageError(`--window must be a positive number of seconds, got "${value}"`);
  return seconds * 1000;
}

function writeFile(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, text);
}

function header(comparison: Comparison, labels: { baseline: string; current: string }): string[] {
  const describe = (label: string, side: Comparison["baseline"]) =>
    `${label} (started ${new Date(side.startedAt).toISOString()}, ${(side.durationMs / 1000).toFixed(1)} s, ${side.requests} requests)`;
  const lines = [
    `compare: ${describe(labels.current, comparison.current)} against baseline ${describe(labels.baseline, comparison.baseline)}`,
    `bootstrap: ${comparison.iterations} resamples of ${comparison.baseline.windows.length} and ${comparison.current.windows.length} windows of ${comparison.windowMs / 1000} s, ` +
      `${Math.round(comparison.confidence * 100)} % confidence, seed ${comparison.seed}`,
  ];
  if (comparison.current.failedChecks.length > 0) {
    lines.push(`note: the current run failed its own checks (${comparison.current.failedChecks.join(", ")}); compare judges only the change`);
  }
  return lines;
}

/**
 * Runs the command; resolves to its exit code (0 pass, 1 a regression). Throws CompareUsageError for a usage error,
 * which the command line prints as one line with exit 2.
 */
export async function executeCompare(flags: CompareFlags, io: CompareIo = {}): Promise<number> {
  const print = io.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const env = io.env ?? process.env;
  if (!flags.baseline || !flags.current) throw new CompareUsageError("compare needs two results written by run --output: BASELINE.json CURRENT.json");
  const limits = parseMaxRegression(flags["max-regression"] ?? DEFAULT_MAX_REGRESSION);
  const windowMs = parseWindow(flags.window);
  const baseline = readResult(flags.baseline, "baseline");
  const current = readResult(flags.current, "current");
  const labels = { baseline: flags.baseline, current: flags.current };

  const comparison = compareRuns(baseline, current, { limits, windowMs });
  print([...header(comparison, labels), "", formatTable(comparison), "", ...comparison.notes.map((note) => `note: ${note}`), verdictLine(comparison)].join("\n"));

  if (flags.junit) writeFile(flags.junit, comparisonJunit(comparison, labels));
  if (flags.out) {
    writeFile(flags.out, renderCompareReport({ comparison, baseline: { label: labels.baseline, saved: baseline }, current: { label: labels.current, saved: current } }));
    print(`comparison written to ${flags.out}`);
  }
  if (isGithubActions(env)) {
    for (const annotation of comparisonAnnotations(comparison, labels)) print(formatAnnotation(annotation));
    if (env.GITHUB_STEP_SUMMARY) {
      appendFileSync(
        env.GITHUB_STEP_SUMMARY,
        [
          `### Load test comparison: ${comparison.passed ? "PASS" : "FAIL"}`,
          "",
          `${labels.current} against ${labels.baseline}`,
          "",
          markdownTable(TABLE_HEADERS, tableRows(comparison)),
          "",
          "",
        ].join("\n"),
      );
    }
  }
  return comparison.passed ? 0 : 1;
}

/** The command as the command line's dispatcher declares one: `compare BASELINE CURRENT`. */
export const compareCommand = {
  synopsis: COMPARE_SYNOPSIS,
  help: COMPARE_HELP,
  options: COMPARE_OPTIONS,
  positionals: 2,
  execute: (values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number> => {
    const text = (name: keyof typeof COMPARE_OPTIONS) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
    return executeCompare({
      baseline: positionals[0],
      current: positionals[1],
      "max-regression": text("max-regression"),
      junit: text("junit"),
      out: text("out"),
      window: text("window"),
    });
  },
};
