// Readiness without a lever for attackers: the database check runs on its own connection (never one of the
// shoppers' pool), at most one at a time, and its answer is reused for a short while, so a flood of /ready
// costs the database one `select 1` per cache period however many callers there are.
import { sql, type Kysely } from "kysely";
import type { Database } from "@checkout/core";

export interface ReadinessProbe {
  /** Whether the database answered, from a cache of at most `cacheMs`. */
  isDatabaseReady(): Promise<boolean>;
  /** Database checks actually run (for /metrics and tests). */
  readonly checksRun: number;
}

export function createReadinessProbe(options: { db: Kysely<Database>; cacheMs: number; now?: () => number }): ReadinessProbe {
  const now = options.now ?? (() => performance.now());
  let cached: { isReady: boolean; at: number } | null = null;
  let running: Promise<boolean> | null = null;
  let checksRun = 0;

  async function check(): Promise<boolean> {
    checksRun += 1;
    try {
      await sql`select 1`.execute(options.db);
      return true;
    } catch {
      return false;
    }
  }

  return {
    get checksRun() {
      return checksRun;
    },
    isDatabaseReady() {
      if (cached && now() - cached.at < options.cacheMs) return Promise.resolve(cached.isReady);
      running ??= check().then((isReady) => {
        cached = { isReady, at: now() };
        running = null;
        return isReady;
      });
      return running;
    },
  };
}
