// `--on local|fargate`: the launcher, the store and the start delay a distributed run uses on each platform.
import { readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DEFAULT_START_DELAY_MS } from "./coordinator.ts";
import type { FargateLauncherConfig } from "./fargate-launcher.ts";
import type { GeneratorLauncher } from "./launcher.ts";
import { LocalLauncher, type LocalLauncherOptions } from "./local-launcher.ts";
import { openResultStore, type ResultStore } from "./result-store.ts";
import { DistributedUsageError, isValidRunId } from "./run-files.ts";

export type GeneratorPlatform = GeneratorLauncher["kind"];

export interface LauncherForOptions {
  /**
   * Where the run's files go (`--store`). Local default: a folder under the system's temporary directory; Fargate
   * default: s3://<the stack's runs bucket>/runs, the only bucket the generator tasks may write.
   */
  storeUrl?: string;
  local?: LocalLauncherOptions;
  /** The LoadGenerators stack's outputs; default loadFargateLauncherConfig({ file: fargateConfigFile }). */
  fargateConfig?: FargateLauncherConfig;
  fargateConfigFile?: string;
}

export interface DistributedSetup {
  launcher: GeneratorLauncher;
  store: ResultStore;
  /** The platform's default time from writing the job to the common start. */
  startDelayMs: number;
}

/** The folder local runs keep their files in unless told otherwise. */
export const LOCAL_RUNS_FOLDER = path.join(os.tmpdir(), "checkout-loadtest-runs");

/** How long a local run's files are kept in the default folder: each local run there removes the runs older than this. */
export const LOCAL_RUNS_KEPT_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Removes the runs in `folder` last written more than `keptMs` ago: folders named as a run id, nothing else (a file or
 * a folder of another name is left alone). Resolves to the run ids removed; a run that cannot be read or removed is
 * skipped, never an error, since it only costs disk.
 */
export async function pruneLocalRuns(folder: string, keptMs = LOCAL_RUNS_KEPT_MS, now = Date.now()): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !isValidRunId(entry.name)) continue;
    const runFolder = path.join(folder, entry.name);
    try {
      if (now - (await stat(runFolder)).mtimeMs <= keptMs) continue;
      await rm(runFolder, { recursive: true, force: true });
      removed.push(entry.name);
    } catch {
      // Another run removed it first, or it cannot be read: left as it is.
    }
  }
  return removed;
}

/** The launcher and store for `--on`; Fargate's are loaded only when asked for (its config and ECS client). */
export async function launcherFor(on: string, options: LauncherForOptions = {}): Promise<DistributedSetup> {
  switch (on) {
    case "local":
      // The default folder is the load tester's own, under the temporary directory: it keeps a week of runs.
      if (options.storeUrl === undefined) await pruneLocalRuns(LOCAL_RUNS_FOLDER);
      return {
        launcher: new LocalLauncher(options.local),
        store: openResultStore(options.storeUrl ?? LOCAL_RUNS_FOLDER),
        startDelayMs: DEFAULT_START_DELAY_MS.local,
      };
    case "fargate": {
      const { FargateLauncher, loadFargateLauncherConfig } = await import("./fargate-launcher.ts");
      const config = options.fargateConfig ?? loadFargateLauncherConfig({ file: options.fargateConfigFile });
      const storeUrl = options.storeUrl ?? `s3://${config.bucket}/runs`;
      if (!storeUrl.startsWith(`s3://${config.bucket}/`) && storeUrl !== `s3://${config.bucket}`) {
        throw new DistributedUsageError(`--store must be in the generators' bucket s3://${config.bucket} (their role may write nowhere else), got ${storeUrl}`);
      }
      return {
        launcher: new FargateLauncher(config),
        store: openResultStore(storeUrl, { region: config.region }),
        startDelayMs: DEFAULT_START_DELAY_MS.fargate,
      };
    }
    default:
      throw new DistributedUsageError(`--on must be local or fargate, got "${on}"`);
  }
}
