// How the coordinator of a distributed run starts, watches and stops its load generators, wherever they run: N local
// processes (`--on local`) or N ECS Fargate tasks (`--on fargate`). A generator is given only where its job is (the
// run's store) and which shard it is; it reads the script from the store, waits for the common start time, runs its
// 1/N of the arrivals and writes its results back to the store.

/** What one generator is told at launch. */
export interface GeneratorSpec {
  /** 0-based shard index: this generator runs arrivals index, index + count, index + 2·count, … */
  index: number;
  count: number;
  /** Identifies the run; the store keeps everything of it under its own prefix. */
  runId: string;
  /** Where the run's job and results are: a local folder path, or s3://bucket/prefix. */
  storeUrl: string;
}

export type GeneratorState =
  | { state: "pending" }
  | { state: "running" }
  /** Ended by itself: exit code 0 means it wrote its final result (the store says whether it did). */
  | { state: "exited"; exitCode: number | null; reason?: string }
  /** Never started, or stopped by the platform or by stopAll: `reason` says why, for the verdict. */
  | { state: "failed"; reason: string };

export interface LaunchedGenerator {
  spec: GeneratorSpec;
  /** A name an operator can look up: "local pid 12345", or the ECS task ARN. */
  id: string;
}

export interface GeneratorLauncher {
  readonly kind: "local" | "fargate";
  /** Starts one generator per spec. Throws when none could be started; a partial start is reported by status(). */
  start(specs: readonly GeneratorSpec[]): Promise<LaunchedGenerator[]>;
  /** The platform's view of every launched generator, in spec order. */
  status(): Promise<GeneratorState[]>;
  /** Stops every generator still running (Ctrl-C, or the run failed); resolves once the platform accepted each stop. */
  stopAll(reason: string): Promise<void>;
}
