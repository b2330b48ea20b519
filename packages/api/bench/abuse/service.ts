// The process the abuse bench attacks: one API at its default limits (nothing from the caller's shell changes them),
// with the payment sandbox, on the bench's database (embedded, or BENCH_DATABASE_URL), for the whole run.
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { Target } from "../../test/support/attack-tools.ts";
import { benchDatabase, findFreePorts, logTail, makeWorkDir, spawnApi, waitForOk, type Cleanup } from "../processes.ts";
import type { AbuseConfig } from "./settings.ts";

const API_STOP_GRACE_MS = 40_000;

/** Variables of the caller's shell that would change the limits under test or where the API listens and connects. */
const NOT_INHERITED = /^(DATABASE_|PORT$|HOST$|PAYMENT_PROVIDER|MAX_|RATE_LIMIT_|BODY_TIMEOUT|HEADERS_TIMEOUT|TRUST_PROXY|VIEWER_ADDRESS|CLIENT_LIMITS|READY_CACHE|METRICS_TOKEN)/;

export interface AbuseService {
  target: Target;
  paymentUrl: string;
  /** The API's METRICS_TOKEN, random for the run. */
  metricsToken: string;
  /** The database as the report describes it. */
  database: string;
  /** The last lines the API logged, for a failure's message. */
  logTail(lines: number): string;
}

/** Starts the database and the API, stopped by `cleanup`; resolves once the API is ready. */
export async function startAbuseService({ config, cleanup, log }: { config: AbuseConfig; cleanup: Cleanup; log: (message: string) => void }): Promise<AbuseService> {
  const workDir = await makeWorkDir("checkout-abuse-", cleanup);
  const [apiPort, sandboxPort, pgPort] = await findFreePorts(3);
  if (!apiPort || !sandboxPort || !pgPort) throw new Error("Could not find free ports");
  const database = await benchDatabase({
    externalUrl: config.BENCH_DATABASE_URL,
    dataDir: path.join(workDir, "data", "postgres"),
    port: pgPort,
    cleanup,
    log,
  });

  const inherited: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(inherited)) {
    if (NOT_INHERITED.test(name)) delete inherited[name];
  }
  const metricsToken = randomUUID() + randomUUID();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const logPath = path.join(workDir, "api.log");
  const api = spawnApi({
    name: "API",
    port: apiPort,
    sandboxPort,
    workDir,
    logPath,
    inherited,
    env: { DATABASE_URL: database.url, METRICS_TOKEN: metricsToken },
  });
  cleanup.add(() => api.stop(API_STOP_GRACE_MS));
  try {
    await waitForOk(`${apiUrl}/ready`, api, 120_000);
  } catch (error) {
    console.error(`[abuse] last lines of the API log:\n${logTail(logPath, 20)}`);
    throw error;
  }
  return {
    target: { host: "127.0.0.1", port: apiPort },
    paymentUrl: `http://127.0.0.1:${sandboxPort}`,
    metricsToken,
    database: database.description,
    logTail: (lines) => logTail(logPath, lines),
  };
}
