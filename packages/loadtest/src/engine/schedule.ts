// Intended arrival times of virtual users for a script's phases: pure, exact, and splittable into shards.
import type { Phase } from "../script/script-types.ts";

export interface ArrivalSchedule {
  /** Intended arrival offsets from the run start, in ms, ascending. */
  atMs: Float64Array;
  /** For each arrival, the index of the phase it belongs to. */
  phaseIndex: Uint32Array;
  /** Start offset of each phase, in ms. */
  phaseStartMs: number[];
  /** End of the last phase, in ms. */
  durationMs: number;
}

/** Offsets (ms from the phase start) of one phase's arrivals. */
export function buildPhaseArrivals(phase: Phase): number[] {
  const durationMs = phase.duration * 1000;
  if (durationMs <= 0) return [];
  if (phase.arrivalCount !== undefined) {
    const n = Math.round(phase.arrivalCount);
    return Array.from({ length: n }, (_, k) => (k * durationMs) / n);
  }
  const from = phase.arrivalRate ?? 0;
  const to = phase.rampTo ?? from;
  const total = Math.round(((from + to) / 2) * phase.duration);
  const arrivals: number[] = [];
  // Arrival k is the moment the cumulative rate N(t) = from·t + (to−from)·t²/(2·duration) reaches k.
  const curvature = (to - from) / (2 * phase.duration);
  for (let k = 0; k < total; k++) {
    const discriminant = from * from + 4 * curvature * k;
    // The rationalised root stays exact when curvature is 0 and when the ramp goes down.
    const seconds = k === 0 ? 0 : (2 * k) / (from + Math.sqrt(Math.max(0, discriminant)));
    arrivals.push(Math.min(seconds, phase.duration) * 1000);
  }
  return arrivals;
}

export function buildArrivalSchedule(phases: Phase[]): ArrivalSchedule {
  const perPhase = phases.map(buildPhaseArrivals);
  const total = perPhase.reduce((sum, arrivals) => sum + arrivals.length, 0);
  const atMs = new Float64Array(total);
  const phaseIndex = new Uint32Array(total);
  const phaseStartMs: number[] = [];
  let offsetMs = 0;
  let i = 0;
  phases.forEach((phase, p) => {
    phaseStartMs.push(offsetMs);
    for (const at of perPhase[p] ?? []) {
      atMs[i] = offsetMs + at;
      phaseIndex[i] = p;
      i++;
    }
    offsetMs += phase.duration * 1000;
  });
  return { atMs, phaseIndex, phaseStartMs, durationMs: offsetMs };
}

/** Every `count`-th arrival starting at `index`: shards interleave, so each keeps the run's shape at 1/count of its rate. */
export function selectShard(schedule: ArrivalSchedule, { index, count }: { index: number; count: number }): ArrivalSchedule {
  const size = Math.max(0, Math.ceil((schedule.atMs.length - index) / count));
  const atMs = new Float64Array(size);
  const phaseIndex = new Uint32Array(size);
  for (let j = 0, i = index; i < schedule.atMs.length; i += count, j++) {
    atMs[j] = schedule.atMs[i] ?? 0;
    phaseIndex[j] = schedule.phaseIndex[i] ?? 0;
  }
  return { atMs, phaseIndex, phaseStartMs: schedule.phaseStartMs, durationMs: schedule.durationMs };
}
