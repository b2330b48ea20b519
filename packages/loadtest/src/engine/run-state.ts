// What one run's arrival loop and virtual users share: the prepared script, the metrics, the clock, the abort flag and
// the users still alive; and how the run ends: users drained, pools closed, the result taken.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { PreparedScript } from "./prepared-script.ts";
import type { RunResult } from "./run-result.ts";
import type { RunMetrics, VuOutcome } from "./run-metrics.ts";

export class RunState {
  isAborted: boolean;
  /** Virtual users started and not yet ended. */
  activeVusers = 0;
  private startedAt = 0;
  private t0 = 0;
  private onDrained: (() => void) | null = null;
  private readonly onAbort = () => {
    this.isAborted = true;
  };

  constructor(
    readonly script: PreparedScript,
    readonly metrics: RunMetrics,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.isAborted = signal?.aborted ?? false;
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Starts the clock, at `startAt` (as `performance.timeOrigin + performance.now()`) when given. */
  async start(startAt: number | undefined): Promise<void> {
    if (startAt !== undefined) {
      const waitMs = startAt - (performance.timeOrigin + performance.now());
      if (waitMs > 0 && !this.isAborted) await sleep(waitMs);
    }
    this.startedAt = Date.now();
    this.t0 = performance.now();
  }

  /** Milliseconds since the run started. */
  now(): number {
    return performance.now() - this.t0;
  }

  userStarted(): void {
    this.activeVusers++;
  }

  userEnded(outcome: VuOutcome): void {
    this.metrics.recordVuserEnd(outcome);
    if (--this.activeVusers === 0) this.onDrained?.();
  }

  /**
   * Ends the run once the arrivals are launched: waits for the users still in flight (reporting progress each
   * interval), closes the pools and returns the result. It lasts at least the schedule unless aborted.
   */
  async finish(scheduleDurationMs: number, intervalMs: number): Promise<RunResult> {
    while (this.activeVusers > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        this.onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onDrained = null;
      this.metrics.reportProgress(this.now());
    }
    const durationMs = Math.max(this.now(), this.isAborted ? 0 : scheduleDurationMs);
    this.metrics.reportProgress(durationMs);
    this.signal?.removeEventListener("abort", this.onAbort);
    await this.script.close();
    return this.metrics.finish({ startedAt: this.startedAt, durationMs, aborted: this.isAborted });
  }
}
