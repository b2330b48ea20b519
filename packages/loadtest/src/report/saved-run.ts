// What `run --output` writes, and what `report` and `plan` read back.
import type { Verdict } from "../engine/ensure.ts";
import type { RunResult } from "../engine/run-result.ts";
import type { Ensure } from "../script/script-types.ts";

/**
 * The result, the threshold verdicts when the run judged them, and the script's `ensure` config, so `plan` can judge
 * each window of the run against the same thresholds. Results saved before `ensure` was added have none.
 */
export type SavedRun = RunResult & { verdicts?: Verdict[]; ensure?: Ensure; annotations?: RunAnnotations };

/** A fact shown in an annotations table; `passed` colours it. */
export interface AnnotationFact {
  label: string;
  value: string;
  passed?: boolean;
}

/**
 * What happened around the load, from whoever ran it (e.g. `pnpm rehearse`'s blue/green cutovers): the report gives it
 * a section, marks each window on the over-time charts and measures the load through each window from the intervals.
 */
export interface RunAnnotations {
  /** The section's heading, e.g. "Blue/green rehearsal". */
  title: string;
  /** The verdict of what was annotated, when it has one. */
  passed?: boolean;
  facts: AnnotationFact[];
  /** Offsets into the run (ms); each window's own facts become columns of its row. */
  windows: { label: string; startMs: number; endMs: number; facts?: AnnotationFact[] }[];
}
