// The processes an overload run measures: one PostgreSQL for the whole run (embedded, or BENCH_DATABASE_URL) and, for
// each setting of each round, a fresh API process with that setting's admission limits, stopped once its windows are done.
import path from "node:path";
import { benchDatabase, findFreePorts, logTail, makeWorkDir, postmasterPid, spawnApi, waitForOk, type Cleanup } from "../processes.ts";
import { ADMISSION_OFF_ENV, type OverloadConfig, type Setting } from "./settings.ts";

const API_STOP_GRACE_MS = 40_000;

/** Variables of the caller's shell that would change the API under test: the bench sets them itself. */
const NOT_INHERITED = [
  "DATABASE_URL",
  "DATABASE_READ_URL",
  "PORT",
  "HOST",
  "PAYMENT_PROVIDER_URL",
  "PAYMENT_PROVIDER_PUBLIC_URL",
  "MAX_IN_FLIGHT",
  "ADMISSION_QUEUE_MAX",
  "ADMISSION_QUEUE_TIMEOUT_MS",
];

export interface OverloadService {
  apiUrl: string;
  apiPort: number;
  /** The database as the report describes it. */
  database: string;
  /** The embedded PostgreSQL's postmaster, whose process tree is the database's CPU; null with BENCH_DATABASE_URL. */
  postmasterPid: number | null;
  /** Starts an API process with `setting`'s limits, runs `measure` once it is ready, and stops it whatever happens. */
  withApi(setting: Setting, round: number, measure: (apiPid: number) => Promise<void>): Promise<void>;
}

/** The database for the whole run and the way to start each API process; everything started is stopped by `cleanup`. */
export async function startOverloadService({ config, cleanup, log }: { config: OverloadConfig; cleanup: Cleanup; log: (message: string) => void }): Promise<OverloadService> {
  const workDir = await makeWorkDir("checkout-overload-", cleanup);
  const pgDataDir = path.join(workDir, "data", "postgres");

  const [apiPort, sandboxPort, pgPort] = await findFreePorts(3);
  if (!apiPort || !sandboxPort || !pgPort) throw new Error("Could not find free ports");
  const database = await benchDatabase({
    externalUrl: config.BENCH_DATABASE_URL,
    dataDir: pgDataDir,
    port: pgPort,
    cleanup,
    log,
    note: "one server for the whole run",
  });

  const inherited: NodeJS.ProcessEnv = { ...process.env };
  for (const name of NOT_INHERITED) delete inherited[name];
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  return {
    apiUrl,
    apiPort,
    database: database.description,
    postmasterPid: config.BENCH_DATABASE_URL ? null : postmasterPid(pgDataDir),
    async withApi(setting, round, measure) {
      const logPath = path.join(workDir, `api-${setting.key}-${round}.log`);
      const api = spawnApi({
        name: `API (${setting.key})`,
        port: apiPort,
        sandboxPort,
        workDir,
        logPath,
        inherited,
        env: {
          // The load generator is one address doing the work of many shoppers: admission control is measured, not per-client limits.
          CLIENT_LIMITS_EXEMPT: "127.0.0.1",
          DATABASE_URL: database.url,
          DB_POOL_MAX: String(config.DB_POOL_MAX),
          ...(setting.key === "off" ? ADMISSION_OFF_ENV : setting.env),
        },
      });
      const stop = () => api.stop(API_STOP_GRACE_MS);
      cleanup.add(stop);
      try {
        await waitForOk(`${apiUrl}/ready`, api, 120_000);
        await measure(api.pid);
      } catch (error) {
        console.error(`[overload] last lines of the API log:\n${logTail(logPath, 20)}`);
        throw error;
      } finally {
        cleanup.remove(stop);
        const outcome = await stop();
        if (!outcome.isGraceful || outcome.strays.length) log(`  API stop: graceful ${outcome.isGraceful}, strays ${outcome.strays.join(", ") || "none"}`);
      }
    },
  };
}
