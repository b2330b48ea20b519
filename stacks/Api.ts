// API: the tRPC server as an SST Service on ECS Fargate behind an HTTPS ALB with WAF, autoscaling and blue/green.
// This file composes the stack; each part is built in the file named beside it.
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as ses from "aws-cdk-lib/aws-ses";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import { use, type Service, type StackContext } from "sst/constructs";
import { appEnvironment, migrateEnvironment } from "./api-environment.ts";
import { suppressNewFindings, suppressReviewedFindings } from "./api-findings.ts";
import { addAutoscaling, guardDeployments, type DeploymentAlarms } from "./api-guards.ts";
import { apiImage, requireBundledServer } from "./api-image.ts";
import { createAccessLogs, createLoadBalancer } from "./api-load-balancer.ts";
import { localApi, type LocalApiOutputs } from "./api-local.ts";
import { addMigrateContainer, createApiRuntime, createApiService } from "./api-service.ts";
import { addTracingCollector } from "./api-tracing.ts";
import { appContainerSecrets, createTaskSecrets, migrateContainerSecrets } from "./api-task-secrets.ts";
import { createOriginSecrets, createWebAcl } from "./api-waf.ts";
import { createAuditAnchorBucket, grantAnchorWrites } from "./audit-anchor.ts";
import { enableBlueGreen } from "./blue-green.ts";
import { stageConfig } from "./config.ts";
import { Database } from "./Database.ts";
import { FIRST_ORIGIN_SECRET_GENERATION, ORIGIN_VERIFY_HEADER, originSecretName } from "./edge-origin.ts";
import type { EcsManagedListenerRule } from "./listener-rules.ts";
import { createMail } from "./mail.ts";
import { Network } from "./Network.ts";

/** How long blue keeps running after production traffic moved to green: the window for an instant rollback. */
export const BAKE_TIME_MINUTES = 10;

export interface ApiOutputs {
  service: Service;
  fargateService: ecs.FargateService;
  alb: elbv2.ApplicationLoadBalancer;
  httpsListener: elbv2.ApplicationListener;
  /** Blue starts as production; ECS swaps the roles of the two groups at every blue/green deployment. */
  targetGroups: { blue: elbv2.ApplicationTargetGroup; green: elbv2.ApplicationTargetGroup };
  /** The ALB's public name (stage config domain.api): CloudFront's origin for /trpc/* and the health paths. */
  apiDomain: string;
  deploymentAlarms: DeploymentAlarms;
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

export function Api({ stack, app }: StackContext): ApiOutputs | LocalApiOutputs {
  // `sst dev`, `sst bind` and `sst remove`: the API runs locally (or is being removed); SST builds no ECS service.
  if (app.mode !== "deploy") return localApi(stack, app.stage);
  const config = stageConfig(app.stage);
  const network = use(Network);
  const database = use(Database);
  const { vpc, key } = network;
  const { isProduction } = config;
  const logRetention = isProduction ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH;

  // ---- The way in (stacks/api-load-balancer.ts): access-log buckets, the HTTPS ALB, blue and green, the listener rules.
  const accessLogs = createAccessLogs(stack, { isProduction });
  const balancer = createLoadBalancer(stack, {
    isProduction,
    vpc,
    securityGroupId: network.securityGroups.alb.securityGroupId,
    certificateArn: config.apiCertificateArn,
    albLogs: accessLogs.albLogs,
  });
  const { alb, blue, green, listenerRules } = balancer;

  // ---- WAF on the ALB (stacks/api-waf.ts): CloudFront's origin secret required (the current and the previous
  // generation), /metrics answered 404, declared bodies over MAX_BODY_BYTES answered 413, AWS's common and
  // known-bad-inputs rule groups, a rate limit per viewer address.
  const generation = config.originSecretGeneration ?? FIRST_ORIGIN_SECRET_GENERATION;
  const originSecrets = createOriginSecrets(stack, { stage: app.stage, generation, key });
  const webAcl = createWebAcl(stack, { stage: app.stage, key, logRetention, originSecrets });
  new wafv2.CfnWebACLAssociation(stack, "WebAclAssociation", { resourceArn: alb.loadBalancerArn, webAclArn: webAcl.attrArn });

  // ---- What the task runs in and reads: the cluster and its log group (stacks/api-service.ts), the secrets
  // (stacks/api-task-secrets.ts), mail through SES (stacks/mail.ts), the audit anchors' bucket (stacks/audit-anchor.ts).
  const runtime = createApiRuntime(stack, { vpc, key, logRetention, isProduction });
  const secrets = createTaskSecrets(stack, { stage: app.stage, key, database });
  const mail = createMail(stack, { stage: app.stage, webDomain: config.domain.web });
  const auditAnchorBucket = createAuditAnchorBucket(accessLogs.scope, { isProduction, key, serverAccessLogs: accessLogs.serverAccessLogs });

  // ---- The service (stacks/api-service.ts), its environment (stacks/api-environment.ts), blue serving first, and the
  // migrate container before it in the same task.
  requireBundledServer(app);
  const image = apiImage(app);
  const { service, fargateService, scaling } = createApiService(stack, {
    runtime,
    vpc,
    securityGroupId: network.securityGroups.service.securityGroupId,
    key,
    image,
    environment: appEnvironment({ config, database, mailFrom: mail.from, auditAnchorBucket: auditAnchorBucket.bucketName, region: stack.region }),
    secrets: appContainerSecrets(secrets, mail.smtpSecret),
  });
  blue.addTarget(fargateService);
  const { taskDefinition } = fargateService;
  addMigrateContainer(taskDefinition, { image, logGroup: runtime.logGroup, environment: migrateEnvironment(database), secrets: migrateContainerSecrets(secrets) });
  grantAnchorWrites(taskDefinition.taskRole, { bucket: auditAnchorBucket, key, region: stack.region });
  // The collector the API sends its spans to, beside it in the task, exporting to X-Ray (stacks/api-tracing.ts).
  addTracingCollector(taskDefinition, { logGroup: runtime.logGroup, region: stack.region });

  // ---- Autoscaling on CPU, memory and requests per target, and the deployment guards: the circuit breaker and two
  // alarms, either rolls a deployment back (stacks/api-guards.ts).
  addAutoscaling(scaling, balancer);
  const deploymentAlarms = guardDeployments(stack, fargateService, balancer);

  // ---- Blue/green: ECS moves production between the two target groups (stacks/blue-green.ts).
  enableBlueGreen(fargateService, { alternateTargetGroup: green, productionRule: listenerRules.production, testRule: listenerRules.test, bakeTimeMinutes: BAKE_TIME_MINUTES });

  const { metricsToken, adminTokens } = secrets;
  suppressReviewedFindings({ serverAccessLogs: accessLogs.serverAccessLogs, albLogs: accessLogs.albLogs, fargateService, originSecrets, metricsToken });
  suppressNewFindings({ stack, listenerRules: [listenerRules.production, listenerRules.test], adminTokens, auditAnchorBucket, taskRole: taskDefinition.taskRole });
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
    httpsListener: balancer.httpsListener,
    targetGroups: { blue, green },
    apiDomain: config.domain.api,
    deploymentAlarms,
    webAcl,
    originVerify: { headerName: ORIGIN_VERIFY_HEADER, secretName: originSecretName(app.stage, generation), secrets: originSecrets },
    metricsToken,
    adminTokens: adminTokens.secret,
    mailIdentity: mail.identity,
    auditAnchorBucket,
    listenerRules,
  };
}
