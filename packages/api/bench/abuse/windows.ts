// The abuse bench's windows: a baseline, each attack in turn, a baseline again; in each, the shopper probe beside the
// attack for the same `seconds`, then a pause so the server closes what the attack left before the next one.
import { setTimeout as delay } from "node:timers/promises";
import type { Cleanup } from "../processes.ts";
import type { Attack } from "./attacks.ts";
import { startProbeWorker } from "./probe.ts";
import { describeOutcomes, fmt, type Window } from "./report.ts";
import type { AbuseService } from "./service.ts";

export async function runWindows(options: {
  service: AbuseService;
  attacks: Attack[];
  seconds: number;
  isSmoke: boolean;
  cleanup: Cleanup;
  log: (message: string) => void;
}): Promise<Window[]> {
  const { service, seconds, log } = options;
  const { target, paymentUrl, metricsToken } = service;
  const windows: Window[] = [];
  const probe = startProbeWorker(target);
  options.cleanup.add(() => probe.terminate());
  const plan: (Attack | null)[] = [null, ...options.attacks, null];
  for (const attack of plan) {
    const key = attack?.key ?? "baseline";
    const prepared = await attack?.prepare?.(target);
    await probe.start();
    const until = performance.now() + seconds * 1000;
    const outcomes = attack ? await attack.run({ target, paymentUrl, metricsToken, until }, prepared) : {};
    const left = until - performance.now();
    if (left > 0) await delay(left);
    const summary = await probe.stop();
    windows.push({ key, label: attack?.label ?? "no attack", probe: summary, outcomes });
    log(
      `${key}: shoppers ${summary.succeeded}/${summary.attempts} ok, p50 ${fmt(summary.p50, 1)} ms, p99 ${fmt(summary.p99, 1)} ms` +
        `${summary.failures.length ? ` (failures: ${summary.failures.join(" | ")})` : ""}; attacker got ${describeOutcomes(outcomes)}`,
    );
    // Let the server finish closing what the attack left before the next window.
    await delay(options.isSmoke ? 200 : 1500);
  }
  return windows;
}
