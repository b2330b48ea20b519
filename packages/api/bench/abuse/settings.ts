// The abuse bench's knobs, from the environment.
import { z } from "zod";

/** A full run's window: longer than the default body and header timeouts (10 s), so slow clients meet them within it. */
export const DEFAULT_SECONDS = 11;

export const BenchEnv = z.object({
  /** Seconds each window (baseline or attack) lasts; --smoke makes it 1. */
  ABUSE_DURATION: z.coerce.number().positive().max(120).optional(),
  /** Comma-separated attack keys to run (the baselines always run). */
  ABUSE_ATTACKS: z.string().optional(),
  /** Write the section of docs/BENCHMARKS.md (default: yes for a full run; --smoke writes its own report instead). */
  ABUSE_WRITE_DOC: z.enum(["1", "0", "true", "false"]).optional(),
  BENCH_DATABASE_URL: z.url({ message: "must be a postgres:// URL" }).optional(),
});

export type AbuseConfig = z.infer<typeof BenchEnv>;
