// API: the tRPC server as an SST Service on ECS Fargate behind an HTTPS ALB with WAF, autoscaling and blue/green.
import { existsSync } from "node:fs";
import { API_TASK_SIZE } from "./api-task-size.ts";
import { Duration, IgnoreMode, RemovalPolicy, Size, Stack } from "aws-cdk-lib";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import type * as ses from "aws-cdk-lib/aws-ses";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from "aws-cdk-lib/cx-api";
import { Construct } from "constructs";
import { Service, use, type ServiceProps, type StackContext } from "sst/constructs";
import { createAdminTokens } from "./admin-tokens.ts";
import {
  APP_CONTAINER_NAME,
  CONTAINER_HEALTH_CHECK,
  CONTAINER_USER,
  DATABASE_SSL_MODE,
  MAX_BODY_BYTES,
  MIGRATE_COMMAND,
  MIGRATE_CONTAINER_NAME,
  RDS_CA_BUNDLE_PATH,
  SMTP_SECRET_KEY,
  TARGET_GROUP_HEALTH_CHECK,
  ADMIN_TOKENS,
} from "./api-task-contract.ts";
import { createWebAcl, METRICS_PATH } from "./api-waf.ts";
import { createAuditAnchorBucket, grantAnchorWrites } from "./audit-anchor.ts";
import { suppressNewFindings, suppressReviewedFindings } from "./api-findings.ts";
import { addRequestsPerTargetScaling, createDeploymentAlarms, SCALING } from "./api-guards.ts";
import { enableBlueGreen } from "./blue-green.ts";
import { EcsManagedListenerRule } from "./listener-rules.ts";
import { createMail } from "./mail.ts";
import { stageConfig } from "./config.ts";
import { Database } from "./Database.ts";
import { acceptedOriginSecretGenerations, FIRST_ORIGIN_SECRET_GENERATION, ORIGIN_VERIFY_HEADER, originSecretName, VIEWER_ADDRESS_HEADER } from "./edge-origin.ts";
import { Network, SERVICE_PORT } from "./Network.ts";
import { localApi, type LocalApiOutputs } from "./api-local.ts";

/** The ALB closes a connection idle this long; Node keeps its side open longer so the ALB never reuses a closed one. */
export const ALB_IDLE_TIMEOUT_SECONDS = 60;
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Graceful shutdown: the server drains for up to SHUTDOWN_TIMEOUT_MS after SIGTERM; ECS waits STOP_TIMEOUT before SIGKILL. */
export const SHUTDOWN_TIMEOUT_MS = 25_000;
export const STOP_TIMEOUT_SECONDS = 40;
/** The ALB stops sending new requests to a task and lets in-flight ones finish for this long before ECS stops it. */
export const DEREGISTRATION_DELAY_SECONDS = 30;
export { HEALTH_CHECK_PATH, TARGET_GROUP_HEALTH_CHECK, smtpSecretName, adminTokensSecretName } from "./api-task-contract.ts";
export { METRICS_PATH, WAF_RATE_LIMIT_PER_5_MINUTES } from "./api-waf.ts";
export { DEPLOYMENT_ALARMS, SCALING } from "./api-guards.ts";
/** How long blue keeps running after production traffic moved to green: the window for an instant rollback. */
export const BAKE_TIME_MINUTES = 10;
/** Green answers here before production shifts to it; the ALB security group keeps the port closed to the internet. */
export const TEST_LISTENER_PORT = 8443;

/** The payment processor's settings, created by the operator before the first deploy (docs/DEPLOY.md). */
export function paymentSecretName(stage: string): string {
  return `checkout/${stage}/payment-provider`;
}

export interface ApiOutputs {
  service: Service;
  fargateService: ecs.FargateService;
  alb: elbv2.ApplicationLoadBalancer;
  httpsListener: elbv2.ApplicationListener;
  /** Blue starts as production; ECS swaps the roles of the two groups at every blue/green deployment. */
  targetGroups: { blue: elbv2.ApplicationTargetGroup; green: elbv2.ApplicationTargetGroup };
  /** The ALB's public name (stage config domain.api): CloudFront's origin for /trpc/* and the health paths. */
  apiDomain: string;
  deploymentAlarms: { errorRate: cloudwatch.Alarm; unhealthyTargets: cloudwatch.Alarm };
  webAcl: wafv2.CfnWebACL;
  /** What CloudFront must send the ALB: the header and the Secrets Manager name of the generation the WAF now expects. */
  originVerify: { headerName: string; secretName: string; secrets: secretsmanager.Secret[] };
  /** The bearer token the API asks for on /metrics (a generated secret, given to the task as METRICS_TOKEN). */
  metricsToken: secretsmanager.Secret;
  /** ADMIN_API_TOKENS' secret (`checkout/<stage>/admin-api-tokens`, JSON key `tokens`). */
  adminTokens: secretsmanager.Secret;
  /** The SES sending identity for the stage's web domain (MAIL_FROM is an address of it). */
  mailIdentity: ses.EmailIdentity;
  /** Where the API anchors the audit chain's head (Object Lock, COMPLIANCE). */
  auditAnchorBucket: s3.Bucket;
  /** The two listener rules ECS moves traffic on, owned by ECS once created (stacks/listener-rules.ts). */
  listenerRules: { production: EcsManagedListenerRule; test: EcsManagedListenerRule };
}

/** What packages/api/Dockerfile copies: produced by `pnpm --filter @checkout/api bundle`, not by the Docker build. */
export const BUNDLED_SERVER = "packages/api/dist/server.mjs";

/** Fails a deploy at synthesis with the command to run, rather than later on a Docker COPY of a missing file. */
function requireBundledServer(app: StackContext["app"]): void {
  if (app.mode !== "deploy" || app.isRunningSSTTest() || existsSync(BUNDLED_SERVER)) return;
  throw new Error(`${BUNDLED_SERVER} is missing: run \`pnpm --filter @checkout/api bundle\` before deploying (the API image copies the bundled server).`);
}

const SST_CPUS = ["0.25 vCPU", "0.5 vCPU", "1 vCPU", "2 vCPU", "4 vCPU", "8 vCPU", "16 vCPU"] as const;

/** API_TASK_SIZE in the units SST's Service takes. */
function sstTaskSize(size: { cpu: number; memoryMiB: number }): { cpu: NonNullable<ServiceProps["cpu"]>; memory: NonNullable<ServiceProps["memory"]> } {
  const cpu = SST_CPUS.find((name) => name === `${size.cpu / 1024} vCPU`);
  if (!cpu || size.memoryMiB % 1024 !== 0) throw new Error(`API_TASK_SIZE ${size.cpu}/${size.memoryMiB} has no SST Service equivalent`);
  return { cpu, memory: `${size.memoryMiB / 1024} GB` };
}

export function Api({ stack, app }: StackContext): ApiOutputs | LocalApiOutputs {
  // `sst dev`, `sst bind` and `sst remove`: the API runs locally (or is being removed); SST builds no ECS service.
  if (app.mode !== "deploy") return localApi(stack, app.stage);
  const config = stageConfig(app.stage);
  const network = use(Network);
  const database = use(Database);
  const { vpc, key } = network;
  // Network.ts owns every security-group rule; read-only views stop CDK from adding rules of its own here.
  const albSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, "AlbSecurityGroupView", network.securityGroups.alb.securityGroupId, { mutable: false });
  const serviceSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, "ServiceSecurityGroupView", network.securityGroups.service.securityGroupId, {
    mutable: false,
  });
  const logRetention = config.isProduction ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH;

  // ---- Access logs: ALB → bucket (SSE-S3: the only encryption ALB log delivery supports) → its own access-log bucket.
  const logBucketProps: s3.BucketProps = {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ expiration: Duration.days(config.isProduction ? 400 : 90), noncurrentVersionExpiration: Duration.days(30) }],
    // Audit logs outlive the stack: `sst remove` leaves them for their lifecycle rule to expire.
    removalPolicy: RemovalPolicy.RETAIN,
  };
  // S3 server access logs delivered under a bucket policy, not the log-delivery ACL (ACLs stay disabled); the flag is
  // CDK's own, scoped to these two buckets rather than set for the whole app.
  const accessLogs = new Construct(stack, "AccessLogs");
  accessLogs.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
  const serverAccessLogs = new s3.Bucket(accessLogs, "AlbLogsAccessLogs", logBucketProps);
  const albLogs = new s3.Bucket(accessLogs, "AlbAccessLogs", { ...logBucketProps, serverAccessLogsBucket: serverAccessLogs, serverAccessLogsPrefix: "alb-access-logs/" });

  // ---- Load balancer and listeners.
  const alb = new elbv2.ApplicationLoadBalancer(stack, "LoadBalancer", {
    vpc,
    internetFacing: true,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    securityGroup: albSecurityGroup,
    dropInvalidHeaderFields: true,
    idleTimeout: Duration.seconds(ALB_IDLE_TIMEOUT_SECONDS),
    deletionProtection: config.isProduction,
  });
  alb.logAccessLogs(albLogs, "alb");

  const targetGroupProps: elbv2.ApplicationTargetGroupProps = {
    vpc,
    port: SERVICE_PORT,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targetType: elbv2.TargetType.IP,
    deregistrationDelay: Duration.seconds(DEREGISTRATION_DELAY_SECONDS),
    loadBalancingAlgorithmType: elbv2.TargetGroupLoadBalancingAlgorithmType.LEAST_OUTSTANDING_REQUESTS,
    // Liveness only (TARGET_GROUP_HEALTH_CHECK): a database failover must not take every task out of service.
    healthCheck: {
      path: TARGET_GROUP_HEALTH_CHECK.path,
      healthyHttpCodes: "200",
      interval: Duration.seconds(TARGET_GROUP_HEALTH_CHECK.intervalSeconds),
      timeout: Duration.seconds(TARGET_GROUP_HEALTH_CHECK.timeoutSeconds),
      healthyThresholdCount: TARGET_GROUP_HEALTH_CHECK.healthyThreshold,
      unhealthyThresholdCount: TARGET_GROUP_HEALTH_CHECK.unhealthyThreshold,
    },
  };
  const blue = new elbv2.ApplicationTargetGroup(stack, "TargetGroupBlue", targetGroupProps);
  const green = new elbv2.ApplicationTargetGroup(stack, "TargetGroupGreen", targetGroupProps);
  // Every action on the HTTPS listeners forwards to both groups: ECS moves the weights, and ECS blue/green rejects
  // listeners that mix forward with redirect or fixed-response actions.
  const forwardToBlueAndGreen = () =>
    elbv2.ListenerAction.weightedForward([
      { targetGroup: blue, weight: 100 },
      { targetGroup: green, weight: 0 },
    ]);
  const certificates = [elbv2.ListenerCertificate.fromArn(config.apiCertificateArn)];

  // No port 80 listener: only CloudFront reaches the ALB, always over HTTPS (Network.ts admits nothing else).
  const httpsListener = alb.addListener("Https", {
    port: 443,
    protocol: elbv2.ApplicationProtocol.HTTPS,
    certificates,
    sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
    open: false,
    defaultAction: forwardToBlueAndGreen(),
  });
  const testListener = alb.addListener("Test", {
    port: TEST_LISTENER_PORT,
    protocol: elbv2.ApplicationProtocol.HTTPS,
    certificates,
    sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
    open: false,
    defaultAction: forwardToBlueAndGreen(),
  });
  // The rules ECS rewrites during a deployment; `/*` matches every request, so the default actions never serve one.
  // Created through a custom resource: CloudFormation never sends their weights again (stacks/listener-rules.ts).
  const blueServesFirst = [
    { targetGroup: blue, weight: 100 },
    { targetGroup: green, weight: 0 },
  ];
  const productionRule = new EcsManagedListenerRule(stack, "ProductionRule", { listener: httpsListener, priority: 1, pathPatterns: ["/*"], initialTargets: blueServesFirst });
  const testRule = new EcsManagedListenerRule(stack, "TestRule", { listener: testListener, priority: 1, pathPatterns: ["/*"], initialTargets: blueServesFirst });

  // ---- The origin secret CloudFront sends and the WAF checks (stacks/edge-origin.ts): one generated secret per
  // generation; the WAF accepts the current and the previous one, so a rotation never refuses CloudFront's requests.
  const generation = config.originSecretGeneration ?? FIRST_ORIGIN_SECRET_GENERATION;
  const originSecrets = acceptedOriginSecretGenerations(generation).map(
    (g) =>
      new secretsmanager.Secret(stack, `OriginSecret${g}`, {
        secretName: originSecretName(app.stage, g),
        description: `checkout ${app.stage}: the ${ORIGIN_VERIFY_HEADER} value CloudFront sends the API load balancer (generation ${g})`,
        encryptionKey: key,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
        removalPolicy: RemovalPolicy.DESTROY,
      }),
  );

  // ---- WAF on the ALB (stacks/api-waf.ts): CloudFront's origin header required, /metrics answered 404, declared bodies
  // over MAX_BODY_BYTES answered 413, AWS's common and known-bad-inputs rule groups, a rate limit per viewer address.
  const webAcl = createWebAcl(stack, { stage: app.stage, key, logRetention, originSecrets });
  new wafv2.CfnWebACLAssociation(stack, "WebAclAssociation", { resourceArn: alb.loadBalancerArn, webAclArn: webAcl.attrArn });

  // ---- The service.
  const cluster = new ecs.Cluster(stack, "Cluster", { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  const logGroup = new logs.LogGroup(stack, "ApiLogs", {
    encryptionKey: key,
    retention: logRetention,
    removalPolicy: config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  const paymentSecret = secretsmanager.Secret.fromSecretNameV2(stack, "PaymentProviderSecret", paymentSecretName(app.stage));
  // The database secret by ARN, without its KMS key: CDK would otherwise grant decryption in the key's policy in the
  // Network stack, naming this stack's role there (a dependency cycle). The role gets kms:Decrypt itself, below.
  const databaseSecret = secretsmanager.Secret.fromSecretAttributes(stack, "DatabaseSecret", { secretCompleteArn: database.secret.secretArn });
  // Generated here, read by the task through a view without its key for the same reason as the database secret.
  const metricsToken = new secretsmanager.Secret(stack, "MetricsToken", {
    description: `checkout ${app.stage}: the bearer token the API asks for on ${METRICS_PATH}`,
    encryptionKey: key,
    generateSecretString: { passwordLength: 48, excludePunctuation: true },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const metricsTokenView = secretsmanager.Secret.fromSecretAttributes(stack, "MetricsTokenView", { secretCompleteArn: metricsToken.secretArn });
  // The API connects as the service role; only the migrate container gets the owner's (master) credentials.
  const serviceRoleSecret = secretsmanager.Secret.fromSecretAttributes(stack, "ServiceRoleSecretView", { secretCompleteArn: database.serviceRoleSecret.secretArn });
  const adminTokens = createAdminTokens(stack, { stage: app.stage, key });
  const adminTokensView = secretsmanager.Secret.fromSecretAttributes(stack, "AdminApiTokensView", { secretCompleteArn: adminTokens.secret.secretArn });
  const mail = createMail(stack, { stage: app.stage, webDomain: config.domain.web });
  const auditAnchorBucket = createAuditAnchorBucket(accessLogs, { isProduction: config.isProduction, key, serverAccessLogs });
  // What both containers need to reach PostgreSQL: TLS verified against the RDS CA bundle shipped in the image.
  const databaseEnvironment = {
    DATABASE_HOST: database.writerEndpoint,
    DATABASE_READ_HOST: database.readerEndpoint,
    DATABASE_PORT: String(database.port),
    DATABASE_NAME: database.databaseName,
    DATABASE_SSL: DATABASE_SSL_MODE,
    DATABASE_SSL_CA: RDS_CA_BUNDLE_PATH,
  };
  const { cpu, memory } = sstTaskSize(API_TASK_SIZE);
  requireBundledServer(app);
  const image = apiImage(app);

  const service = new Service(stack, "Api", {
    path: "packages/api",
    file: "Dockerfile",
    port: SERVICE_PORT,
    cpu,
    memory,
    // Bounds only: SST's own policies scale out no faster than every 5 minutes, so the three policies are added below.
    scaling: {
      minContainers: API_TASK_SIZE.minTasks,
      maxContainers: API_TASK_SIZE.maxTasks,
      cpuUtilization: false,
      memoryUtilization: false,
      requestsPerContainer: false,
    },
    environment: {
      NODE_ENV: "production",
      HOST: "0.0.0.0",
      PORT: String(SERVICE_PORT),
      PUBLIC_URL: `https://${config.domain.web}`,
      LOG_LEVEL: "info",
      // The shopper's address is the one CloudFront vouches for; X-Forwarded-For is never read (requests that did not
      // come through CloudFront are refused by the WAF before they reach a task).
      VIEWER_ADDRESS_HEADER: VIEWER_ADDRESS_HEADER.toLowerCase(),
      TRUST_PROXY: "0",
      KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      PAYMENT_SANDBOX: "false",
      // A real shop loads its own catalogue; dev stages get the demo one.
      SEED_CATALOG: config.isProduction ? "false" : "true",
      ...databaseEnvironment,
      // The migrate container has applied every migration before this one starts; the service only checks.
      MIGRATIONS: "verify",
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      MAIL_FROM: mail.from,
      AUDIT_ANCHOR_BUCKET: auditAnchorBucket.bucketName,
      AWS_REGION: stack.region,
    },
    cdk: {
      vpc,
      cluster,
      cloudfrontDistribution: false,
      // SST would build its own ALB with an HTTP listener; this one is built above and the service attached below.
      applicationLoadBalancer: false,
      fargateService: {
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [serviceSecurityGroup],
        assignPublicIp: false,
        deploymentController: { type: ecs.DeploymentControllerType.ECS },
        circuitBreaker: { enable: true, rollback: true },
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
        healthCheckGracePeriod: Duration.seconds(60),
        enableExecuteCommand: false,
      },
      container: {
        image,
        user: CONTAINER_USER,
        // Non-blocking: a slow log delivery never stalls the event loop (lines are dropped past a 25 MiB buffer instead).
        logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: "api", mode: ecs.AwsLogDriverMode.NON_BLOCKING, maxBufferSize: Size.mebibytes(25) }),
        stopTimeout: Duration.seconds(STOP_TIMEOUT_SECONDS),
        readonlyRootFilesystem: true,
        healthCheck: {
          command: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${SERVICE_PORT}${CONTAINER_HEALTH_CHECK.path}`],
          interval: Duration.seconds(CONTAINER_HEALTH_CHECK.intervalSeconds),
          timeout: Duration.seconds(CONTAINER_HEALTH_CHECK.timeoutSeconds),
          retries: CONTAINER_HEALTH_CHECK.retries,
          startPeriod: Duration.seconds(CONTAINER_HEALTH_CHECK.startPeriodSeconds),
        },
        secrets: {
          DATABASE_USER: ecs.Secret.fromSecretsManager(serviceRoleSecret, "username"),
          DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(serviceRoleSecret, "password"),
          SMTP_URL: ecs.Secret.fromSecretsManager(mail.smtpSecret, SMTP_SECRET_KEY),
          ADMIN_API_TOKENS: ecs.Secret.fromSecretsManager(adminTokensView, ADMIN_TOKENS.jsonKey),
          PAYMENT_PROVIDER_URL: ecs.Secret.fromSecretsManager(paymentSecret, "url"),
          PAYMENT_SECRET_KEY: ecs.Secret.fromSecretsManager(paymentSecret, "secretKey"),
          PAYMENT_WEBHOOK_SECRET: ecs.Secret.fromSecretsManager(paymentSecret, "webhookSecret"),
          METRICS_TOKEN: ecs.Secret.fromSecretsManager(metricsTokenView),
        },
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
      resources: [key.keyArn],
      conditions: { StringEquals: { "kms:ViaService": `secretsmanager.${stack.region}.amazonaws.com` } },
    }),
  );
  blue.addTarget(fargateService);

  // ---- Migrations as the owner, before the service starts as the service role (least privilege in the database).
  const taskDefinition = fargateService.taskDefinition;
  const appContainer = taskDefinition.defaultContainer!;
  if (appContainer.containerName !== APP_CONTAINER_NAME) throw new Error(`SST named the API container ${appContainer.containerName}, not ${APP_CONTAINER_NAME}`);
  const migrate = taskDefinition.addContainer("Migrate", {
    containerName: MIGRATE_CONTAINER_NAME,
    image,
    essential: false,
    command: [...MIGRATE_COMMAND],
    user: CONTAINER_USER,
    readonlyRootFilesystem: true,
    logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: "migrate", mode: ecs.AwsLogDriverMode.NON_BLOCKING, maxBufferSize: Size.mebibytes(25) }),
    environment: { NODE_ENV: "production", LOG_LEVEL: "info", ...databaseEnvironment },
    secrets: {
      DATABASE_USER: ecs.Secret.fromSecretsManager(databaseSecret, "username"),
      DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(databaseSecret, "password"),
      SERVICE_DATABASE_USER: ecs.Secret.fromSecretsManager(serviceRoleSecret, "username"),
      SERVICE_DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(serviceRoleSecret, "password"),
    },
  });
  // A migration that fails stops the task before the service starts: the deployment's circuit breaker rolls it back.
  appContainer.addContainerDependencies({ container: migrate, condition: ecs.ContainerDependencyCondition.SUCCESS });
  grantAnchorWrites(taskDefinition.taskRole, { bucket: auditAnchorBucket, key, region: stack.region });

  // ---- Autoscaling on CPU, memory and requests per target (2–40 tasks from API_TASK_SIZE).
  const cooldowns = { scaleOutCooldown: Duration.seconds(SCALING.scaleOutCooldownSeconds), scaleInCooldown: Duration.seconds(SCALING.scaleInCooldownSeconds) };
  scaling.scaleOnCpuUtilization("CpuScaling", { targetUtilizationPercent: SCALING.cpuPercent, ...cooldowns });
  scaling.scaleOnMemoryUtilization("MemoryScaling", { targetUtilizationPercent: SCALING.memoryPercent, ...cooldowns });
  addRequestsPerTargetScaling(scaling, { alb, blue, green });

  // ---- Deployment guards: the circuit breaker (above) and two alarms; either rolls a deployment back.
  const deploymentAlarms = createDeploymentAlarms(stack, { alb, blue, green });
  fargateService.enableDeploymentAlarms([deploymentAlarms.errorRate.alarmName, deploymentAlarms.unhealthyTargets.alarmName], {
    behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
  });

  // ---- Blue/green: ECS moves production between the two target groups (stacks/blue-green.ts).
  enableBlueGreen(fargateService, { alternateTargetGroup: green, productionRule, testRule, bakeTimeMinutes: BAKE_TIME_MINUTES });

  suppressReviewedFindings({ serverAccessLogs, albLogs, fargateService, originSecrets, metricsToken });
  suppressNewFindings({ stack, listenerRules: [productionRule, testRule], adminTokens, auditAnchorBucket, taskRole: taskDefinition.taskRole });
  stack.addOutputs({
    ApiDomain: config.domain.api,
    LoadBalancerDnsName: alb.loadBalancerDnsName,
    MetricsTokenSecretArn: metricsToken.secretArn,
    AdminApiTokensSecretArn: adminTokens.secret.secretArn,
    AuditAnchorBucket: auditAnchorBucket.bucketName,
    MailFrom: mail.from,
  });

  return {
    service,
    fargateService,
    alb,
    httpsListener,
    targetGroups: { blue, green },
    apiDomain: config.domain.api,
    deploymentAlarms,
    webAcl,
    originVerify: { headerName: ORIGIN_VERIFY_HEADER, secretName: originSecretName(app.stage, generation), secrets: originSecrets },
    metricsToken,
    adminTokens: adminTokens.secret,
    mailIdentity: mail.identity,
    auditAnchorBucket,
    listenerRules: { production: productionRule, test: testRule },
  };
}

/** The API image, built from packages/api/Dockerfile with the options SST's Service uses, shared by both containers. */
function apiImage(app: StackContext["app"]): ecs.ContainerImage {
  // Tests synthesize without Docker, as SST's own Service does under test (it names the image "placeholder").
  if (app.isRunningSSTTest()) return ecs.ContainerImage.fromRegistry("placeholder");
  return ecs.ContainerImage.fromAsset("packages/api", {
    file: "Dockerfile",
    platform: Platform.LINUX_AMD64,
    exclude: [".sst/dist", ".sst/artifacts"],
    ignoreMode: IgnoreMode.GLOB,
  });
}

/**
 * SST's Service always creates a log group (through a LogRetention custom resource and its Lambda) that the
 * container here does not use: it logs to the KMS-encrypted group above. Left in, it would be an unencrypted, empty
 * log group and a Lambda function in the account for nothing.
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
