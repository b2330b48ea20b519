// The arrival loop: each virtual user launched at its intended time from the schedule, whatever the responses do.
import { setTimeout as sleep } from "node:timers/promises";
import type { Phase } from "../script/script-types.ts";
import type { RunState } from "./run-state.ts";
import type { ArrivalSchedule } from "./schedule.ts";
import { VirtualUser } from "./virtual-user.ts";

/**
 * Launches every arrival of the schedule, or those before an abort. The loop never waits for a response, only for the
 * next intended time. Its timer ticks at most every millisecond, so at high rates a tick launches a millisecond's
 * arrivals together (lateness is still measured per arrival). Launching them between ticks as responses came in was
 * tried: it held no higher a rate here. An arrival while its phase's maxVusers are alive is dropped.
 */
export async function launchArrivals(state: RunState, schedule: ArrivalSchedule, phases: Phase[]): Promise<void> {
  const { metrics, script } = state;
  const maxVusersByPhase = phases.map((phase) => phase.maxVusers ?? Number.POSITIVE_INFINITY);
  const { atMs, phaseIndex } = schedule;
  let next = 0;
  const launchDueArrivals = (current: number): void => {
    while (next < atMs.length && (atMs[next] ?? 0) <= current && !state.isAborted) {
      const intendedMs = atMs[next] ?? 0;
      const maxVusers = maxVusersByPhase[phaseIndex[next] ?? 0] ?? Number.POSITIVE_INFINITY;
      next++;
      if (state.activeVusers >= maxVusers) {
        metrics.recordDropped();
        continue;
      }
      metrics.recordArrival(intendedMs, current - intendedMs);
      state.userStarted();
      new VirtualUser(state, script.pickScenario(), script.pickVariables(), intendedMs).run();
    }
  };
  while (next < atMs.length && !state.isAborted) {
    const current = state.now();
    launchDueArrivals(current);
    metrics.reportProgress(current);
    if (next < atMs.length) await sleep(Math.max(0, (atMs[next] ?? 0) - state.now()));
  }
}
