// A bench's smoke mode (`--smoke` or BENCH_SMOKE=1): seconds-long windows that prove it still runs end to end and
// renders its report, written beside the other smoke reports instead of into docs/BENCHMARKS.md.
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** True when the command line has `--smoke` or the environment has BENCH_SMOKE=1 (or true). */
export function isSmokeRun({ argv = process.argv.slice(2), env = process.env }: { argv?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): boolean {
  return argv.includes("--smoke") || env.BENCH_SMOKE === "1" || env.BENCH_SMOKE === "true";
}

/**
 * Where a smoke run writes its report: `<BENCH_SMOKE_REPORT_DIR or $TMPDIR/checkout-bench-smoke>/<name>.md`. A smoke
 * run's numbers mean nothing, so it refuses a directory that would put them in place of the documented ones.
 */
export function smokeReportPath({ name, docPath, env = process.env }: { name: string; docPath: string; env?: NodeJS.ProcessEnv }): string {
  const dir = path.resolve(env.BENCH_SMOKE_REPORT_DIR || path.join(os.tmpdir(), "checkout-bench-smoke"));
  const file = path.join(dir, `${name}.md`);
  if (file === path.resolve(docPath) || dir === path.dirname(path.resolve(docPath))) {
    throw new Error(`BENCH_SMOKE_REPORT_DIR must not be ${dir}: a smoke run never writes next to or over ${path.basename(docPath)}`);
  }
  mkdirSync(dir, { recursive: true });
  return file;
}
