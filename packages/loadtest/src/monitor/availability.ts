// Pure availability math for the uptime monitor: probes in, outage windows, availability and the prorated 99.99 % budget out.

/** One round of checks at one instant; the target is up only when every check answered 2xx in time. */
export interface Probe {
  /** Clock milliseconds when the round started. */
  at: number;
  isUp: boolean;
  checks: Check[];
}

export interface Check {
  url: string;
  isUp: boolean;
  /** HTTP status when one arrived. */
  status?: number;
  latencyMs: number;
  /** Why it was down: "timeout", an errno such as "ECONNREFUSED", or "HTTP 503". */
  reason?: string;
}

export interface OutageWindow {
  start: number;
  /** The first up probe after the outage, or the end of monitoring when it never recovered. */
  end: number;
  durationMs: number;
  /** Distinct reasons seen during the outage, in order of first appearance. */
  reasons: string[];
  probes: number;
  isOngoing: boolean;
}

export interface AvailabilityReport {
  startedAt: number;
  endedAt: number;
  windowMs: number;
  probes: number;
  upProbes: number;
  /** Up probes / probes, 0–1; 1 when there were no probes. */
  probeAvailability: number;
  /** 1 − downtime / window, 0–1. */
  timeAvailability: number;
  outages: OutageWindow[];
  downtimeMs: number;
  budgetMs: number;
  isWithinBudget: boolean;
}

/** 99.99 %: the allowed downtime fraction (52.56 minutes a year). */
export const BUDGET_FRACTION = 0.0001;

/** Downtime allowed in a window of `windowMs` at 99.99 %. */
export function budgetFor(windowMs: number): number {
  return windowMs * BUDGET_FRACTION;
}

function reasonsOf(probe: Probe): string[] {
  return probe.checks.filter((c) => !c.isUp).map((c) => c.reason ?? "down");
}

/**
 * Consecutive down probes form one outage, from the first down probe to the next up probe. Each probe's state is
 * assumed to hold until the next probe, so the outage may be up to one interval longer than the real one.
 */
export function findOutages({ probes, endedAt }: { probes: Probe[]; endedAt: number }): OutageWindow[] {
  const outages: OutageWindow[] = [];
  let current: { start: number; reasons: string[]; probes: number } | undefined;
  for (const probe of probes) {
    if (probe.isUp) {
      if (current) outages.push(close(current, probe.at, false));
      current = undefined;
      continue;
    }
    current ??= { start: probe.at, reasons: [], probes: 0 };
    current.probes++;
    for (const reason of reasonsOf(probe)) if (!current.reasons.includes(reason)) current.reasons.push(reason);
  }
  if (current) outages.push(close(current, Math.max(endedAt, current.start), true));
  return outages;
}

function close(open: { start: number; reasons: string[]; probes: number }, end: number, isOngoing: boolean): OutageWindow {
  return { start: open.start, end, durationMs: end - open.start, reasons: open.reasons, probes: open.probes, isOngoing };
}

export function computeAvailability({ probes, startedAt, endedAt }: { probes: Probe[]; startedAt: number; endedAt: number }): AvailabilityReport {
  const windowMs = Math.max(0, endedAt - startedAt);
  const outages = findOutages({ probes, endedAt });
  const downtimeMs = outages.reduce((sum, o) => sum + o.durationMs, 0);
  const upProbes = probes.filter((p) => p.isUp).length;
  const budgetMs = budgetFor(windowMs);
  return {
    startedAt,
    endedAt,
    windowMs,
    probes: probes.length,
    upProbes,
    probeAvailability: probes.length === 0 ? 1 : upProbes / probes.length,
    timeAvailability: windowMs === 0 ? 1 : Math.max(0, 1 - downtimeMs / windowMs),
    outages,
    downtimeMs,
    budgetMs,
    isWithinBudget: downtimeMs <= budgetMs,
  };
}
