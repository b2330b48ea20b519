// `pnpm --filter @checkout/api bench:abuse [--smoke]`: the shopper probe's p50, p99 and success rate with no attack
// The body of the command: abuse.ts reads the command line and refuses a bad smoke report directory before it loads this.
// (the baseline, at the start and the end) and beside each attack of the abuse suite, in one run against one API
// process at its default limits; written to docs/BENCHMARKS.md. The attacks and the probe are the suite's own
// (test/support/attack-tools.ts); the probe runs in a worker thread so the attackers' busy loop does not time it.
// The parts, in abuse/: settings.ts (the knobs), service.ts (the database and the API), attacks.ts, probe.ts and
// probe-worker.ts (the shoppers' thread), windows.ts (baseline, each attack, baseline) and report.ts (the section).
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gitCommit, isSmokeRun, smokeReportPath, spliceSection } from "@checkout/bench-support";
import { ATTACKS } from "./abuse/attacks.ts";
import { renderSection, SECTION, type Window } from "./abuse/report.ts";
import { startAbuseService } from "./abuse/service.ts";
import { BenchEnv, DEFAULT_SECONDS } from "./abuse/settings.ts";
import { runWindows } from "./abuse/windows.ts";
import { Cleanup, readSettings, runBench } from "./processes.ts";

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(apiDir, "../..");
const docPath = path.join(repoRoot, "docs", "BENCHMARKS.md");

function log(message: string): void {
  console.log(`[abuse] ${message}`);
}

const cleanup = new Cleanup();

async function main(): Promise<number> {
  const startedAt = performance.now();
  const loadAtStart = os.loadavg();
  const config = readSettings(BenchEnv);
  if (!config) return 78;
  const isSmoke = isSmokeRun();
  // A smoke run: every attack once, each window just long enough for the attack and the probe to do their work once.
  const seconds = isSmoke ? 0.5 : (config.ABUSE_DURATION ?? DEFAULT_SECONDS);
  const writeDoc = !isSmoke && (config.ABUSE_WRITE_DOC === undefined || config.ABUSE_WRITE_DOC === "1" || config.ABUSE_WRITE_DOC === "true");
  const wanted = config.ABUSE_ATTACKS?.split(",").map((key) => key.trim());
  const attacks = ATTACKS.filter((attack) => !wanted || wanted.includes(attack.key));

  const service = await startAbuseService({ config, cleanup, log });
  let windows: Window[];
  try {
    windows = await runWindows({ service, attacks, seconds, isSmoke, cleanup, log });
  } catch (error) {
    console.error(`[abuse] last lines of the API log:\n${service.logTail(20)}`);
    throw error;
  }

  const section = renderSection(windows, {
    seconds,
    isSmoke,
    database: service.database,
    commit: gitCommit(repoRoot),
    loadAverage: [loadAtStart, os.loadavg()],
    totalSeconds: (performance.now() - startedAt) / 1000,
  });
  if (isSmoke) {
    const reportPath = smokeReportPath({ name: "abuse-bench", docPath });
    await writeFile(reportPath, spliceSection(null, section, SECTION));
    log(`smoke run: wrote ${reportPath}; ${path.relative(repoRoot, docPath)} left unchanged`);
  } else if (writeDoc) {
    const existing = existsSync(docPath) ? await readFile(docPath, "utf8") : "# Benchmarks\n";
    await writeFile(docPath, spliceSection(existing, section, SECTION));
    log(`wrote the abuse section of ${path.relative(repoRoot, docPath)}`);
  } else {
    console.log(`\n${section}`);
  }
  return 0;
}

await runBench("abuse", cleanup, main);
