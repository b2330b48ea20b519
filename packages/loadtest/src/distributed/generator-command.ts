// `checkout-loadtest generator --store URL --run-id ID --index I --count N`: one generator of a distributed run, as
// the coordinator's launcher starts it (a local child process or a Fargate task). Exit 0 when it wrote its result
// (also when stopped early by SIGTERM or SIGINT), 1 when its run failed (error.json says why), 2 for a usage error.
import { summarize } from "../engine/run-result.ts";
import { runGenerator } from "./generator.ts";
import { isValidRunId } from "./run-files.ts";
import { StoreUrlError } from "./result-store.ts";

export class GeneratorUsageError extends Error {
  override readonly name = "GeneratorUsageError";
}

export const GENERATOR_SYNOPSIS = "generator --store URL --run-id ID --index I --count N";

export const GENERATOR_HELP = `Runs one load generator of a distributed run (the run's coordinator starts these): reads the job from the store,
waits for its common start, runs shard I of N of the arrivals with its share of the payload rows, and writes each
interval and its result back to the store.

  --store URL     the run's store: a folder path or s3://bucket/prefix
  --run-id ID     the run, as the coordinator named it
  --index I       this generator's shard, 0 to N - 1
  --count N       generators in the run

Exit codes: 0 the result was written (also when stopped by SIGTERM or Ctrl-C), 1 the run failed (error.json in the
store says why), 2 a usage error.`;

export interface GeneratorValues {
  store?: string | boolean;
  "run-id"?: string | boolean;
  index?: string | boolean;
  count?: string | boolean;
}

function wholeNumber(value: string | boolean | undefined, name: string, minimum: number): number {
  if (typeof value !== "string") throw new GeneratorUsageError(`${name} is required`);
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < minimum) {
    throw new GeneratorUsageError(`${name} must be a whole number of at least ${minimum}, got "${value}"`);
  }
  return parsed;
}

/** Checks the flags, then runs the generator until it is done or stopped by a signal; resolves to the exit code. */
export async function executeGenerator(values: GeneratorValues): Promise<number> {
  if (typeof values.store !== "string" || values.store === "") throw new GeneratorUsageError("--store is required");
  const runId = values["run-id"];
  if (typeof runId !== "string") throw new GeneratorUsageError("--run-id is required");
  if (!isValidRunId(runId)) throw new GeneratorUsageError(`--run-id must be letters, digits, dots, dashes and underscores, got "${runId}"`);
  const count = wholeNumber(values.count, "--count", 1);
  const index = wholeNumber(values.index, "--index", 0);
  if (index >= count) throw new GeneratorUsageError(`--index must be below --count (${count}), got ${index}`);

  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  const name = `generator ${index} of ${count} (run ${runId})`;
  try {
    const result = await runGenerator({ storeUrl: values.store, runId, index, count, signal: controller.signal });
    const { counters } = summarize(result);
    console.log(
      `${name}: ${counters.vusersCreated} of ${counters.arrivalsPlanned} arrivals, ${counters.responses} responses, ` +
        `${counters.vusersDropped} dropped, ${counters.arrivalsLate} late${result.aborted ? " (stopped early)" : ""}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof StoreUrlError) throw new GeneratorUsageError(`--store: ${error.message}`);
    console.error(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
  }
}
