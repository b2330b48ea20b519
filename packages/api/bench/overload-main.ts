// `pnpm --filter @checkout/api bench:overload`: the admission-control settings under overload, measured in one run.
// The body of the command: overload.ts reads the command line and refuses a bad smoke report directory before it loads this.
// One PostgreSQL for the whole run (embedded, or BENCH_DATABASE_URL); for each setting a fresh API process, then far
// more concurrent cart.create calls than the pool can serve, while /health and /ready are probed from a worker thread.
// Every number is also given as a ratio against admission off, measured in the same round of the same run.
// The parts, in overload/: settings.ts (the knobs and the settings compared), service.ts (the database and the API
// processes), load.ts (the three ways of offering the load), probes.ts and probe-worker.ts (/health and /ready beside
// it), window.ts (one measured window), report.ts (the tables and the section of docs/BENCHMARKS.md).
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gitCommit, isSmokeRun, smokeReportPath, spliceSection } from "@checkout/bench-support";
import { SCENARIOS, warmUp } from "./overload/load.ts";
import { startProbeThread } from "./overload/probes.ts";
import { existingConclusions, fmt, pct, renderConsole, renderSection, SECTION, type Report } from "./overload/report.ts";
import { startOverloadService } from "./overload/service.ts";
import { BenchEnv, DEFAULT_RUN, settingsFor, SMOKE_ENV } from "./overload/settings.ts";
import { attempts, measureWindow, okPerSecond, type Window } from "./overload/window.ts";
import { Cleanup, readSettings, runBench } from "./processes.ts";

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(apiDir, "../..");
const docPath = path.join(repoRoot, "docs", "BENCHMARKS.md");

function log(message: string): void {
  console.log(`[overload] ${message}`);
}

const cleanup = new Cleanup();

async function main(): Promise<number> {
  const startedAt = performance.now();
  const loadAtStart = os.loadavg();
  const isSmoke = isSmokeRun();
  const config = readSettings(BenchEnv, isSmoke ? { ...process.env, ...SMOKE_ENV } : process.env);
  if (!config) return 78;
  const reportPath = isSmoke ? smokeReportPath({ name: "overload-bench", docPath }) : docPath;
  const wanted = config.OVERLOAD_SETTINGS?.split(",").map((key) => key.trim()) ?? DEFAULT_RUN;
  const settings = settingsFor(config.DB_POOL_MAX).filter((setting) => setting.key === "off" || wanted.includes(setting.key));

  const service = await startOverloadService({ config, cleanup, log });
  const probes = startProbeThread(service.apiPort);
  cleanup.add(() => probes.terminate());
  const windows: Window[] = [];
  const openRates: number[] = [];

  for (let round = 1; round <= config.OVERLOAD_ROUNDS; round += 1) {
    for (const setting of settings) {
      await service.withApi(setting, round, async (apiPid) => {
        log(
          `round ${round}, ${setting.key}: ${setting.label}; load average ${os
            .loadavg()
            .map((v) => v.toFixed(2))
            .join(", ")}`,
        );
        if (config.OVERLOAD_WARMUP > 0) {
          const warm = await warmUp(service.apiUrl, config);
          log(`  warm-up: status codes ${JSON.stringify(warm.statusCodes)}, ${warm.errors} errors`);
        }
        for (const scenario of SCENARIOS) {
          const offInstant = windows.find((w) => w.setting === "off" && w.scenario === "instant" && w.round === round);
          const openRate = config.OVERLOAD_OPEN_RATE ?? Math.round(config.OVERLOAD_OPEN_FACTOR * (offInstant ? okPerSecond(offInstant) : 2000));
          if (scenario === "open" && setting.key === "off") openRates.push(openRate);
          const w = await measureWindow({
            scenario,
            setting: setting.key,
            round,
            openRate,
            apiUrl: service.apiUrl,
            probes,
            apiPid,
            postmasterPid: service.postmasterPid,
            config,
          });
          windows.push(w);
          log(
            `  ${scenario}: ${fmt(okPerSecond(w))} 2xx/s, p50 ${fmt(w.okLatency.p50)} ms, p99 ${fmt(w.okLatency.p99)} ms; shed ${pct(w.shed, attempts(w))}; ` +
              `other ${JSON.stringify(w.otherStatus)}, ${w.errors} errors (${w.timeouts} timeouts); /health p99 ${fmt(w.health.p99, 1)} ms; ` +
              `/ready p99 ${fmt(w.ready.p99)} ms, ${w.ready.failed}/${w.ready.count} failed; shed reasons ${JSON.stringify(w.shedReasons)}`,
          );
        }
      });
    }
  }

  const report: Report = {
    settings,
    openRates,
    windows,
    config,
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    database: service.database,
    commit: gitCommit(repoRoot),
    totalSeconds: (performance.now() - startedAt) / 1000,
  };
  for (const scenario of SCENARIOS) console.log(`\n${renderConsole(report, scenario)}`);
  console.log("");
  log(`load average ${loadAtStart.map((v) => v.toFixed(2)).join(", ")} at the start, ${report.loadAverage.end.map((v) => v.toFixed(2)).join(", ")} at the end`);
  if (isSmoke) {
    await writeFile(reportPath, spliceSection(null, renderSection(report, ""), SECTION));
    log(`smoke run: wrote ${reportPath}; ${path.relative(repoRoot, docPath)} left unchanged`);
  } else if (config.OVERLOAD_WRITE_DOC) {
    const existing = existsSync(docPath) ? await readFile(docPath, "utf8") : null;
    await writeFile(docPath, spliceSection(existing, renderSection(report, existingConclusions(existing)), SECTION));
    log(`wrote the "Admission control under overload" section of ${path.relative(repoRoot, docPath)}`);
  } else {
    console.log(renderSection(report, ""));
  }
  return 0;
}

await runBench("overload", cleanup, main);
