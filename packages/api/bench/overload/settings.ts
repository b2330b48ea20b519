// What an overload run measures: its knobs from the environment (and a smoke run's), and the admission-control
// settings compared, each as the environment of a fresh API process and the limits it means for a given pool.
import { z } from "zod";

/**
 * A smoke run's settings, over whatever the environment says: each scenario once against "off" and the defaults, with
 * a light load for half a second and no warm-up — it proves the run and its report, not a number.
 */
export const SMOKE_ENV = {
  OVERLOAD_CONNECTIONS: "10",
  OVERLOAD_DURATION: "0.5",
  OVERLOAD_WARMUP: "0",
  OVERLOAD_ROUNDS: "1",
  OVERLOAD_SETTINGS: "default",
  OVERLOAD_OPEN_RATE: "50",
  OVERLOAD_SETTLE_MS: "100",
};

export const BenchEnv = z.object({
  OVERLOAD_CONNECTIONS: z.coerce.number().int().min(1).max(5000).default(800),
  OVERLOAD_DURATION: z.coerce.number().positive().default(10),
  /** Seconds of discarded load before a setting's windows; 0 skips it. */
  OVERLOAD_WARMUP: z.coerce.number().min(0).default(3),
  OVERLOAD_ROUNDS: z.coerce.number().int().min(1).max(10).default(2),
  /** Milliseconds before each window, for what came before (warm-up, the other scenario) to finish what it left queued. */
  OVERLOAD_SETTLE_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  /** Seconds before the load generator gives up on a request (a browser or proxy would give up too). */
  OVERLOAD_CLIENT_TIMEOUT: z.coerce.number().int().min(1).max(120).default(10),
  /** Open scenario: arrivals per second; by default OVERLOAD_OPEN_FACTOR × admission off's 2xx/s in the same round. */
  OVERLOAD_OPEN_RATE: z.coerce.number().int().min(1).optional(),
  OVERLOAD_OPEN_FACTOR: z.coerce.number().positive().default(1.5),
  /** Open scenario: most sockets the load generator opens (the process's file limit is the ceiling); beyond, requests wait in it. */
  OVERLOAD_OPEN_MAX_SOCKETS: z.coerce.number().int().min(1).default(6000),
  /** Comma-separated setting keys to run (off is always run: it is the baseline). */
  OVERLOAD_SETTINGS: z.string().optional(),
  OVERLOAD_WRITE_DOC: z
    .enum(["1", "0", "true", "false"])
    .default("1")
    .transform((value) => value === "1" || value === "true"),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  BENCH_DATABASE_URL: z.url({ message: "must be a postgres:// URL" }).optional(),
});

export type OverloadConfig = z.infer<typeof BenchEnv>;

export interface Setting {
  key: string;
  label: string;
  env: Record<string, string>;
  limits: (pool: number) => { maxInFlight: number; maxQueue: number; queueTimeoutMs: number };
}

/** The defaults as app.ts computes them, so the report says what "default" meant in this run. */
const DEFAULT_MULTIPLIER = 8;
const DEFAULT_QUEUE_FACTOR = 1;
const DEFAULT_QUEUE_TIMEOUT_MS = 5000;

/** What "admission off" sets: limits no run reaches. */
export const ADMISSION_OFF_ENV = { MAX_IN_FLIGHT: "100000", ADMISSION_QUEUE_MAX: "100000", ADMISSION_QUEUE_TIMEOUT_MS: "60000" };

function multiple(key: string, factor: number, options: { queueFactor?: number; queueTimeoutMs?: number } = {}): Setting {
  const timeout = options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
  const queueFactor = options.queueFactor ?? DEFAULT_QUEUE_FACTOR;
  return {
    key,
    label: `${factor}× pool in flight, queue ${queueFactor}× that, ${timeout / 1000} s queue timeout`,
    env: {},
    limits: (pool) => ({ maxInFlight: factor * pool, maxQueue: factor * pool * queueFactor, queueTimeoutMs: timeout }),
  };
}

/**
 * The settings a run without OVERLOAD_SETTINGS measures. x16 and x8-1s only on request: in the first runs x16 shed
 * nothing the closed loops offered and did worse than the defaults in the open model, and a 1 s queue timeout never fired
 * before the queue was full, so it behaved like the defaults.
 */
export const DEFAULT_RUN = ["default", "x8-q4", "x2", "x4"];

export function settingsFor(pool: number): Setting[] {
  const withEnv = (setting: Setting): Setting => {
    const limits = setting.limits(pool);
    return setting.key === "default"
      ? setting
      : { ...setting, env: { MAX_IN_FLIGHT: String(limits.maxInFlight), ADMISSION_QUEUE_MAX: String(limits.maxQueue), ADMISSION_QUEUE_TIMEOUT_MS: String(limits.queueTimeoutMs) } };
  };
  return [
    {
      key: "off",
      label: "admission off (100,000 in flight, queue 100,000, 60 s)",
      env: {},
      limits: () => ({ maxInFlight: 100_000, maxQueue: 100_000, queueTimeoutMs: 60_000 }),
    },
    { ...multiple("default", DEFAULT_MULTIPLIER), label: `defaults (nothing set: ${DEFAULT_MULTIPLIER}× pool in flight, queue ${DEFAULT_QUEUE_FACTOR}× that, 5 s)` },
    multiple("x2", 2),
    multiple("x4", 4),
    multiple("x16", 16),
    { ...multiple("x8-q4", 8, { queueFactor: 4 }), label: "8× pool in flight, queue 4× that, 5 s (the defaults until this benchmark)" },
    multiple("x8-1s", 8, { queueTimeoutMs: 1000 }),
  ].map(withEnv);
}
