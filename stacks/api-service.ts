// The API on ECS Fargate: the cluster and the log group, SST's Service (the API container at API_TASK_SIZE with its
// health check and graceful-shutdown timing, in private subnets behind the load balancer), and the migrate container
// that runs before it in the same task.
import { Duration, RemovalPolicy, Size, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import { Service, type ServiceProps } from "sst/constructs";
import { API_TASK_SIZE, apiContainerSizeOf } from "./api-task-size.ts";
import { APP_CONTAINER_NAME, CONTAINER_HEALTH_CHECK, CONTAINER_USER, MIGRATE_COMMAND, MIGRATE_CONTAINER_NAME } from "./api-task-contract.ts";
import { STOP_TIMEOUT_SECONDS } from "./api-timeouts.ts";
import { SERVICE_PORT } from "./Network.ts";

export interface ApiRuntime {
  cluster: ecs.Cluster;
  /** The KMS-encrypted log group both containers write to. */
  logGroup: logs.LogGroup;
}

export interface ApiService {
  service: Service;
  fargateService: ecs.FargateService;
  scaling: ecs.ScalableTaskCount;
}

const SST_CPUS = ["0.25 vCPU", "0.5 vCPU", "1 vCPU", "2 vCPU", "4 vCPU", "8 vCPU", "16 vCPU"] as const;

/** API_TASK_SIZE in the units SST's Service takes. */
function sstTaskSize(size: { cpu: number; memoryMiB: number }): { cpu: NonNullable<ServiceProps["cpu"]>; memory: NonNullable<ServiceProps["memory"]> } {
  const cpu = SST_CPUS.find((name) => name === `${size.cpu / 1024} vCPU`);
  if (!cpu || size.memoryMiB % 1024 !== 0) throw new Error(`API_TASK_SIZE ${size.cpu}/${size.memoryMiB} has no SST Service equivalent`);
  return { cpu, memory: `${size.memoryMiB / 1024} GB` };
}

/** Non-blocking: a slow log delivery never stalls the event loop (lines are dropped past a 25 MiB buffer instead). */
function logDriver(logGroup: logs.ILogGroup, streamPrefix: string): ecs.LogDriver {
  return ecs.LogDrivers.awsLogs({ logGroup, streamPrefix, mode: ecs.AwsLogDriverMode.NON_BLOCKING, maxBufferSize: Size.mebibytes(25) });
}

export function createApiRuntime(stack: Stack, options: { vpc: ec2.IVpc; key: kms.IKey; logRetention: logs.RetentionDays; isProduction: boolean }): ApiRuntime {
  const cluster = new ecs.Cluster(stack, "Cluster", { vpc: options.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  const logGroup = new logs.LogGroup(stack, "ApiLogs", {
    encryptionKey: options.key,
    retention: options.logRetention,
    removalPolicy: options.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  return { cluster, logGroup };
}

/**
 * SST's Service with the API container. It gets no load balancer, no CloudFront and no scaling policies of its own:
 * the load balancer (stacks/api-load-balancer.ts) and the scaling policies (stacks/api-guards.ts) are added by the
 * caller. The execution role may decrypt the task's secrets with the stage's key.
 */
export function createApiService(
  stack: Stack,
  options: {
    runtime: ApiRuntime;
    vpc: ec2.IVpc;
    securityGroupId: string;
    key: kms.IKey;
    image: ecs.ContainerImage;
    environment: Record<string, string>;
    secrets: Record<string, ecs.Secret>;
  },
): ApiService {
  const { runtime, vpc } = options;
  // Network.ts owns every security-group rule; a read-only view stops CDK from adding rules of its own here.
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, "ServiceSecurityGroupView", options.securityGroupId, { mutable: false });
  const { cpu, memory } = sstTaskSize(API_TASK_SIZE);
  const service = new Service(stack, "Api", {
    path: "packages/api",
    file: "Dockerfile",
    port: SERVICE_PORT,
    cpu,
    memory,
    // Bounds only: SST's own policies scale out no faster than every 5 minutes, so the three policies are added by the caller.
    scaling: {
      minContainers: API_TASK_SIZE.minTasks,
      maxContainers: API_TASK_SIZE.maxTasks,
      cpuUtilization: false,
      memoryUtilization: false,
      requestsPerContainer: false,
    },
    environment: options.environment,
    cdk: {
      vpc,
      cluster: runtime.cluster,
      cloudfrontDistribution: false,
      // SST would build its own ALB with an HTTP listener; the caller attaches the service to the one it built.
      applicationLoadBalancer: false,
      fargateService: {
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [securityGroup],
        assignPublicIp: false,
        deploymentController: { type: ecs.DeploymentControllerType.ECS },
        circuitBreaker: { enable: true, rollback: true },
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
        healthCheckGracePeriod: Duration.seconds(60),
        enableExecuteCommand: false,
      },
      container: {
        image: options.image,
        // The task less the tracing collector's share (stacks/api-tracing.ts): reservations, so idle CPU and memory stay usable.
        cpu: apiContainerSizeOf(API_TASK_SIZE).cpu,
        memoryReservationMiB: apiContainerSizeOf(API_TASK_SIZE).memoryMiB,
        user: CONTAINER_USER,
        logging: logDriver(runtime.logGroup, "api"),
        stopTimeout: Duration.seconds(STOP_TIMEOUT_SECONDS),
        readonlyRootFilesystem: true,
        healthCheck: {
          command: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${SERVICE_PORT}${CONTAINER_HEALTH_CHECK.path}`],
          interval: Duration.seconds(CONTAINER_HEALTH_CHECK.intervalSeconds),
          timeout: Duration.seconds(CONTAINER_HEALTH_CHECK.timeoutSeconds),
          retries: CONTAINER_HEALTH_CHECK.retries,
          startPeriod: Duration.seconds(CONTAINER_HEALTH_CHECK.startPeriodSeconds),
        },
        secrets: options.secrets,
      },
    },
  });
  const fargateService = service.cdk!.fargateService!;
  const scaling = service.cdk!.scaling!;
  removeUnusedSstLogGroup(service);
  fargateService.taskDefinition.obtainExecutionRole().addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: "DecryptTaskSecrets",
      actions: ["kms:Decrypt"],
      resources: [options.key.keyArn],
      conditions: { StringEquals: { "kms:ViaService": `secretsmanager.${stack.region}.amazonaws.com` } },
    }),
  );
  return { service, fargateService, scaling };
}

/**
 * Migrations as the owner, before the service starts as the service role (least privilege in the database). A
 * migration that fails stops the task before the service starts: the deployment's circuit breaker rolls it back.
 */
export function addMigrateContainer(
  taskDefinition: ecs.TaskDefinition,
  options: { image: ecs.ContainerImage; logGroup: logs.ILogGroup; environment: Record<string, string>; secrets: Record<string, ecs.Secret> },
): ecs.ContainerDefinition {
  const appContainer = taskDefinition.defaultContainer!;
  if (appContainer.containerName !== APP_CONTAINER_NAME) throw new Error(`SST named the API container ${appContainer.containerName}, not ${APP_CONTAINER_NAME}`);
  const migrate = taskDefinition.addContainer("Migrate", {
    containerName: MIGRATE_CONTAINER_NAME,
    image: options.image,
    essential: false,
    command: [...MIGRATE_COMMAND],
    user: CONTAINER_USER,
    readonlyRootFilesystem: true,
    logging: logDriver(options.logGroup, "migrate"),
    environment: options.environment,
    secrets: options.secrets,
  });
  appContainer.addContainerDependencies({ container: migrate, condition: ecs.ContainerDependencyCondition.SUCCESS });
  return migrate;
}

/**
 * SST's Service always creates a log group (through a LogRetention custom resource and its Lambda) that the
 * container here does not use: it logs to the KMS-encrypted group of createApiRuntime. Left in, it would be an
 * unencrypted, empty log group and a Lambda function in the account for nothing.
 */
function removeUnusedSstLogGroup(service: Service): void {
  service.node.tryRemoveChild("LogRetention");
  const stack = Stack.of(service);
  const stillUsed = stack.node.findAll().some((construct) => construct instanceof logs.LogRetention);
  if (!stillUsed) {
    for (const child of stack.node.children) {
      if (child.node.id.startsWith("LogRetention")) stack.node.tryRemoveChild(child.node.id);
    }
  }
}
