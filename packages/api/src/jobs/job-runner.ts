// Runs a background job every interval, never two runs of it at once; stopping waits for a run in progress.
// A run that stopped at its time budget with work left says so, and the next run starts at once.
import type { Logger } from "../logger.ts";

export interface Job {
  readonly name: string;
  /** No further runs; resolves when the run in progress (if any) has finished. */
  stop(): Promise<void>;
}

export interface JobOptions {
  name: string;
  intervalMs: number;
  /** One run; `{ hasMore: true }` when it stopped at its time budget with work left, to run again at once. */
  run: () => Promise<void> | Promise<{ hasMore: boolean }>;
  log: Logger;
  /** Milliseconds before the first run. */
  initialDelayMs?: number;
}

export function startJob(options: JobOptions): Job {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let isStopped = false;

  const schedule = (delayMs: number) => {
    if (isStopped) return;
    timer = setTimeout(tick, delayMs);
  };

  function tick(): void {
    timer = null;
    let hasMore = false;
    running = options
      .run()
      .then((result) => {
        hasMore = result?.hasMore === true;
      })
      .catch((error: unknown) => options.log.error({ err: error, job: options.name }, "background job failed; it runs again next interval"))
      .finally(() => {
        running = null;
        schedule(hasMore ? 0 : options.intervalMs);
      });
  }

  schedule(options.initialDelayMs ?? 0);
  return {
    name: options.name,
    async stop() {
      isStopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
