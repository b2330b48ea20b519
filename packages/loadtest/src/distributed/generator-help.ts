// The generator command's help and usage error, apart from the command itself so the CLI's help loads no engine.

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
