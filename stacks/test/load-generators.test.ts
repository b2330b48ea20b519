// The LoadGenerators stack, synthesized offline as `sst deploy --stage loadgen` would: the stage deploys it alone;
// public subnets and no NAT; a Fargate task definition for the load tester's image; the runs bucket (encrypted, private,
// TLS only, expiring, access-logged) that the task role alone may read and write; outputs the launcher reads; no
// unsuppressed cdk-nag finding. The image cannot be built here (no Docker): its build context is staged and checked,
// and the Dockerfile's install step is run against that context.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CloudAssembly } from "aws-cdk-lib/cx-api";
import { Template } from "aws-cdk-lib/assertions";
import { App } from "sst/constructs";
import { initProject, useProject } from "sst/project.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FARGATE_OUTPUT_KEYS, GENERATOR_CONTAINER } from "../../packages/loadtest/src/distributed/fargate-launcher.ts";
import { listSuppressions, stacksOf } from "../compliance.ts";
import { addStacks } from "../index.ts";
import {
  GENERATOR_CONTAINER_NAME,
  GENERATOR_IMAGE,
  GENERATOR_TASK_SIZE,
  isLoadGeneratorStage,
  LOAD_GENERATOR_OUTPUTS,
  OPERATOR_POLICY_OUTPUT,
  RESULTS_EXPIRY_DAYS,
  STAGE_GENERATOR_IMAGE_CONTEXT,
} from "../LoadGenerators.ts";
import { regionForStage } from "../stages.ts";
import { type Json, ofType, type Resources } from "./support.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
const DOCKERFILE = path.join(REPO, GENERATOR_IMAGE.file);

interface Built {
  app: App;
  stackIds: string[];
  template: Json;
  resources: Resources;
  findings: string[];
  assembly: CloudAssembly;
}

const scratch = mkdtempSync(path.join(os.tmpdir(), "checkout-loadgen-test-"));
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of [scratch, ...outdirs]) rmSync(dir, { recursive: true, force: true });
});

/** Builds the app for a stage as `sst` would; `stageImage` stages the real image asset (its build context) too. */
async function build(stage: string, options: { mode?: "deploy" | "remove"; stageImage?: boolean } = {}): Promise<Built> {
  process.env.NODE_ENV = "test";
  await initProject({ stage });
  Object.assign(useProject().paths, { out: path.join(scratch, "sst"), artifacts: path.join(scratch, "artifacts") });
  const context = options.stageImage ? { [STAGE_GENERATOR_IMAGE_CONTEXT]: true } : {};
  const app = new App({ mode: options.mode ?? "deploy", stage, name: "checkout", region: regionForStage(stage) }, { context });
  addStacks(app);
  await app.finish();
  const assembly = app.synth();
  outdirs.push(assembly.directory);
  const stacks = stacksOf(app);
  const stack = stacks[0]!;
  const artifact = assembly.getStackArtifact(stack.artifactId);
  const findings = artifact.messages.filter((m) => m.level === "error" || m.level === "warning").map((m) => `${m.level} ${m.id}: ${String(m.entry.data)}`);
  const template = Template.fromJSON(artifact.template as Json).toJSON();
  return { app, stackIds: stacks.map((s) => s.node.id), template, resources: template.Resources as Resources, findings, assembly };
}

function only(resources: Resources, type: string): [string, Json] {
  const found = ofType(resources, type);
  expect(found.map(([id]) => id)).toHaveLength(1);
  return found[0]!;
}

/** The one bucket whose logical id starts with `prefix`. */
function bucket(resources: Resources, prefix: string): [string, Json] {
  const found = ofType(resources, "AWS::S3::Bucket").filter(([id]) => id.startsWith(prefix));
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** An output's value as text, each Ref written <LogicalId>. */
function joined(value: unknown): string {
  if (typeof value === "string") return value;
  const json = value as Json;
  if (json.Ref) return `<${json.Ref}>`;
  if (json["Fn::Join"]) return (json["Fn::Join"][1] as unknown[]).map(joined).join(json["Fn::Join"][0]);
  throw new Error(`unexpected output value ${JSON.stringify(value)}`);
}

let built: Built;

beforeAll(async () => {
  built = await build("loadgen");
});

describe("the loadgen stage", () => {
  it("is the load generators' stage (and loadgen-NAME a personal one); no shop stage deploys them", () => {
    for (const stage of ["loadgen", "loadgen-alice"]) expect(isLoadGeneratorStage(stage)).toBe(true);
    for (const stage of ["dev", "test", "staging", "prod", "prod-eu", "prod-apac", "loadgenerator", "my-loadgen"]) expect(isLoadGeneratorStage(stage)).toBe(false);
  });

  it("deploys the LoadGenerators stack alone, and `sst remove --stage loadgen` removes the same stack", async () => {
    expect(built.stackIds).toEqual(["loadgen-checkout-LoadGenerators"]);
    const removing = await build("loadgen", { mode: "remove" });
    expect(removing.stackIds).toEqual(built.stackIds);
  });
});

describe("LoadGenerators stack", () => {
  it("has public subnets in two availability zones, no NAT gateway and no elastic IP", () => {
    const subnets = ofType(built.resources, "AWS::EC2::Subnet").map(([, p]) => p);
    expect(subnets).toHaveLength(2);
    expect(new Set(subnets.map((s) => JSON.stringify(s.AvailabilityZone))).size).toBe(2);
    for (const subnet of subnets) {
      expect(subnet.Tags).toContainEqual({ Key: "aws-cdk:subnet-type", Value: "Public" });
      expect(subnet.MapPublicIpOnLaunch).toBe(false);
    }
    expect(ofType(built.resources, "AWS::EC2::NatGateway")).toEqual([]);
    expect(ofType(built.resources, "AWS::EC2::EIP")).toEqual([]);
    const routes = ofType(built.resources, "AWS::EC2::Route").map(([, p]) => p);
    expect(routes).toHaveLength(2);
    for (const route of routes) expect(route.GatewayId).toEqual({ Ref: only(built.resources, "AWS::EC2::InternetGateway")[0] });
  });

  it("logs rejected flows to the log bucket", () => {
    const [, flowLog] = only(built.resources, "AWS::EC2::FlowLog");
    expect(flowLog.TrafficType).toBe("REJECT");
    expect(flowLog.LogDestinationType).toBe("s3");
    expect(JSON.stringify(flowLog.LogDestination)).toContain(bucket(built.resources, "AccessLogs")[0]);
  });

  it("lets nothing into the generators and lets them out over TCP", () => {
    const [, group] = only(built.resources, "AWS::EC2::SecurityGroup");
    expect(group.SecurityGroupIngress).toBeUndefined();
    expect(ofType(built.resources, "AWS::EC2::SecurityGroupIngress")).toEqual([]);
    expect(group.SecurityGroupEgress).toEqual([{ CidrIp: "0.0.0.0/0", IpProtocol: "tcp", FromPort: 0, ToPort: 65535, Description: expect.any(String) }]);
  });

  it("has a cluster with Container Insights, so a saturated generator shows in its CPU", () => {
    const [, cluster] = only(built.resources, "AWS::ECS::Cluster");
    expect(cluster.ClusterSettings).toEqual([{ Name: "containerInsights", Value: "enabled" }]);
    expect(ofType(built.resources, "AWS::ECS::Service")).toEqual([]);
  });

  it("defines the generator task: Fargate, awsvpc, one read-only container named as the launcher expects, logging to a group kept 30 days", () => {
    const [, task] = only(built.resources, "AWS::ECS::TaskDefinition");
    expect(task.RequiresCompatibilities).toEqual(["FARGATE"]);
    expect(task.NetworkMode).toBe("awsvpc");
    expect(task.Cpu).toBe(String(GENERATOR_TASK_SIZE.cpu));
    expect(task.Memory).toBe(String(GENERATOR_TASK_SIZE.memoryMiB));
    expect(task.ContainerDefinitions).toHaveLength(1);
    const container = task.ContainerDefinitions[0];
    expect(GENERATOR_CONTAINER_NAME).toBe(GENERATOR_CONTAINER);
    expect(container.Name).toBe(GENERATOR_CONTAINER);
    expect(container.Essential).toBe(true);
    expect(container.ReadonlyRootFilesystem).toBe(true);
    expect(container.MountPoints).toEqual([{ ContainerPath: "/tmp", ReadOnly: false, SourceVolume: "tmp" }]);
    expect(task.Volumes).toEqual([{ Name: "tmp" }]);
    // The run's settings come in RunTask's command; nothing secret or run-specific is baked into the definition.
    expect(container.Environment).toBeUndefined();
    expect(container.Secrets).toBeUndefined();
    const [logGroupId, logGroup] = only(built.resources, "AWS::Logs::LogGroup");
    expect(logGroup.RetentionInDays).toBe(30);
    expect(container.LogConfiguration.LogDriver).toBe("awslogs");
    expect(container.LogConfiguration.Options["awslogs-group"]).toEqual({ Ref: logGroupId });
  });

  it("keeps runs in a private, encrypted, TLS-only, versioned bucket that expires them and logs its access", () => {
    const [runsId, runs] = bucket(built.resources, "Runs");
    const [logsId, logs] = bucket(built.resources, "AccessLogs");
    for (const props of [runs, logs]) {
      expect(props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe("AES256");
      expect(props.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(props.VersioningConfiguration).toEqual({ Status: "Enabled" });
    }
    expect(runs.LifecycleConfiguration.Rules).toEqual([
      { Status: "Enabled", ExpirationInDays: RESULTS_EXPIRY_DAYS, NoncurrentVersionExpiration: { NoncurrentDays: 7 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
    expect(runs.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: "s3/runs/" });
    const policies = ofType(built.resources, "AWS::S3::BucketPolicy").filter(([, p]) => JSON.stringify(p.Bucket) === JSON.stringify({ Ref: runsId }));
    expect(policies).toHaveLength(1);
    const statements = policies[0]![1].PolicyDocument.Statement as Json[];
    expect(statements).toContainEqual(expect.objectContaining({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }));
    expect(statements).toContainEqual(expect.objectContaining({ Effect: "Deny", Action: "s3:*", Condition: { NumericLessThan: { "s3:TlsVersion": 1.2 } } }));
    // Only denials: nothing outside the account is let in.
    expect(statements.filter((s) => s.Effect === "Allow")).toEqual([]);
  });

  it("gives the task role get and put on the runs bucket's objects and a listing of its keys, and nothing more", () => {
    const [runsId] = bucket(built.resources, "Runs");
    const [, task] = only(built.resources, "AWS::ECS::TaskDefinition");
    const taskRoleId = task.TaskRoleArn["Fn::GetAtt"][0] as string;
    const executionRoleId = task.ExecutionRoleArn["Fn::GetAtt"][0] as string;
    const attachedTo = (roleId: string) =>
      Object.entries(built.resources)
        .filter(([, r]) => (r.Type === "AWS::IAM::Policy" || r.Type === "AWS::IAM::ManagedPolicy") && JSON.stringify(r.Properties.Roles ?? []).includes(`"${roleId}"`))
        .map(([, r]) => r.Properties);
    const role = built.resources[taskRoleId]!.Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
    const taskPolicies = attachedTo(taskRoleId);
    // One customer-managed policy (PCI DSS asks for no inline ones), attached to this role alone.
    expect(taskPolicies).toHaveLength(1);
    expect(taskPolicies[0]!.Roles).toEqual([{ Ref: taskRoleId }]);
    expect(taskPolicies[0]!.PolicyDocument.Statement).toEqual([
      { Sid: "RunObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: { "Fn::Join": ["", [{ "Fn::GetAtt": [runsId, "Arn"] }, "/*"]] } },
      { Sid: "RunKeys", Effect: "Allow", Action: "s3:ListBucket", Resource: { "Fn::GetAtt": [runsId, "Arn"] } },
    ]);
    // The execution role pulls the image and writes logs; it never reaches the bucket.
    expect(JSON.stringify(attachedTo(executionRoleId))).not.toContain(runsId);
    expect(JSON.stringify(attachedTo(executionRoleId))).not.toContain("s3:");
  });

  it("gives operators one managed policy, attached to nothing: this task definition in this cluster, its tasks, its two roles, the runs bucket", () => {
    const [runsId] = bucket(built.resources, "Runs");
    const [clusterId] = only(built.resources, "AWS::ECS::Cluster");
    const [taskId, task] = only(built.resources, "AWS::ECS::TaskDefinition");
    const policies = ofType(built.resources, "AWS::IAM::ManagedPolicy").filter(([id]) => id.startsWith("OperatorPolicy"));
    expect(policies).toHaveLength(1);
    const [policyId, policy] = policies[0]!;
    expect(policy.Roles ?? policy.Users ?? policy.Groups).toBeUndefined();
    const outputs = built.template.Outputs as Record<string, { Value: unknown }>;
    expect(outputs[OPERATOR_POLICY_OUTPUT]!.Value).toEqual({ Ref: policyId });

    const statements = policy.PolicyDocument.Statement as Json[];
    const bySid = Object.fromEntries(statements.map((statement) => [statement.Sid as string, statement]));
    expect(Object.keys(bySid)).toEqual(["StartGenerators", "TagOnStart", "WatchAndStop", "PassGeneratorRoles", "RunObjects", "RunKeys"]);
    expect(statements.every((statement) => statement.Effect === "Allow")).toBe(true);
    const inCluster = { ArnEquals: { "ecs:cluster": { "Fn::GetAtt": [clusterId, "Arn"] } } };
    expect(bySid.StartGenerators).toMatchObject({ Action: "ecs:RunTask", Resource: { Ref: taskId }, Condition: inCluster });
    // Tasks of this cluster only: arn:…:ecs:<region>:<account>:task/<cluster name>/*.
    const clusterTasks = JSON.stringify(bySid.WatchAndStop!.Resource);
    expect(clusterTasks).toContain(`{"Ref":"${clusterId}"}`);
    expect(clusterTasks).toMatch(/:task\/".*"\/\*"/);
    expect(bySid.WatchAndStop).toMatchObject({ Action: ["ecs:DescribeTasks", "ecs:StopTask"], Condition: inCluster });
    expect(bySid.TagOnStart).toMatchObject({ Action: "ecs:TagResource", Resource: bySid.WatchAndStop!.Resource, Condition: { StringEquals: { "ecs:CreateAction": "RunTask" } } });
    expect(bySid.PassGeneratorRoles).toMatchObject({
      Action: "iam:PassRole",
      Resource: [task.TaskRoleArn, task.ExecutionRoleArn],
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    });
    expect(bySid.RunObjects).toMatchObject({ Action: ["s3:GetObject", "s3:PutObject"], Resource: { "Fn::Join": ["", [{ "Fn::GetAtt": [runsId, "Arn"] }, "/*"]] } });
    expect(bySid.RunKeys).toMatchObject({ Action: "s3:ListBucket", Resource: { "Fn::GetAtt": [runsId, "Arn"] } });
    // These actions and no other (no delete, no other service), and none on every resource.
    expect(statements.flatMap((statement) => statement.Action).sort()).toEqual(
      ["ecs:DescribeTasks", "ecs:RunTask", "ecs:StopTask", "ecs:TagResource", "iam:PassRole", "s3:GetObject", "s3:ListBucket", "s3:PutObject"].sort(),
    );
    expect(statements.filter((statement) => JSON.stringify(statement.Resource) === '"*"')).toEqual([]);
  });

  it("outputs what the launcher reads, under the names it reads", () => {
    const outputs = built.template.Outputs as Record<string, { Value: unknown }>;
    // Beside SST's own stack metadata.
    expect(
      Object.keys(outputs)
        .filter((key) => key !== "SSTMetadata")
        .sort(),
    ).toEqual([...LOAD_GENERATOR_OUTPUTS, OPERATOR_POLICY_OUTPUT].sort());
    for (const key of FARGATE_OUTPUT_KEYS) expect(outputs[key]).toBeDefined();
    const [clusterId] = only(built.resources, "AWS::ECS::Cluster");
    const [taskId] = only(built.resources, "AWS::ECS::TaskDefinition");
    const [groupId] = only(built.resources, "AWS::EC2::SecurityGroup");
    const subnetIds = ofType(built.resources, "AWS::EC2::Subnet").map(([id]) => id);
    expect(outputs.ClusterArn!.Value).toEqual({ "Fn::GetAtt": [clusterId, "Arn"] });
    expect(outputs.TaskDefinitionArn!.Value).toEqual({ Ref: taskId });
    expect(outputs.SecurityGroup!.Value).toEqual({ "Fn::GetAtt": [groupId, "GroupId"] });
    // A comma-separated list of the subnets, however CDK spells the join.
    expect(joined(outputs.Subnets!.Value)).toBe(subnetIds.map((id) => `<${id}>`).join(","));
    expect(outputs.Bucket!.Value).toEqual({ Ref: bucket(built.resources, "Runs")[0] });
    expect(outputs.ContainerName!.Value).toBe(GENERATOR_CONTAINER);
    expect(outputs.Region!.Value).toBe(regionForStage("loadgen"));
  });

  it("leaves no unsuppressed cdk-nag finding (AwsSolutions and PCI DSS 3.2.1, as the app applies them), each suppression with its reason", () => {
    if (built.findings.length > 0) console.log(built.findings.join("\n"));
    expect(built.findings).toEqual([]);
    const suppressions = listSuppressions(built.app);
    console.log(`${suppressions.length} cdk-nag suppressions:\n${suppressions.map((s) => `  ${s.rule.padEnd(44)} ${s.path}\n      ${s.reason}`).join("\n")}`);
    expect(suppressions.filter((s) => s.reason.trim().length < 30 || !/[.!]$/.test(s.reason.trim()))).toEqual([]);
  });
});

describe("the generator image", () => {
  let withImage: Built;
  let context: string;

  beforeAll(async () => {
    withImage = await build("loadgen", { stageImage: true });
    const manifest = withImage.assembly.artifacts.find((a) => a.id.endsWith(".assets")) as unknown as { file: string };
    const images = Object.values(
      JSON.parse(readFileSync(manifest.file, "utf8")).dockerImages as Record<string, { source: { directory: string; dockerFile: string; platform: string } }>,
    );
    expect(images).toHaveLength(1);
    expect(images[0]!.source.dockerFile).toBe(GENERATOR_IMAGE.file);
    expect(images[0]!.source.platform).toBe("linux/amd64");
    context = path.join(withImage.assembly.directory, images[0]!.source.directory);
  });

  /** Every file of the staged build context, relative to it. */
  function contextFiles(): string[] {
    return (readdirSync(context, { recursive: true, withFileTypes: true }) as { isFile(): boolean; parentPath: string; name: string }[])
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(context, path.join(entry.parentPath, entry.name)))
      .sort();
  }

  it("has a Dockerfile on node:20-slim whose entrypoint is the CLI through tsx, run as the node user", () => {
    const dockerfile = readFileSync(DOCKERFILE, "utf8");
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(new Set(froms)).toEqual(new Set(["node:20-slim"]));
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "--import", "tsx", "src\/cli\.ts"\]$/m);
    expect(dockerfile).toMatch(/^WORKDIR \/app\/packages\/loadtest$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    // The task mounts its storage at /tmp over a read-only root; declared as a VOLUME, it keeps the image's 1777 there.
    const [, task] = only(built.resources, "AWS::ECS::TaskDefinition");
    for (const mount of task.ContainerDefinitions[0].MountPoints as Json[]) expect(dockerfile).toContain(`VOLUME ["${mount.ContainerPath}"]`);
    expect(existsSync(path.join(REPO, "packages/loadtest/src/cli.ts"))).toBe(true);
  });

  it("builds from the workspace manifests, the lockfile, the package without node_modules or tests, and the one stacks file it imports", () => {
    const files = contextFiles();
    const outside = files.filter((file) => !file.startsWith("packages/loadtest/"));
    expect(outside).toEqual([".npmrc", "package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml", "stacks/api-task-size.ts"]);
    expect(files).toContain("packages/loadtest/Dockerfile");
    expect(files).toContain("packages/loadtest/package.json");
    expect(files).toContain("packages/loadtest/src/cli.ts");
    expect(files.filter((file) => file.includes("node_modules") || file.endsWith(".test.ts") || file.startsWith("packages/loadtest/test/"))).toEqual([]);
  });

  it("copies every file outside the package that the package's code imports, to the same place relative to it", () => {
    const dockerfile = readFileSync(DOCKERFILE, "utf8");
    const source = path.join(REPO, "packages/loadtest/src");
    const imported = new Set<string>();
    for (const entry of readdirSync(source, { recursive: true, withFileTypes: true }) as { isFile(): boolean; parentPath: string; name: string }[]) {
      if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) continue;
      const file = path.join(entry.parentPath, entry.name);
      for (const [, specifier] of readFileSync(file, "utf8").matchAll(/from "(\.[^"]+)"/g)) {
        const target = path.relative(REPO, path.resolve(path.dirname(file), specifier!));
        if (!target.startsWith("packages/loadtest/")) imported.add(target);
      }
    }
    expect([...imported]).not.toEqual([]);
    for (const file of imported) {
      expect(contextFiles()).toContain(file);
      // /app mirrors the repository: the package at /app/packages/loadtest, so ../../.. paths land on /app/<file>.
      expect(dockerfile).toMatch(new RegExp(`^COPY ${file.replaceAll(".", "\\.")} /app/${file.replaceAll(".", "\\.")}$`, "m"));
    }
  });

  it("installs, from that context alone, a package whose CLI runs with production dependencies only (the Dockerfile's pnpm deploy, without Docker)", () => {
    const dockerfile = readFileSync(DOCKERFILE, "utf8");
    const install = /^RUN (pnpm --filter @checkout\/loadtest deploy .*) \/app\/packages\/loadtest$/m.exec(dockerfile);
    expect(install).not.toBeNull();
    const root = path.join(scratch, "image");
    const workspace = path.join(scratch, "workspace");
    // COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./ and COPY packages/loadtest/ packages/loadtest/
    cpSync(context, workspace, { recursive: true, filter: (file) => !file.startsWith(path.join(context, "stacks")) });
    execFileSync("sh", ["-c", `${install![1]} ${path.join(root, "packages/loadtest")}`], { cwd: workspace, stdio: "pipe", env: { ...process.env, CI: "true" } });
    mkdirSync(path.join(root, "stacks"));
    cpSync(path.join(context, "stacks/api-task-size.ts"), path.join(root, "stacks/api-task-size.ts"));
    const installed = readdirSync(path.join(root, "packages/loadtest/node_modules"));
    // Production dependencies only: none of the package's development ones.
    for (const dev of Object.keys(JSON.parse(readFileSync(path.join(REPO, "packages/loadtest/package.json"), "utf8")).devDependencies)) {
      expect(installed).not.toContain(dev.split("/")[0]);
    }
    const usage = execFileSync("node", ["--import", "tsx", "src/cli.ts", "--help"], {
      cwd: path.join(root, "packages/loadtest"),
      env: { PATH: process.env.PATH, NODE_ENV: "production" },
      encoding: "utf8",
    });
    expect(usage).toMatch(/^Usage:/);
  });

  it("lets the execution role pull the image from the assets repository, and still no cdk-nag finding", () => {
    const [, task] = only(withImage.resources, "AWS::ECS::TaskDefinition");
    expect(JSON.stringify(task.ContainerDefinitions[0].Image)).toContain("container-assets");
    const executionRoleId = task.ExecutionRoleArn["Fn::GetAtt"][0] as string;
    const policies = Object.values(withImage.resources).filter((r) => r.Type === "AWS::IAM::Policy" && JSON.stringify(r.Properties.Roles).includes(executionRoleId));
    const actions = policies.flatMap((p) => (p.Properties.PolicyDocument.Statement as Json[]).flatMap((s) => s.Action));
    expect(actions).toEqual(expect.arrayContaining(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:GetAuthorizationToken"]));
    if (withImage.findings.length > 0) console.log(withImage.findings.join("\n"));
    expect(withImage.findings).toEqual([]);
  });
});
