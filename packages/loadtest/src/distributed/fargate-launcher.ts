// Load generators as ECS Fargate tasks (`--on fargate`): RunTask starts one task per generator from the task
// definition of the LoadGenerators stack (stacks/LoadGenerators.ts), DescribeTasks tells how each is doing, StopTask
// stops them. The stack's outputs say where: read them with loadFargateLauncherConfig.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { DescribeTasksCommand, ECSClient, type ECSClientConfig, type Failure, RunTaskCommand, StopTaskCommand, type Task } from "@aws-sdk/client-ecs";
import { FargateConfigError } from "./config-errors.ts";
import type { GeneratorLauncher, GeneratorSpec, GeneratorState, LaunchedGenerator } from "./launcher.ts";

/** Where generators run: the LoadGenerators stack's outputs. */
export interface FargateLauncherConfig {
  region: string;
  /** The ECS cluster's ARN (or name). */
  cluster: string;
  /** The generator task definition's ARN (family:revision), as the stack's last deploy left it. */
  taskDefinition: string;
  /** Public subnets: each task gets a public address to reach the target, ECR, S3 and CloudWatch Logs. */
  subnets: string[];
  securityGroups: string[];
  /** The runs bucket, the only one the tasks' role may read and write: every generator's store must be in it. */
  bucket: string;
  /** The container whose command is overridden; default GENERATOR_CONTAINER. */
  containerName?: string;
}

/** The task definition's container name (stacks/LoadGenerators.ts, GENERATOR_CONTAINER_NAME). */
export const GENERATOR_CONTAINER = "generator";

/**
 * RunTask calls in flight at once. Each call starts one task, because each generator's command differs (its --index)
 * and one call's overrides apply to every task it starts; waves keep a large run's launch inside Fargate's launch
 * rate (a burst of 100 tasks, then 20 a second) with room for other users of the account.
 */
export const RUN_TASK_WAVE = 10;
/** DescribeTasks takes at most 100 tasks per call. */
export const DESCRIBE_TASKS_BATCH = 100;
/** StopTask's reason is cut to this length. */
const STOP_REASON_MAX = 255;

/** The tag every generator task carries with its run id, and the one with its shard index. */
export const RUN_ID_TAG = "checkout:loadtest-run";
export const GENERATOR_INDEX_TAG = "checkout:loadtest-generator";

/** The LoadGenerators stack's outputs this launcher reads (stacks/LoadGenerators.ts, LOAD_GENERATOR_OUTPUTS). */
export const FARGATE_OUTPUT_KEYS = ["Region", "ClusterArn", "TaskDefinitionArn", "Subnets", "SecurityGroup", "Bucket", "ContainerName"] as const;

/** The environment variables loadFargateLauncherConfig reads (lists are comma-separated). */
export const FARGATE_ENV = {
  /** A JSON file: SST's .sst/outputs.json, or one stack's outputs object. */
  config: "LOADTEST_FARGATE_CONFIG",
  /** Else AWS_REGION, else AWS_DEFAULT_REGION. */
  region: "LOADTEST_FARGATE_REGION",
  cluster: "LOADTEST_FARGATE_CLUSTER",
  taskDefinition: "LOADTEST_FARGATE_TASK_DEFINITION",
  subnets: "LOADTEST_FARGATE_SUBNETS",
  securityGroups: "LOADTEST_FARGATE_SECURITY_GROUPS",
  bucket: "LOADTEST_FARGATE_BUCKET",
  containerName: "LOADTEST_FARGATE_CONTAINER",
} as const;

/** Where `sst deploy` writes every deployed stack's outputs, relative to the repository root. */
export const SST_OUTPUTS_FILE = ".sst/outputs.json";

export { FargateConfigError };

/** A launch that cannot go ahead (bad specs, a store outside the bucket, no task started) or a stop ECS refused. */
export class FargateLaunchError extends Error {
  override readonly name = "FargateLaunchError";
}

/** The arguments a generator's container runs with (after the image's entrypoint, the CLI). */
export function generatorCommand(spec: GeneratorSpec): string[] {
  return ["generator", "--store", spec.storeUrl, "--run-id", spec.runId, "--index", String(spec.index), "--count", String(spec.count)];
}

/** A store for a run in the runs bucket: the tasks can read and write it (and nothing else). */
export function fargateStoreUrl(config: Pick<FargateLauncherConfig, "bucket">, runId: string): string {
  return `s3://${config.bucket}/runs/${runId}`;
}

/** An ECS client for the config's region; `overrides` replace any setting (tests give a request handler). */
export function createEcsClient(config: Pick<FargateLauncherConfig, "region">, overrides: ECSClientConfig = {}): ECSClient {
  // Six attempts with the SDK's backoff: a throttled launch of many generators waits rather than fails.
  return new ECSClient({ region: config.region, maxAttempts: 6, ...overrides });
}

const PENDING_STATUSES = new Set(["PROVISIONING", "PENDING", "ACTIVATING"]);

/** What one DescribeTasks answer says about a generator's task. */
export function taskState(task: Task, containerName = GENERATOR_CONTAINER): GeneratorState {
  const status = task.lastStatus ?? "PROVISIONING";
  if (PENDING_STATUSES.has(status)) return { state: "pending" };
  const container = task.containers?.find((c) => c.name === containerName) ?? task.containers?.[0];
  const exitCode = typeof container?.exitCode === "number" ? container.exitCode : undefined;
  // RUNNING, or on its way down (DEACTIVATING, STOPPING, DEPROVISIONING) with the generator not yet exited.
  if (status !== "STOPPED" && exitCode === undefined) return { state: "running" };
  const why = [task.stoppedReason, container?.reason].filter((text): text is string => Boolean(text)).join("; ");
  switch (task.stopCode) {
    case "UserInitiated":
      return { state: "failed", reason: `stopped by StopTask: ${why || "no reason given"}` };
    case "TaskFailedToStart":
      return { state: "failed", reason: `the task failed to start: ${why || "no reason given"}` };
    case undefined:
    case "EssentialContainerExited":
      if (exitCode === undefined) return { state: "failed", reason: `the task stopped before the generator exited: ${why || "no reason given"}` };
      return exitCode === 0 || !why ? { state: "exited", exitCode } : { state: "exited", exitCode, reason: why };
    default:
      return { state: "failed", reason: `stopped by the platform (${task.stopCode}): ${why || "no reason given"}` };
  }
}

function describeFailure(failure: Failure | undefined): string {
  if (!failure) return "no task and no failure in the answer";
  return [failure.reason ?? "unknown reason", failure.detail].filter(Boolean).join(" - ");
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** ECS tag values: letters, digits, spaces and + - = . _ : / @, at most 256 characters. */
function tagValue(text: string): string {
  return text.replace(/[^\p{L}\p{N} +\-=._:/@]/gu, "_").slice(0, 256);
}

interface Generator {
  spec: GeneratorSpec;
  taskArn?: string;
  /** Why it never became a task. */
  notStarted?: string;
  /** The last state status() saw (or RunTask's answer). */
  last?: GeneratorState;
}

export interface FargateLauncherOptions {
  /** Default createEcsClient(config). */
  client?: ECSClient;
}

export class FargateLauncher implements GeneratorLauncher {
  readonly kind = "fargate" as const;
  private readonly client: ECSClient;
  private readonly containerName: string;
  private readonly generators: Generator[] = [];
  private starting: Promise<unknown> | undefined;
  private stopReason: string | undefined;

  constructor(
    private readonly config: FargateLauncherConfig,
    options: FargateLauncherOptions = {},
  ) {
    this.client = options.client ?? createEcsClient(config);
    this.containerName = config.containerName ?? GENERATOR_CONTAINER;
  }

  start(specs: readonly GeneratorSpec[]): Promise<LaunchedGenerator[]> {
    const starting = this.launch(specs);
    this.starting = starting.catch(() => undefined);
    return starting;
  }

  private async launch(specs: readonly GeneratorSpec[]): Promise<LaunchedGenerator[]> {
    this.checkSpecs(specs);
    const launched: Generator[] = [];
    for (let at = 0; at < specs.length; at += RUN_TASK_WAVE) {
      const wave = specs.slice(at, at + RUN_TASK_WAVE);
      const stopped = this.stopReason;
      const results =
        stopped === undefined ? await Promise.all(wave.map((spec) => this.runTask(spec))) : wave.map((spec) => ({ spec, notStarted: `stopped before launch: ${stopped}` }));
      launched.push(...results);
      this.generators.push(...results);
    }
    const started = launched.filter((g) => g.taskArn !== undefined);
    if (started.length === 0) {
      const reasons = [...new Set(launched.map((g) => g.notStarted))];
      throw new FargateLaunchError(`no generator started on Fargate: ${reasons[0]}${reasons.length > 1 ? ` (and ${reasons.length - 1} other reasons)` : ""}`);
    }
    return launched.map((g) => ({ spec: g.spec, id: g.taskArn ?? `not started (${g.notStarted})` }));
  }

  private checkSpecs(specs: readonly GeneratorSpec[]): void {
    if (specs.length === 0) throw new FargateLaunchError("no generators to start");
    const bucketUrl = `s3://${this.config.bucket}`;
    for (const spec of specs) {
      if (!Number.isInteger(spec.count) || spec.count < 1 || !Number.isInteger(spec.index) || spec.index < 0 || spec.index >= spec.count) {
        throw new FargateLaunchError(`generator ${spec.index} of ${spec.count}: the index must be a whole number from 0 to count - 1`);
      }
      if (spec.runId.trim() === "") throw new FargateLaunchError(`generator ${spec.index}: the run id is empty`);
      if (spec.storeUrl !== bucketUrl && !spec.storeUrl.startsWith(`${bucketUrl}/`)) {
        throw new FargateLaunchError(`generator ${spec.index}: store ${spec.storeUrl} is not in ${bucketUrl}, the only bucket the generator tasks may read and write`);
      }
    }
  }

  private async runTask(spec: GeneratorSpec): Promise<Generator> {
    try {
      const answer = await this.client.send(
        new RunTaskCommand({
          cluster: this.config.cluster,
          taskDefinition: this.config.taskDefinition,
          launchType: "FARGATE",
          count: 1,
          networkConfiguration: {
            awsvpcConfiguration: { subnets: this.config.subnets, securityGroups: this.config.securityGroups, assignPublicIp: "ENABLED" },
          },
          overrides: { containerOverrides: [{ name: this.containerName, command: generatorCommand(spec) }] },
          startedBy: startedByFor(spec.runId),
          tags: [
            { key: RUN_ID_TAG, value: tagValue(spec.runId) },
            { key: GENERATOR_INDEX_TAG, value: `${spec.index}/${spec.count}` },
          ],
          enableECSManagedTags: true,
          // The same generator of the same run is one task however often the call is retried.
          clientToken: createHash("sha256")
            .update(JSON.stringify([this.config.taskDefinition, spec.runId, spec.index, spec.count, spec.storeUrl]))
            .digest("hex"),
        }),
      );
      const task = answer.tasks?.[0];
      if (task?.taskArn) return { spec, taskArn: task.taskArn, last: taskState(task, this.containerName) };
      return { spec, notStarted: `RunTask refused generator ${spec.index}: ${describeFailure(answer.failures?.[0])}` };
    } catch (error) {
      return { spec, notStarted: `RunTask failed for generator ${spec.index}: ${errorText(error)}` };
    }
  }

  async status(): Promise<GeneratorState[]> {
    const arns = this.generators.flatMap((g) => (g.taskArn ? [g.taskArn] : []));
    const batches: string[][] = [];
    for (let at = 0; at < arns.length; at += DESCRIBE_TASKS_BATCH) batches.push(arns.slice(at, at + DESCRIBE_TASKS_BATCH));
    const answers = await Promise.all(batches.map((tasks) => this.client.send(new DescribeTasksCommand({ cluster: this.config.cluster, tasks }))));
    const tasks = new Map<string, Task>();
    const failures = new Map<string, Failure>();
    for (const answer of answers) {
      for (const task of answer.tasks ?? []) if (task.taskArn) tasks.set(task.taskArn, task);
      for (const failure of answer.failures ?? []) if (failure.arn) failures.set(failure.arn, failure);
    }
    return this.generators.map((g) => {
      g.last = this.stateOf(g, tasks, failures);
      return g.last;
    });
  }

  private stateOf(g: Generator, tasks: Map<string, Task>, failures: Map<string, Failure>): GeneratorState {
    if (!g.taskArn) return { state: "failed", reason: g.notStarted ?? "not started" };
    const task = tasks.get(g.taskArn);
    if (task) return taskState(task, this.containerName);
    // ECS forgets a stopped task after about an hour: what was seen last still stands if it was final.
    if (g.last && (g.last.state === "exited" || g.last.state === "failed")) return g.last;
    return { state: "failed", reason: `ECS cannot describe task ${g.taskArn}: ${describeFailure(failures.get(g.taskArn))}` };
  }

  async stopAll(reason: string): Promise<void> {
    this.stopReason = reason;
    // A launch under way stops launching after its current wave; what it started is stopped with the rest.
    await this.starting;
    const live = this.generators.filter((g) => g.taskArn && g.last?.state !== "exited" && g.last?.state !== "failed");
    const refused: string[] = [];
    for (let at = 0; at < live.length; at += RUN_TASK_WAVE) {
      const wave = live.slice(at, at + RUN_TASK_WAVE);
      const results = await Promise.allSettled(
        wave.map((g) => this.client.send(new StopTaskCommand({ cluster: this.config.cluster, task: g.taskArn, reason: reason.slice(0, STOP_REASON_MAX) }))),
      );
      results.forEach((result, i) => {
        if (result.status === "rejected") refused.push(`${wave[i]?.taskArn}: ${errorText(result.reason)}`);
      });
    }
    if (refused.length > 0) throw new FargateLaunchError(`ECS refused to stop ${refused.length} generator task(s): ${refused.join("; ")}`);
  }
}

/** ECS's startedBy (letters, digits, - and _, at most 128): `aws ecs list-tasks --started-by` finds a run's tasks. */
export function startedByFor(runId: string): string {
  return `loadtest-${runId.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 128);
}

// ---- configuration -------------------------------------------------------------------------------------------------

const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

function list(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** Checks a config and fails with every problem in one line, naming where the values came from. */
function checked(config: FargateLauncherConfig, names: Record<keyof Omit<FargateLauncherConfig, "containerName">, string>, source: string): FargateLauncherConfig {
  const problems: string[] = [];
  const missing = (Object.keys(names) as (keyof typeof names)[]).filter((key) => {
    const value = config[key];
    return Array.isArray(value) ? value.length === 0 : !value;
  });
  if (missing.length > 0) problems.push(`missing ${missing.map((key) => names[key]).join(", ")}`);
  if (config.region && !REGION.test(config.region)) problems.push(`${names.region} "${config.region}" is not an AWS region`);
  for (const subnet of config.subnets) if (!SUBNET_ID.test(subnet)) problems.push(`${names.subnets} "${subnet}" is not a subnet id`);
  for (const group of config.securityGroups) if (!SECURITY_GROUP_ID.test(group)) problems.push(`${names.securityGroups} "${group}" is not a security group id`);
  if (config.bucket && !BUCKET_NAME.test(config.bucket)) problems.push(`${names.bucket} "${config.bucket}" is not a bucket name`);
  if (problems.length > 0) throw new FargateConfigError(`load generator configuration from ${source}: ${problems.join("; ")}`);
  return config;
}

/** A config from the LoadGenerators stack's outputs (FARGATE_OUTPUT_KEYS), e.g. one entry of SST's outputs file. */
export function fargateConfigFromOutputs(outputs: Record<string, unknown>, source = "the stack's outputs"): FargateLauncherConfig {
  const text = (key: (typeof FARGATE_OUTPUT_KEYS)[number]) => (typeof outputs[key] === "string" ? (outputs[key] as string).trim() : "");
  const config: FargateLauncherConfig = {
    region: text("Region"),
    cluster: text("ClusterArn"),
    taskDefinition: text("TaskDefinitionArn"),
    subnets: list(text("Subnets")),
    securityGroups: list(text("SecurityGroup")),
    bucket: text("Bucket"),
    ...(text("ContainerName") ? { containerName: text("ContainerName") } : {}),
  };
  const names = { region: "Region", cluster: "ClusterArn", taskDefinition: "TaskDefinitionArn", subnets: "Subnets", securityGroups: "SecurityGroup", bucket: "Bucket" };
  return checked(config, names, source);
}

/** A config from the LOADTEST_FARGATE_* variables (FARGATE_ENV). */
export function fargateConfigFromEnv(env: NodeJS.ProcessEnv = process.env): FargateLauncherConfig {
  const value = (name: string) => env[name]?.trim() ?? "";
  const config: FargateLauncherConfig = {
    region: value(FARGATE_ENV.region) || value("AWS_REGION") || value("AWS_DEFAULT_REGION"),
    cluster: value(FARGATE_ENV.cluster),
    taskDefinition: value(FARGATE_ENV.taskDefinition),
    subnets: list(value(FARGATE_ENV.subnets)),
    securityGroups: list(value(FARGATE_ENV.securityGroups)),
    bucket: value(FARGATE_ENV.bucket),
    ...(value(FARGATE_ENV.containerName) ? { containerName: value(FARGATE_ENV.containerName) } : {}),
  };
  const names = {
    region: `${FARGATE_ENV.region} (or AWS_REGION)`,
    cluster: FARGATE_ENV.cluster,
    taskDefinition: FARGATE_ENV.taskDefinition,
    subnets: FARGATE_ENV.subnets,
    securityGroups: FARGATE_ENV.securityGroups,
    bucket: FARGATE_ENV.bucket,
  };
  return checked(config, names, "the environment");
}

/**
 * A config from a JSON file: SST's outputs file (every deployed stack's outputs by stack name; the one stack whose name
 * ends in -LoadGenerators is used) or one stack's outputs object.
 */
export function fargateConfigFromFile(file: string): FargateLauncherConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new FargateConfigError(`cannot read the load generators' outputs from ${file}: ${reason}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new FargateConfigError(`${file} is not a JSON object of stack outputs`);
  const outputs = parsed as Record<string, unknown>;
  if ("ClusterArn" in outputs) return fargateConfigFromOutputs(outputs, file);
  const stacks = Object.keys(outputs).filter((name) => name.endsWith("-LoadGenerators"));
  if (stacks.length !== 1) {
    const found = Object.keys(outputs).join(", ") || "none";
    throw new FargateConfigError(
      stacks.length === 0
        ? `${file} has no LoadGenerators stack's outputs (stacks: ${found}): deploy them with \`npx sst deploy --stage loadgen\``
        : `${file} has the outputs of several LoadGenerators stacks (${stacks.join(", ")}): give one stack's outputs`,
    );
  }
  const name = stacks[0]!;
  const entry = outputs[name];
  if (!entry || typeof entry !== "object") throw new FargateConfigError(`${file}: ${name} is not an object of outputs`);
  return fargateConfigFromOutputs(entry as Record<string, unknown>, `${file} (${name})`);
}

/**
 * The launcher's configuration, from the first of: `file`; the file LOADTEST_FARGATE_CONFIG names; the
 * LOADTEST_FARGATE_* variables, when LOADTEST_FARGATE_CLUSTER is set; SST's outputs file under `cwd` (written by
 * `npx sst deploy --stage loadgen`).
 */
export function loadFargateLauncherConfig(options: { file?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): FargateLauncherConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env[FARGATE_ENV.config]?.trim();
  if (file) return fargateConfigFromFile(file);
  if (env[FARGATE_ENV.cluster]?.trim()) return fargateConfigFromEnv(env);
  const outputsFile = path.join(options.cwd ?? process.cwd(), SST_OUTPUTS_FILE);
  if (existsSync(outputsFile)) return fargateConfigFromFile(outputsFile);
  const variables = [FARGATE_ENV.taskDefinition, FARGATE_ENV.subnets, FARGATE_ENV.securityGroups, FARGATE_ENV.bucket, FARGATE_ENV.region].join(", ");
  throw new FargateConfigError(
    `no load generators configured: deploy them with \`npx sst deploy --stage loadgen\` (it writes ${SST_OUTPUTS_FILE}), set ${FARGATE_ENV.config} to a file of the stack's outputs, or set ${FARGATE_ENV.cluster}, ${variables}`,
  );
}
