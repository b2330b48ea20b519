// `checkout-loadtest generator --store URL --run-id ID --index I --count N`: one generator of a distributed run, as
// the coordinator's launcher starts it (a local child process or a Fargate task). Exit 0 when it wrote its result
// (also when stopped early by SIGTERM or SIGINT), 1 when its run failed (error.json says why), 2 for a usage error.
import { summarize } from "../engine/run-result.ts";
import { runGenerator } from "./generator.ts";
import { isValidRunId } from "./run-files.ts";
import { StoreUrlError } from "./result-store.ts";
import { GENERATOR_HELP, GENERATOR_SYNOPSIS, GeneratorUsageError } from "./generator-help.ts";

export { GENERATOR_HELP, GENERATOR_SYNOPSIS, GeneratorUsageError };

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
