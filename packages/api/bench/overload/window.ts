// One measured window of the overload bench: a scenario's load for OVERLOAD_DURATION against one API process, with the
// probes beside it, the CPU each party used, the API's shed counters before and after, and what the clients got.
import { setTimeout as delay } from "node:timers/promises";
import { machineBusyCpuSeconds, ownCpuSeconds, percentile, processCpuSeconds, processTreeCpuSeconds } from "@checkout/bench-support";
import { offer, type Scenario } from "./load.ts";
import type { Probe, ProbeThread } from "./probes.ts";
import type { OverloadConfig } from "./settings.ts";

export interface Window {
  scenario: Scenario;
  setting: string;
  round: number;
  seconds: number;
  ok: number;
  shed: number;
  otherStatus: Record<string, number>;
  errors: number;
  timeouts: number;
  okLatency: { p50: number; p99: number; max: number };
  shedLatency: { p50: number; p99: number };
  shedReasons: Record<string, number>;
  health: Probe;
  ready: Probe;
  cpuPercent: { api: number | null; database: number | null; loadGenerator: number; others: number | null };
}

async function shedCounters(apiUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${apiUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const counters: Record<string, number> = {};
  for (const match of text.matchAll(/^http_requests_shed_total\{reason="([a-z_]+)"\} (\d+)$/gm)) counters[match[1] ?? "?"] = Number(match[2]);
  return counters;
}

export async function measureWindow(options: {
  scenario: Scenario;
  setting: string;
  round: number;
  openRate: number;
  apiUrl: string;
  probes: ProbeThread;
  apiPid: number;
  postmasterPid: number | null;
  config: OverloadConfig;
}): Promise<Window> {
  const { config, apiUrl } = options;
  // Let what came before (warm-up, the other scenario) finish what it left queued or in flight.
  await delay(config.OVERLOAD_SETTLE_MS);

  const shedBefore = await shedCounters(apiUrl);
  await options.probes.start();
  const okLatencies: number[] = [];
  const shedLatencies: number[] = [];
  const otherStatus: Record<string, number> = {};
  const before = {
    api: processCpuSeconds(options.apiPid),
    database: options.postmasterPid === null ? null : processTreeCpuSeconds(options.postmasterPid),
    own: ownCpuSeconds(),
    machine: machineBusyCpuSeconds(),
    at: performance.now(),
  };
  const result = await offer(options.scenario, apiUrl, config, config.OVERLOAD_DURATION, options.openRate, (statusCode, responseTimeMs) => {
    if (statusCode >= 200 && statusCode < 300) okLatencies.push(responseTimeMs);
    else if (statusCode === 503) shedLatencies.push(responseTimeMs);
    else otherStatus[statusCode] = (otherStatus[statusCode] ?? 0) + 1;
  });
  const seconds = (performance.now() - before.at) / 1000;
  const after = {
    api: processCpuSeconds(options.apiPid),
    database: options.postmasterPid === null ? null : processTreeCpuSeconds(options.postmasterPid),
    own: ownCpuSeconds(),
    machine: machineBusyCpuSeconds(),
  };
  const probes = await options.probes.stop();
  const shedAfter = await shedCounters(apiUrl);
  const percent = (start: number | null, end: number | null) => (start === null || end === null ? null : (100 * (end - start)) / seconds);
  const api = percent(before.api, after.api);
  const database = percent(before.database, after.database);
  const loadGenerator = (100 * (after.own - before.own)) / seconds;
  const machine = percent(before.machine, after.machine);
  okLatencies.sort((a, b) => a - b);
  shedLatencies.sort((a, b) => a - b);
  return {
    scenario: options.scenario,
    setting: options.setting,
    round: options.round,
    seconds,
    ok: okLatencies.length,
    shed: shedLatencies.length,
    otherStatus,
    errors: result.errors,
    timeouts: result.timeouts,
    okLatency: { p50: percentile(okLatencies, 0.5), p99: percentile(okLatencies, 0.99), max: okLatencies.at(-1) ?? Number.NaN },
    shedLatency: { p50: percentile(shedLatencies, 0.5), p99: percentile(shedLatencies, 0.99) },
    shedReasons: Object.fromEntries(Object.entries(shedAfter).map(([reason, value]) => [reason, value - (shedBefore[reason] ?? 0)])),
    ...probes,
    cpuPercent: { api, database, loadGenerator, others: machine === null ? null : Math.max(0, machine - (api ?? 0) - (database ?? 0) - loadGenerator) },
  };
}

/** Every request a window sent that got an answer or an error. */
export const attempts = (w: Window) => w.ok + w.shed + Object.values(w.otherStatus).reduce((a, b) => a + b, 0) + w.errors;
export const okPerSecond = (w: Window) => w.ok / w.seconds;
/** Answers neither 2xx nor 503. */
export const others = (w: Window) => Object.values(w.otherStatus).reduce((a, b) => a + b, 0);
