// The API's way in: the HTTPS load balancer with its access-log buckets, the blue and green target groups, the
// production and test listeners, and the listener rules ECS moves traffic on during a blue/green deployment.
import { Duration, RemovalPolicy, type Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as s3 from "aws-cdk-lib/aws-s3";
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from "aws-cdk-lib/cx-api";
import { Construct } from "constructs";
import { TARGET_GROUP_HEALTH_CHECK } from "./api-task-contract.ts";
import { ALB_IDLE_TIMEOUT_SECONDS, DEREGISTRATION_DELAY_SECONDS } from "./api-timeouts.ts";
import { EcsManagedListenerRule } from "./listener-rules.ts";
import { SERVICE_PORT } from "./Network.ts";

/** Green answers here before production shifts to it; the ALB security group keeps the port closed to the internet. */
export const TEST_LISTENER_PORT = 8443;

export interface AccessLogs {
  /** Delivers S3 server access logs under a bucket policy: every bucket that logs to serverAccessLogs lives in it. */
  scope: Construct;
  /** Where the log buckets' own access logs go. */
  serverAccessLogs: s3.Bucket;
  /** The ALB's access logs. */
  albLogs: s3.Bucket;
}

export interface LoadBalancer {
  alb: elbv2.ApplicationLoadBalancer;
  httpsListener: elbv2.ApplicationListener;
  /** Blue starts as production; ECS swaps the roles of the two groups at every blue/green deployment. */
  blue: elbv2.ApplicationTargetGroup;
  green: elbv2.ApplicationTargetGroup;
  /** The two listener rules ECS moves traffic on, owned by ECS once created (stacks/listener-rules.ts). */
  listenerRules: { production: EcsManagedListenerRule; test: EcsManagedListenerRule };
}

/** ALB → bucket (SSE-S3: the only encryption ALB log delivery supports) → its own access-log bucket. */
export function createAccessLogs(stack: Stack, options: { isProduction: boolean }): AccessLogs {
  const logBucketProps: s3.BucketProps = {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ expiration: Duration.days(options.isProduction ? 400 : 90), noncurrentVersionExpiration: Duration.days(30) }],
    // Audit logs outlive the stack: `sst remove` leaves them for their lifecycle rule to expire.
    removalPolicy: RemovalPolicy.RETAIN,
  };
  // S3 server access logs delivered under a bucket policy, not the log-delivery ACL (ACLs stay disabled); the flag is
  // CDK's own, scoped to the buckets in this construct rather than set for the whole app.
  const scope = new Construct(stack, "AccessLogs");
  scope.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
  const serverAccessLogs = new s3.Bucket(scope, "AlbLogsAccessLogs", logBucketProps);
  const albLogs = new s3.Bucket(scope, "AlbAccessLogs", { ...logBucketProps, serverAccessLogsBucket: serverAccessLogs, serverAccessLogsPrefix: "alb-access-logs/" });
  return { scope, serverAccessLogs, albLogs };
}

export function createLoadBalancer(
  stack: Stack,
  options: { isProduction: boolean; vpc: ec2.IVpc; securityGroupId: string; certificateArn: string; albLogs: s3.IBucket },
): LoadBalancer {
  const { vpc } = options;
  // Network.ts owns every security-group rule; a read-only view stops CDK from adding rules of its own here.
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, "AlbSecurityGroupView", options.securityGroupId, { mutable: false });
  const alb = new elbv2.ApplicationLoadBalancer(stack, "LoadBalancer", {
    vpc,
    internetFacing: true,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    securityGroup,
    dropInvalidHeaderFields: true,
    idleTimeout: Duration.seconds(ALB_IDLE_TIMEOUT_SECONDS),
    deletionProtection: options.isProduction,
  });
  alb.logAccessLogs(options.albLogs, "alb");

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
  const certificates = [elbv2.ListenerCertificate.fromArn(options.certificateArn)];

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
  const production = new EcsManagedListenerRule(stack, "ProductionRule", { listener: httpsListener, priority: 1, pathPatterns: ["/*"], initialTargets: blueServesFirst });
  const test = new EcsManagedListenerRule(stack, "TestRule", { listener: testListener, priority: 1, pathPatterns: ["/*"], initialTargets: blueServesFirst });
  return { alb, httpsListener, blue, green, listenerRules: { production, test } };
}
