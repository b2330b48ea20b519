// The Fargate launcher against ECS's wire protocol: every call goes through the AWS SDK's own middleware (serialisation,
// signing, retries, deserialisation) to a request handler that records the HTTP request and answers with ECS's JSON, so
// what is checked is what ECS would receive. Nothing emulates ECS itself; the answers are ECS's documented shapes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { DescribeTasksCommand, type ECSClient, RunTaskCommand } from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, describe, expect, it } from "vitest";
import {
  createEcsClient,
  type FargateLauncherConfig,
  FargateConfigError,
  FargateLauncher,
  FargateLaunchError,
  fargateConfigFromEnv,
  fargateConfigFromFile,
  fargateStoreUrl,
  GENERATOR_INDEX_TAG,
  loadFargateLauncherConfig,
  RUN_ID_TAG,
  startedByFor,
  taskState,
} from "./fargate-launcher.ts";
import type { GeneratorSpec } from "./launcher.ts";

const CONFIG: FargateLauncherConfig = {
  region: "eu-west-1",
  cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/loadgen-checkout-LoadGenerators-Cluster",
  taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/loadgenLoadGeneratorsGeneratorTask:3",
  subnets: ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"],
  securityGroups: ["sg-0123456789abcdef0"],
  bucket: "loadgen-checkout-runs-1a2b3c",
};
const TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113.";

function specs(count: number, runId = "run-2024-06-01T10-00"): GeneratorSpec[] {
  return Array.from({ length: count }, (_, index) => ({ index, count, runId, storeUrl: fargateStoreUrl(CONFIG, runId) }));
}

interface Recorded {
  operation: string;
  headers: Record<string, string>;
  body: Record<string, any>;
}

type Answer = { status: number; body: unknown };
type Respond = (body: Record<string, any>, attempt: number) => Answer;

const ok = (body: unknown): Answer => ({ status: 200, body });
const ecsError = (type: string, message: string): Answer => ({ status: 400, body: { __type: type, message } });

function taskArn(n: number): string {
  return `arn:aws:ecs:eu-west-1:123456789012:task/loadgen-checkout-LoadGenerators-Cluster/${n.toString(16).padStart(32, "0")}`;
}

/**
 * A stand-in for ECS's endpoint at the HTTP layer: records each request the SDK built and answers it from the test's
 * table of operations. Requests are answered in waves: a wave is every request that arrived before the handler went
 * quiet for a moment, so the test sees which calls the launcher had in flight together.
 */
class EcsEndpoint {
  readonly requests: Recorded[] = [];
  readonly waves: string[][] = [];
  private pending: { operation: string; release: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly attempts = new Map<string, number>();

  constructor(private readonly responders: Record<string, Respond>) {}

  client(): ECSClient {
    return createEcsClient(CONFIG, {
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
      requestHandler: { handle: (request: any) => this.handle(request), updateHttpClientConfig() {}, httpHandlerConfigs: () => ({}) } as any,
    });
  }

  of(operation: string): Recorded[] {
    return this.requests.filter((r) => r.operation === operation);
  }

  private async handle(request: { headers: Record<string, string>; body: Uint8Array | string }) {
    const target = request.headers["x-amz-target"] ?? "";
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : `unknown target ${target}`;
    const body = JSON.parse(typeof request.body === "string" ? request.body : new TextDecoder().decode(request.body)) as Record<string, any>;
    this.requests.push({ operation, headers: request.headers, body });
    // Attempts of one call share the invocation id; the responder may answer the first attempt differently.
    const invocation = request.headers["amz-sdk-invocation-id"] ?? "";
    const attempt = (this.attempts.get(invocation) ?? 0) + 1;
    this.attempts.set(invocation, attempt);
    await new Promise<void>((release) => {
      this.pending.push({ operation, release });
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.releaseWave(), 150);
    });
    const responder = this.responders[operation];
    const answer = responder ? responder(body, attempt) : ecsError("InvalidParameterException", `no answer for ${operation}`);
    return {
      response: {
        statusCode: answer.status,
        headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": `request-${this.requests.length}` },
        body: Readable.from([Buffer.from(JSON.stringify(answer.body))]),
      },
    };
  }

  private releaseWave(): void {
    const wave = this.pending;
    this.pending = [];
    this.waves.push(wave.map((p) => p.operation));
    for (const p of wave) p.release();
  }
}

/** RunTask's answer for one started task, ARN numbered by the generator's --index. */
function startedTask(body: Record<string, any>): Answer {
  const command = body.overrides.containerOverrides[0].command as string[];
  const index = Number(command[command.indexOf("--index") + 1]);
  return ok({ tasks: [{ taskArn: taskArn(index), lastStatus: "PROVISIONING", desiredStatus: "RUNNING", createdAt: 1717236000.123 }], failures: [] });
}

describe("FargateLauncher.start", () => {
  it("starts 23 generators as 23 one-task RunTask calls in waves of 10, 10 and 3, each serialised as ECS's JSON protocol", async () => {
    const ecs = new EcsEndpoint({ RunTask: startedTask });
    const launcher = new FargateLauncher(CONFIG, { client: ecs.client() });
    const launched = await launcher.start(specs(23));

    expect(ecs.waves).toEqual([Array(10).fill("RunTask"), Array(10).fill("RunTask"), Array(3).fill("RunTask")]);
    expect(launched.map((g) => g.id)).toEqual(Array.from({ length: 23 }, (_, i) => taskArn(i)));
    expect(launched.map((g) => g.spec.index)).toEqual(Array.from({ length: 23 }, (_, i) => i));

    const runs = ecs.of("RunTask");
    expect(runs).toHaveLength(23);
    const first = runs.find((r) => r.body.overrides.containerOverrides[0].command.includes("0"))!;
    expect(first.headers["content-type"]).toBe("application/x-amz-json-1.1");
    expect(first.headers.host).toBe("ecs.eu-west-1.amazonaws.com");
    expect(first.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/ecs\/aws4_request, SignedHeaders=.*x-amz-target/);
    const runId = "run-2024-06-01T10-00";
    expect(first.body).toEqual({
      cluster: CONFIG.cluster,
      taskDefinition: CONFIG.taskDefinition,
      launchType: "FARGATE",
      count: 1,
      networkConfiguration: { awsvpcConfiguration: { subnets: CONFIG.subnets, securityGroups: CONFIG.securityGroups, assignPublicIp: "ENABLED" } },
      overrides: {
        containerOverrides: [{ name: "generator", command: ["generator", "--store", `s3://${CONFIG.bucket}/runs/${runId}`, "--run-id", runId, "--index", "0", "--count", "23"] }],
      },
      startedBy: `loadtest-${runId}`,
      tags: [
        { key: RUN_ID_TAG, value: runId },
        { key: GENERATOR_INDEX_TAG, value: "0/23" },
      ],
      enableECSManagedTags: true,
      clientToken: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // One index each, every one of 0..22, and a distinct idempotency token per generator.
    const indexes = runs.map((r) => Number(r.body.overrides.containerOverrides[0].command[6])).sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(new Set(runs.map((r) => r.body.clientToken)).size).toBe(23);
    expect(runs.every((r) => r.body.count === 1 && r.body.overrides.containerOverrides[0].command[8] === "23")).toBe(true);
  });

  it("reports a task RunTask refused (its failures array) as that generator failed, with ECS's reason, and starts the rest", async () => {
    const ecs = new EcsEndpoint({
      RunTask: (body) => {
        const command = body.overrides.containerOverrides[0].command as string[];
        if (command[6] === "1") return ok({ tasks: [], failures: [{ arn: CONFIG.taskDefinition, reason: "RESOURCE:FARGATE", detail: "capacity is unavailable at this time" }] });
        return startedTask(body);
      },
      DescribeTasks: (body) => ok({ tasks: (body.tasks as string[]).map((arn) => ({ taskArn: arn, lastStatus: "RUNNING", containers: [{ name: "generator" }] })), failures: [] }),
    });
    const launcher = new FargateLauncher(CONFIG, { client: ecs.client() });
    const launched = await launcher.start(specs(3));
    expect(launched.map((g) => g.id)).toEqual([taskArn(0), "not started (RunTask refused generator 1: RESOURCE:FARGATE - capacity is unavailable at this time)", taskArn(2)]);

    expect(await launcher.status()).toEqual([
      { state: "running" },
      { state: "failed", reason: "RunTask refused generator 1: RESOURCE:FARGATE - capacity is unavailable at this time" },
      { state: "running" },
    ]);
    // Only the two real tasks are described.
    expect(ecs.of("DescribeTasks").map((r) => r.body.tasks)).toEqual([[taskArn(0), taskArn(2)]]);
  });

  it("throws one typed error when no generator could be started, naming ECS's error", async () => {
    const ecs = new EcsEndpoint({ RunTask: () => ecsError("ClusterNotFoundException", "Cluster not found.") });
    const launcher = new FargateLauncher(CONFIG, { client: ecs.client() });
    const error = await launcher.start(specs(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FargateLaunchError);
    expect((error as Error).message).toBe("no generator started on Fargate: RunTask failed for generator 0: ClusterNotFoundException: Cluster not found. (and 1 other reasons)");
    // Not retried: a client error is final.
    expect(ecs.of("RunTask")).toHaveLength(2);
  });

  it("retries a throttled RunTask through the SDK's retry strategy with the same idempotency token, and the generator starts once", async () => {
    const ecs = new EcsEndpoint({ RunTask: (body, attempt) => (attempt === 1 ? ecsError("ThrottlingException", "Rate exceeded") : startedTask(body)) });
    const launcher = new FargateLauncher(CONFIG, { client: ecs.client() });
    const launched = await launcher.start(specs(1));
    expect(launched.map((g) => g.id)).toEqual([taskArn(0)]);
    const attempts = ecs.of("RunTask");
    expect(attempts.map((r) => r.headers["amz-sdk-request"])).toEqual(["attempt=1; max=6", "attempt=2; max=6"]);
    expect(attempts[1]!.body.clientToken).toBe(attempts[0]!.body.clientToken);
    expect(attempts[1]!.body).toEqual(attempts[0]!.body);
  });

  it("refuses, before any call, a store outside the runs bucket, an index out of range and an empty list", async () => {
    const ecs = new EcsEndpoint({ RunTask: startedTask });
    const launcher = new FargateLauncher(CONFIG, { client: ecs.client() });
    const elsewhere = specs(2).map((s) => ({ ...s, storeUrl: "s3://someone-elses-bucket/runs/x" }));
    await expect(launcher.start(elsewhere)).rejects.toThrow(
      new FargateLaunchError(`generator 0: store s3://someone-elses-bucket/runs/x is not in s3://${CONFIG.bucket}, the only bucket the generator tasks may read and write`),
    );
    // A bucket whose name merely starts with the runs bucket's is another bucket.
    await expect(launcher.start(specs(1).map((s) => ({ ...s, storeUrl: `s3://${CONFIG.bucket}-copy/runs/x` })))).rejects.toThrow(FargateLaunchError);
    await expect(launcher.start(specs(2).map((s) => ({ ...s, index: s.index + 1 })))).rejects.toThrow(/generator 2 of 2: the index must be/);
    await expect(launcher.start([])).rejects.toThrow(new FargateLaunchError("no generators to start"));
    expect(ecs.requests).toEqual([]);
  });
});

/** A DescribeTasks task as ECS returns it. */
function described(arn: string, fields: Record<string, unknown>, container: Record<string, unknown> = {}) {
  return { taskArn: arn, clusterArn: CONFIG.cluster, launchType: "FARGATE", createdAt: 1717236000.5, containers: [{ name: "generator", ...container }], ...fields };
}

describe("FargateLauncher.status", () => {
  it("maps DescribeTasks' lastStatus, stopCode, stoppedReason and the container's exit code to each generator's state, in spec order", async () => {
    const answers: Record<number, unknown> = {
      0: described(taskArn(0), { lastStatus: "PROVISIONING", desiredStatus: "RUNNING" }),
      1: described(taskArn(1), { lastStatus: "RUNNING", desiredStatus: "RUNNING" }),
      2: described(taskArn(2), { lastStatus: "STOPPED", stopCode: "EssentialContainerExited", stoppedReason: "Essential container in task exited" }, { exitCode: 0 }),
      3: described(taskArn(3), { lastStatus: "STOPPED", stopCode: "EssentialContainerExited", stoppedReason: "Essential container in task exited" }, { exitCode: 1 }),
      4: described(
        taskArn(4),
        { lastStatus: "STOPPED", stopCode: "EssentialContainerExited", stoppedReason: "Essential container in task exited" },
        { exitCode: 137, reason: "OutOfMemoryError: Container killed due to memory usage" },
      ),
      5: described(taskArn(5), { lastStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "run aborted by the operator (Ctrl-C)" }, { exitCode: 143 }),
      6: described(
        taskArn(6),
        { lastStatus: "STOPPED", stopCode: "TaskFailedToStart", stoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)" },
        { reason: "CannotPullContainerError" },
      ),
      7: described(taskArn(7), { lastStatus: "DEPROVISIONING", desiredStatus: "STOPPED", stopCode: "EssentialContainerExited" }, { exitCode: 0 }),
      8: described(taskArn(8), { lastStatus: "STOPPED", stopCode: "SpotInterruption", stoppedReason: "Your Spot Task was interrupted." }),
    };
    const ecs = new EcsEndpoint({
      RunTask: startedTask,
      DescribeTasks: (body) => {
        const tasks = (body.tasks as string[]).map((arn) => answers[Number.parseInt(arn.split("/").pop()!, 16)]).filter(Boolean);
        return ok({ tasks, failures: [{ arn: taskArn(9), reason: "MISSING" }] });
      },
    });
    const launcher = new FargateLauncher(CONFIG, { client: ecs.client() });
    await launcher.start(specs(10));
    expect(await launcher.status()).toEqual([
      { state: "pending" },
      { state: "running" },
      { state: "exited", exitCode: 0 },
      { state: "exited", exitCode: 1, reason: "Essential container in task exited" },
      { state: "exited", exitCode: 137, reason: "Essential container in task exited; OutOfMemoryError: Container killed due to memory usage" },
      { state: "failed", reason: "stopped by StopTask: run aborted by the operator (Ctrl-C)" },
      { state: "failed", reason: "the task failed to start: CannotPullContainerError: pull image manifest has been retried 5 time(s); CannotPullContainerError" },
      { state: "exited", exitCode: 0 },
      { state: "failed", reason: "stopped by the platform (SpotInterruption): Your Spot Task was interrupted." },
      { state: "failed", reason: `ECS cannot describe task ${taskArn(9)}: MISSING` },
    ]);
    const describe = ecs.of("DescribeTasks");
    expect(describe).toHaveLength(1);
    expect(describe[0]!.body).toEqual({ cluster: CONFIG.cluster, tasks: Array.from({ length: 10 }, (_, i) => taskArn(i)) });
  });

  it("asks DescribeTasks about at most 100 tasks a call (230 generators: 100, 100 and 30)", async () => {
    const client = createEcsClient(CONFIG, { credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
    const ecs = mockClient(client);
    let started = 0;
    ecs.on(RunTaskCommand).callsFake(() => ({ tasks: [{ taskArn: taskArn(started++), lastStatus: "PROVISIONING" }], failures: [] }));
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({ tasks: input.tasks.map((arn) => ({ taskArn: arn, lastStatus: "RUNNING" })), failures: [] }));
    const launcher = new FargateLauncher(CONFIG, { client });
    await launcher.start(specs(230));
    const states = await launcher.status();
    expect(states).toHaveLength(230);
    expect(states.every((s) => s.state === "running")).toBe(true);
    expect(ecs.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input.tasks?.length)).toEqual([100, 100, 30]);
    expect(new Set(ecs.commandCalls(DescribeTasksCommand).flatMap((call) => call.args[0].input.tasks ?? [])).size).toBe(230);
  });
});

describe("FargateLauncher.stopAll", () => {
  it("sends StopTask with the reason for every task still running, and none for a generator that never started or already ended", async () => {
    const ecs = new EcsEndpoint({
      RunTask: (body) => (body.overrides.containerOverrides[0].command[6] === "3" ? ok({ tasks: [], failures: [{ reason: "RESOURCE:ENI" }] }) : startedTask(body)),
      DescribeTasks: (body) =>
        ok({
          tasks: (body.tasks as string[]).map((arn) =>
            arn === taskArn(2) ? described(arn, { lastStatus: "STOPPED", stopCode: "EssentialContainerExited" }, { exitCode: 0 }) : described(arn, { lastStatus: "RUNNING" }),
          ),
        }),
      StopTask: (body) => ok({ task: described(body.task, { lastStatus: "RUNNING", desiredStatus: "STOPPED" }) }),
    });
    const launcher = new FargateLauncher(CONFIG, { client: ecs.client() });
    await launcher.start(specs(4));
    await launcher.status();
    await launcher.stopAll("the run's thresholds failed; stopping the other generators");
    const stops = ecs.of("StopTask");
    expect(stops.map((r) => r.body.task).sort()).toEqual([taskArn(0), taskArn(1)]);
    for (const stop of stops) {
      expect(stop.headers["x-amz-target"]).toBe(`${TARGET_PREFIX}StopTask`);
      expect(stop.body).toEqual({ cluster: CONFIG.cluster, task: stop.body.task, reason: "the run's thresholds failed; stopping the other generators" });
    }
  });

  it("called during a launch, lets the wave in flight finish, launches no more, and stops what started", async () => {
    const ecs = new EcsEndpoint({
      RunTask: startedTask,
      StopTask: (body) => ok({ task: described(body.task, { lastStatus: "RUNNING" }) }),
      DescribeTasks: (body) => ok({ tasks: (body.tasks as string[]).map((arn) => described(arn, { lastStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "Ctrl-C" })) }),
    });
    const launcher = new FargateLauncher(CONFIG, { client: ecs.client() });
    const starting = launcher.start(specs(15));
    await launcher.stopAll("Ctrl-C");
    const launched = await starting;
    expect(ecs.of("RunTask")).toHaveLength(10);
    expect(launched.slice(10).map((g) => g.id)).toEqual(Array(5).fill("not started (stopped before launch: Ctrl-C)"));
    expect(
      ecs
        .of("StopTask")
        .map((r) => r.body.task)
        .sort(),
    ).toEqual(
      launched
        .slice(0, 10)
        .map((g) => g.id)
        .sort(),
    );
    expect(await launcher.status()).toEqual([
      ...Array(10).fill({ state: "failed", reason: "stopped by StopTask: Ctrl-C" }),
      ...Array(5).fill({ state: "failed", reason: "stopped before launch: Ctrl-C" }),
    ]);
  });

  it("stops every started task when status was never asked, and says which stops ECS refused", async () => {
    const ecs = new EcsEndpoint({
      RunTask: startedTask,
      StopTask: (body) =>
        body.task === taskArn(1) ? ecsError("AccessDeniedException", "not authorized to perform: ecs:StopTask") : ok({ task: described(body.task, { lastStatus: "RUNNING" }) }),
    });
    const launcher = new FargateLauncher(CONFIG, { client: ecs.client() });
    await launcher.start(specs(3));
    const error = await launcher.stopAll("x".repeat(300)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FargateLaunchError);
    expect((error as Error).message).toBe(`ECS refused to stop 1 generator task(s): ${taskArn(1)}: AccessDeniedException: not authorized to perform: ecs:StopTask`);
    const stops = ecs.of("StopTask");
    expect(stops.map((r) => r.body.task).sort()).toEqual([taskArn(0), taskArn(1), taskArn(2)]);
    // ECS takes a reason of at most 255 characters.
    expect(stops.every((r) => r.body.reason === "x".repeat(255))).toBe(true);
  });
});

describe("taskState", () => {
  it("treats a task on its way down as running until its generator has exited", () => {
    expect(taskState({ lastStatus: "DEACTIVATING", desiredStatus: "STOPPED", containers: [{ name: "generator" }] })).toEqual({ state: "running" });
    expect(taskState({ lastStatus: "STOPPED", containers: [{ name: "generator" }] })).toEqual({
      state: "failed",
      reason: "the task stopped before the generator exited: no reason given",
    });
  });
});

describe("startedByFor", () => {
  it("keeps ECS's startedBy alphabet and length", () => {
    expect(startedByFor("2024-06-01T10:00:00Z/a b")).toBe("loadtest-2024-06-01T10_00_00Z_a_b");
    expect(startedByFor("r".repeat(200))).toHaveLength(128);
  });
});

describe("configuration", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "fargate-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const outputs = {
    Region: "eu-west-1",
    ClusterArn: CONFIG.cluster,
    TaskDefinitionArn: CONFIG.taskDefinition,
    Subnets: CONFIG.subnets.join(","),
    SecurityGroup: CONFIG.securityGroups[0],
    Bucket: CONFIG.bucket,
    ContainerName: "generator",
    LogGroup: "loadgen-checkout-LoadGenerators-GeneratorLogs",
  };
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
    return file;
  };

  it("reads the LoadGenerators stack's entry of SST's outputs file", () => {
    const file = write("outputs.json", { "loadgen-checkout-LoadGenerators": outputs, "loadgen-checkout-Other": { Foo: "bar" } });
    expect(fargateConfigFromFile(file)).toEqual({ ...CONFIG, containerName: "generator" });
  });

  it("reads one stack's outputs object", () => {
    expect(fargateConfigFromFile(write("flat.json", outputs))).toEqual({ ...CONFIG, containerName: "generator" });
  });

  it("finds .sst/outputs.json under the working folder when nothing else is given", () => {
    const repo = mkdtempSync(path.join(dir, "repo-"));
    mkdirSync(path.join(repo, ".sst"));
    writeFileSync(path.join(repo, ".sst", "outputs.json"), JSON.stringify({ "loadgen-checkout-LoadGenerators": outputs }));
    expect(loadFargateLauncherConfig({ env: {}, cwd: repo })).toEqual({ ...CONFIG, containerName: "generator" });
  });

  it("names every missing or malformed output in one line", () => {
    const file = write("bad.json", { "loadgen-checkout-LoadGenerators": { ...outputs, ClusterArn: "", Subnets: "subnet-0a1b2c3d4e5f60718,vpc-123", Bucket: undefined } });
    expect(() => fargateConfigFromFile(file)).toThrow(
      new FargateConfigError(`load generator configuration from ${file} (loadgen-checkout-LoadGenerators): missing ClusterArn, Bucket; Subnets "vpc-123" is not a subnet id`),
    );
  });

  it("says how to deploy the generators when the outputs file has no LoadGenerators stack, and refuses a file that is not JSON", () => {
    const file = write("staging.json", { "staging-checkout-Api": { Url: "https://api" } });
    expect(() => fargateConfigFromFile(file)).toThrow(
      new FargateConfigError(`${file} has no LoadGenerators stack's outputs (stacks: staging-checkout-Api): deploy them with \`npx sst deploy --stage loadgen\``),
    );
    expect(() => fargateConfigFromFile(write("broken.json", "{ not json"))).toThrow(FargateConfigError);
    expect(() => fargateConfigFromFile(path.join(dir, "absent.json"))).toThrow(
      new FargateConfigError(`cannot read the load generators' outputs from ${path.join(dir, "absent.json")}: no such file`),
    );
  });

  it("reads the LOADTEST_FARGATE_* variables, the region falling back to AWS_REGION", () => {
    const env = {
      AWS_REGION: "eu-west-1",
      LOADTEST_FARGATE_CLUSTER: CONFIG.cluster,
      LOADTEST_FARGATE_TASK_DEFINITION: CONFIG.taskDefinition,
      LOADTEST_FARGATE_SUBNETS: ` ${CONFIG.subnets.join(" , ")} `,
      LOADTEST_FARGATE_SECURITY_GROUPS: CONFIG.securityGroups.join(","),
      LOADTEST_FARGATE_BUCKET: CONFIG.bucket,
    };
    expect(fargateConfigFromEnv(env)).toEqual(CONFIG);
    expect(loadFargateLauncherConfig({ env, cwd: dir })).toEqual(CONFIG);
    expect(() => fargateConfigFromEnv({ LOADTEST_FARGATE_CLUSTER: CONFIG.cluster })).toThrow(
      new FargateConfigError(
        "load generator configuration from the environment: missing LOADTEST_FARGATE_REGION (or AWS_REGION), LOADTEST_FARGATE_TASK_DEFINITION, LOADTEST_FARGATE_SUBNETS, LOADTEST_FARGATE_SECURITY_GROUPS, LOADTEST_FARGATE_BUCKET",
      ),
    );
  });

  it("prefers a given file, then LOADTEST_FARGATE_CONFIG, then the variables, then .sst/outputs.json, else says how to configure", () => {
    const flat = write("given.json", outputs);
    const other = write("other.json", { ...outputs, Bucket: "another-runs-bucket" });
    expect(loadFargateLauncherConfig({ file: flat, env: { LOADTEST_FARGATE_CONFIG: other }, cwd: dir }).bucket).toBe(CONFIG.bucket);
    expect(loadFargateLauncherConfig({ env: { LOADTEST_FARGATE_CONFIG: other }, cwd: dir }).bucket).toBe("another-runs-bucket");

    const repo = mkdtempSync(path.join(dir, "repo-"));
    expect(() => loadFargateLauncherConfig({ env: {}, cwd: repo })).toThrow(/^no load generators configured: deploy them with `npx sst deploy --stage loadgen`/);
    expect(() => loadFargateLauncherConfig({ env: {}, cwd: repo })).toThrow(FargateConfigError);
  });
});
