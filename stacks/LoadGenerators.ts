// LoadGenerators: where a distributed load test's generators run, as ECS Fargate tasks the load tester starts with
// RunTask (`checkout-loadtest … --on fargate`). A stack of its own, deployed on demand under the `loadgen` stage
// (stacks/index.ts) and removed when the tests are done; it shares nothing with the shop's stages.
//
// Cost is the design constraint: nothing here runs or bills by the hour while no test runs. Public subnets only (no
// NAT gateway: the generators only call out, to the target, ECR, S3 and CloudWatch Logs, through the internet gateway
// with a public address each), no load balancer, no service; tasks exist only for the length of a run.
import { Duration, IgnoreMode, RemovalPolicy, Size } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { StackContext } from "sst/constructs";
import { suppress } from "./compliance.ts";

/** The stage that deploys this stack alone, and its personal variants (`loadgen-alice`). */
export function isLoadGeneratorStage(stage: string): boolean {
  return /^loadgen(-[a-z0-9-]+)?$/.test(stage);
}

/** The container the load tester overrides the command of (`generator --store … --index i --count N`). */
export const GENERATOR_CONTAINER_NAME = "generator";

/**
 * One generator's task: 1 vCPU and 2 GiB (a starting size, not yet measured on Fargate). A generator that cannot keep
 * its share of the schedule fails the run's verdict; the answer is more generators (Fargate's price is linear in
 * vCPU), not bigger ones.
 */
export const GENERATOR_TASK_SIZE = { cpu: 1024, memoryMiB: 2048 } as const;

/** Inputs and results expire after this many days; the access and flow logs after LOG_EXPIRY_DAYS. */
export const RESULTS_EXPIRY_DAYS = 30;
export const LOG_EXPIRY_DAYS = 90;

/**
 * The load tester's image, built by SST at deploy time from the repository root with packages/loadtest/Dockerfile.
 * The context is an allow-list: the workspace's manifests and lockfile (`pnpm deploy` installs the package's
 * production dependencies at their locked versions), the package itself without node_modules, and the one file outside
 * it that the package imports by path.
 */
export const GENERATOR_IMAGE = {
  directory: ".",
  file: "packages/loadtest/Dockerfile",
  exclude: [
    "*",
    "!package.json",
    "!pnpm-lock.yaml",
    "!pnpm-workspace.yaml",
    "!.npmrc",
    // A directory left out is not walked, so each parent is let back in before its contents are narrowed.
    "!stacks",
    "stacks/*",
    "!stacks/api-task-size.ts",
    "!packages",
    "packages/*",
    "!packages/loadtest",
    "packages/loadtest/node_modules",
    "packages/loadtest/**/*.test.ts",
    "packages/loadtest/test",
    "packages/loadtest/bench",
  ],
} as const;

/** What the load tester needs to launch generators: the stack's outputs, by name (read by fargate-launcher.ts). */
export const LOAD_GENERATOR_OUTPUTS = ["Region", "ClusterArn", "TaskDefinitionArn", "Subnets", "SecurityGroup", "Bucket", "ContainerName", "LogGroup"] as const;

/** The output naming the operators' policy: what a person or CI role running `--on fargate` attaches, and no more. */
export const OPERATOR_POLICY_OUTPUT = "OperatorPolicyArn";

/**
 * Context key: synthesize the image asset even under test. Synthesis only stages the build context (Docker runs at
 * deploy time), so a test can check the context and the execution role's image grants without Docker.
 */
export const STAGE_GENERATOR_IMAGE_CONTEXT = "checkout:stage-generator-image";

function generatorImage(app: StackContext["app"]): ecs.ContainerImage {
  // Tests synthesize without Docker, as SST's own Service does under test.
  if (app.isRunningSSTTest() && !app.node.tryGetContext(STAGE_GENERATOR_IMAGE_CONTEXT)) return ecs.ContainerImage.fromRegistry("placeholder");
  return ecs.ContainerImage.fromAsset(GENERATOR_IMAGE.directory, {
    file: GENERATOR_IMAGE.file,
    exclude: [...GENERATOR_IMAGE.exclude],
    ignoreMode: IgnoreMode.DOCKER,
    platform: Platform.LINUX_AMD64,
  });
}

export function LoadGenerators({ stack, app }: StackContext) {
  const logBucket = new s3.Bucket(stack, "AccessLogs", {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(LOG_EXPIRY_DAYS), noncurrentVersionExpiration: Duration.days(1) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });

  const bucket = new s3.Bucket(stack, "Runs", {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    // A run written twice under the same prefix keeps the first one's objects for a week.
    versioned: true,
    // Results are evidence of a test: removing the stack keeps them until they expire.
    lifecycleRules: [
      {
        expiration: Duration.days(RESULTS_EXPIRY_DAYS),
        noncurrentVersionExpiration: Duration.days(7),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
    serverAccessLogsBucket: logBucket,
    serverAccessLogsPrefix: "s3/runs/",
    removalPolicy: RemovalPolicy.RETAIN,
  });

  const vpc = new ec2.Vpc(stack, "Vpc", {
    maxAzs: 2,
    natGateways: 0,
    restrictDefaultSecurityGroup: true,
    subnetConfiguration: [{ name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false }],
  });
  // Rejected packets only: nothing may come in, so a reject is someone probing a generator; accepted flows would be
  // every request of the load test, a bill the size of the test.
  vpc.addFlowLog("RejectedFlows", {
    destination: ec2.FlowLogDestination.toS3(logBucket, "vpc-flow-logs/"),
    trafficType: ec2.FlowLogTrafficType.REJECT,
  });

  const securityGroup = new ec2.SecurityGroup(stack, "GeneratorSecurityGroup", {
    vpc,
    description: "Load generators: nothing in; out to the target under test and AWS APIs",
    allowAllOutbound: false,
  });
  // A target may listen on any port (a staging box on 3000, an ALB on 443); DNS goes to the VPC's resolver, which
  // security groups do not filter.
  securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.allTcp(), "the target under test, ECR, S3 and CloudWatch Logs");

  const cluster = new ecs.Cluster(stack, "Cluster", { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

  const logGroup = new logs.LogGroup(stack, "GeneratorLogs", {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });

  // The task role reaches the runs bucket and nothing else: read the job, write results, list a run's keys (without
  // s3:ListBucket a missing key answers 403 instead of 404, and the store could not tell "not yet" from "refused").
  const taskRole = new iam.Role(stack, "GeneratorTaskRole", {
    assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
    description: "Load generator tasks: read and write the runs bucket",
  });
  const taskPolicy = new iam.ManagedPolicy(stack, "GeneratorTaskPolicy", {
    description: "Load generator tasks: the runs bucket's objects (get, put) and its key listing",
    roles: [taskRole],
    statements: [
      new iam.PolicyStatement({ sid: "RunObjects", actions: ["s3:GetObject", "s3:PutObject"], resources: [bucket.arnForObjects("*")] }),
      new iam.PolicyStatement({ sid: "RunKeys", actions: ["s3:ListBucket"], resources: [bucket.bucketArn] }),
    ],
  });

  const taskDefinition = new ecs.FargateTaskDefinition(stack, "GeneratorTask", {
    cpu: GENERATOR_TASK_SIZE.cpu,
    memoryLimitMiB: GENERATOR_TASK_SIZE.memoryMiB,
    runtimePlatform: { operatingSystemFamily: ecs.OperatingSystemFamily.LINUX, cpuArchitecture: ecs.CpuArchitecture.X86_64 },
    taskRole,
  });
  // The root filesystem is read-only; tsx's compile cache and any scratch file go to the task's ephemeral storage.
  taskDefinition.addVolume({ name: "tmp" });
  const container = taskDefinition.addContainer("Generator", {
    containerName: GENERATOR_CONTAINER_NAME,
    image: generatorImage(app),
    essential: true,
    readonlyRootFilesystem: true,
    // The run's arguments come from RunTask's override; without one the task prints the usage and exits.
    command: ["--help"],
    logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: "generator", mode: ecs.AwsLogDriverMode.NON_BLOCKING, maxBufferSize: Size.mebibytes(25) }),
    // A generator asked to stop writes what it has measured before it exits.
    stopTimeout: Duration.seconds(30),
  });
  container.addMountPoints({ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false });

  const operatorPolicy = operatorPolicyFor(stack, { cluster, taskDefinition, taskRole, bucket });

  applyLoadGeneratorSuppressions({ logBucket, bucket, vpc, taskDefinition, taskPolicy, operatorPolicy, logGroup });

  const outputs: Record<(typeof LOAD_GENERATOR_OUTPUTS)[number], string> = {
    Region: stack.region,
    ClusterArn: cluster.clusterArn,
    TaskDefinitionArn: taskDefinition.taskDefinitionArn,
    Subnets: vpc.publicSubnets.map((subnet) => subnet.subnetId).join(","),
    SecurityGroup: securityGroup.securityGroupId,
    Bucket: bucket.bucketName,
    ContainerName: GENERATOR_CONTAINER_NAME,
    LogGroup: logGroup.logGroupName,
  };
  stack.addOutputs({ ...outputs, [OPERATOR_POLICY_OUTPUT]: operatorPolicy.managedPolicyArn });

  return { vpc, cluster, taskDefinition, taskRole, taskPolicy, operatorPolicy, bucket, logBucket, logGroup, securityGroup, outputs };
}

/**
 * What the credentials running the coordinator (`checkout-loadtest run … --on fargate`) need, as one managed policy
 * attached to nothing: an operator's role, a CI role or an SSO permission set attaches it. Start this stack's task
 * definition in this cluster only, tag the tasks it starts as it starts them, watch and stop this cluster's tasks, hand
 * ECS the generator's two roles and no other, and read and write the runs bucket.
 */
function operatorPolicyFor(
  stack: StackContext["stack"],
  resources: { cluster: ecs.Cluster; taskDefinition: ecs.FargateTaskDefinition; taskRole: iam.Role; bucket: s3.Bucket },
): iam.ManagedPolicy {
  const { cluster, taskDefinition, taskRole, bucket } = resources;
  const inCluster = { ArnEquals: { "ecs:cluster": cluster.clusterArn } };
  const clusterTasks = stack.formatArn({ service: "ecs", resource: "task", resourceName: `${cluster.clusterName}/*` });
  return new iam.ManagedPolicy(stack, "OperatorPolicy", {
    description: "Load test operators: start, watch and stop this stack's generator tasks and use its runs bucket",
    statements: [
      new iam.PolicyStatement({ sid: "StartGenerators", actions: ["ecs:RunTask"], resources: [taskDefinition.taskDefinitionArn], conditions: inCluster }),
      new iam.PolicyStatement({
        sid: "TagOnStart",
        actions: ["ecs:TagResource"],
        resources: [clusterTasks],
        conditions: { StringEquals: { "ecs:CreateAction": "RunTask" } },
      }),
      new iam.PolicyStatement({ sid: "WatchAndStop", actions: ["ecs:DescribeTasks", "ecs:StopTask"], resources: [clusterTasks], conditions: inCluster }),
      new iam.PolicyStatement({
        sid: "PassGeneratorRoles",
        actions: ["iam:PassRole"],
        resources: [taskRole.roleArn, taskDefinition.obtainExecutionRole().roleArn],
        conditions: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      }),
      new iam.PolicyStatement({ sid: "RunObjects", actions: ["s3:GetObject", "s3:PutObject"], resources: [bucket.arnForObjects("*")] }),
      new iam.PolicyStatement({ sid: "RunKeys", actions: ["s3:ListBucket"], resources: [bucket.bucketArn] }),
    ],
  });
}

/** Each rule this stack does not meet, with why; compliance.ts's registry lists them for review. */
function applyLoadGeneratorSuppressions(resources: {
  logBucket: s3.Bucket;
  bucket: s3.Bucket;
  vpc: ec2.Vpc;
  taskDefinition: ecs.FargateTaskDefinition;
  taskPolicy: iam.ManagedPolicy;
  operatorPolicy: iam.ManagedPolicy;
  logGroup: logs.LogGroup;
}): void {
  const { logBucket, bucket, vpc, taskDefinition, taskPolicy, operatorPolicy, logGroup } = resources;
  const noCardholderData = "The load generators' stack is outside the cardholder-data environment: its";
  suppress(bucket, [
    {
      rule: "PCI.DSS.321-S3DefaultEncryptionKMS",
      reason: `${noCardholderData} bucket holds load-test scripts and measured results (counters and latency histograms), encrypted at rest with S3-managed keys, so no key to pay for and grant to every reader.`,
    },
    {
      rule: "PCI.DSS.321-S3BucketReplicationEnabled",
      reason:
        "A run's inputs and results expire after 30 days and a lost result is made again by running the test again, so a replica would double the cost of nothing irreplaceable.",
    },
  ]);
  suppress(logBucket, [
    {
      rule: "PCI.DSS.321-S3DefaultEncryptionKMS",
      reason: `${noCardholderData} log bucket holds S3 access logs and rejected-flow records of short-lived generators, encrypted at rest with S3-managed keys, which S3 log delivery writes without a key grant.`,
    },
    {
      rule: "PCI.DSS.321-S3BucketReplicationEnabled",
      reason: "The logs of on-demand load tests are kept 90 days for review and are not the shop's audit trail, which the shop's own stages keep and replicate.",
    },
  ]);
  for (const subnet of vpc.publicSubnets) {
    suppress(subnet, [
      {
        rule: "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
        reason:
          "The generators' only way out is the internet gateway (there is no NAT gateway, by design, to cost nothing between runs); their security group admits nothing in, so the default route carries only their own outbound requests.",
      },
    ]);
  }
  suppress(logGroup, [
    {
      rule: "PCI.DSS.321-CloudWatchLogGroupEncrypted",
      reason: `${noCardholderData} log group holds the generators' progress lines and errors, which CloudWatch Logs encrypts at rest with its own keys.`,
    },
  ]);
  suppress(taskPolicy, [
    {
      rule: "AwsSolutions-IAM5",
      reason:
        "A run's keys are chosen at run time under s3://bucket/<run prefix>/, so the generators may get and put any object of this one bucket, which holds nothing but load-test runs; they can neither delete objects nor reach any other bucket.",
      appliesTo: [{ regex: "/^Resource::<Runs[0-9A-F]{8}\\.Arn>\\/\\*$/g" }],
    },
  ]);
  suppress(operatorPolicy, [
    {
      rule: "AwsSolutions-IAM5",
      reason:
        "A generator task's id is chosen by ECS when it starts, so watching, stopping and tagging name this one cluster's tasks (cluster/*, and RunTask, DescribeTasks and StopTask are also held to the cluster by condition); a run's keys are chosen at run time in this one bucket of load-test runs.",
      appliesTo: [{ regex: "/^Resource::arn:<AWS::Partition>:ecs:.*:task\\/<Cluster[0-9A-F]{8}>\\/\\*$/g" }, { regex: "/^Resource::<Runs[0-9A-F]{8}\\.Arn>\\/\\*$/g" }],
    },
  ]);
  suppress(taskDefinition.obtainExecutionRole(), [
    {
      rule: "PCI.DSS.321-IAMNoInlinePolicy",
      reason:
        "The execution role's policy is the one CDK derives from this task's grants (its log group and its image repository), attached to this role alone and versioned with the stack.",
    },
    {
      rule: "AwsSolutions-IAM5",
      reason:
        "When the image is attached at deploy time, pulling it needs ecr:GetAuthorizationToken, an action with no resource-level permissions, so it is granted on * while the layer actions stay scoped to the repository.",
      appliesTo: ["Resource::*"],
    },
  ]);
}
