// What `run --output` writes, and what `report` and `plan` read back.
import type { Verdict } from "../engine/ensure.ts";
import type { RunResult } from "../engine/run-result.ts";
import type { Ensure } from "../script/script-types.ts";

/**
 * The result, the threshold verdicts when the run judged them, and the script's `ensure` config, so `plan` can judge
 * each window of the run against the same thresholds. Results saved before `ensure` was added have none.
 */
export type SavedRun = RunResult & { verdicts?: Verdict[]; ensure?: Ensure };
