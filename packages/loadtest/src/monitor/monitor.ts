// The uptime monitor's loop: probes URL/health (and a deeper URL) on a fixed schedule and reports availability.
import http from "node:http";
import https from "node:https";
import { computeAvailability, type AvailabilityReport, type Check, type Probe } from "./availability.ts";

export interface MonitorOptions {
  /** Base URL; the monitor probes `${url}/health`. */
  url: string;
  /** Absolute URL, or a path resolved against `url` (e.g. "/ready"). */
  deep?: string;
  intervalS: number;
  /** Undefined: until the signal aborts. */
  durationS?: number;
  timeoutMs: number;
}

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early when the signal aborts. */
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void>;
}

export type CheckUrl = (input: { url: string; timeoutMs: number; clock: Clock }) => Promise<Check>;

export interface MonitorHooks {
  signal?: AbortSignal;
  onProbe?: (probe: Probe) => void;
  clock?: Clock;
  checkUrl?: CheckUrl;
}

export interface MonitorReport extends AvailabilityReport {
  options: MonitorOptions;
  targets: string[];
  probeLog: Probe[];
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    }),
};

export function monitorTargets(options: Pick<MonitorOptions, "url" | "deep">): string[] {
  const health = `${options.url.replace(/\/+$/, "")}/health`;
  return options.deep ? [health, new URL(options.deep, options.url).toString()] : [health];
}

/** One GET on a fresh connection (no keep-alive, so a dead listener is seen at once); up on 2xx headers within the timeout. */
export const checkUrl: CheckUrl = ({ url, timeoutMs, clock }) =>
  new Promise((resolve) => {
    const started = clock.now();
    let isSettled = false;
    const settle = (check: Omit<Check, "url" | "latencyMs">) => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      resolve({ url, latencyMs: clock.now() - started, ...check });
    };
    const client = url.startsWith("https:") ? https : http;
    const request = client.get(url, { agent: false, headers: { "user-agent": "checkout-loadtest-monitor" } }, (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      const isUp = status >= 200 && status < 300;
      settle(isUp ? { isUp, status } : { isUp, status, reason: `HTTP ${status}` });
    });
    request.on("error", (error: NodeJS.ErrnoException) => settle({ isUp: false, reason: error.code ?? error.message }));
    const timer = setTimeout(() => {
      settle({ isUp: false, reason: "timeout" });
      request.destroy();
    }, timeoutMs);
  });

/** Probes at start + k × interval (skipping slots a slow round overran) until the duration ends or the signal aborts. */
export async function runMonitor(options: MonitorOptions, hooks: MonitorHooks = {}): Promise<MonitorReport> {
  const { signal, onProbe, clock = systemClock, checkUrl: check = checkUrl } = hooks;
  const targets = monitorTargets(options);
  const intervalMs = options.intervalS * 1000;
  const startedAt = clock.now();
  const endsAt = options.durationS === undefined ? Infinity : startedAt + options.durationS * 1000;
  const probeLog: Probe[] = [];
  let next = startedAt;
  while (!signal?.aborted && next < endsAt) {
    await clock.sleep(next - clock.now(), signal);
    if (signal?.aborted) break;
    const at = clock.now();
    const checks = await Promise.all(targets.map((url) => check({ url, timeoutMs: options.timeoutMs, clock })));
    // A round cut short by Ctrl-C says nothing about the target.
    if (signal?.aborted) break;
    const probe: Probe = { at, isUp: checks.every((c) => c.isUp), checks };
    probeLog.push(probe);
    onProbe?.(probe);
    next += intervalMs;
    const now = clock.now();
    if (next < now) next += Math.ceil((now - next) / intervalMs) * intervalMs;
  }
  if (!signal?.aborted && Number.isFinite(endsAt)) await clock.sleep(endsAt - clock.now(), signal);
  const endedAt = Math.min(clock.now(), endsAt);
  return { ...computeAvailability({ probes: probeLog, startedAt, endedAt }), options, targets, probeLog };
}
