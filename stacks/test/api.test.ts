// Api stack, resource by resource: the HTTPS ALB with WAF and access logs, the Fargate service at API_TASK_SIZE with its
// graceful-shutdown timings, autoscaling 2–40, the rollback guards and ECS-native blue/green; no unsuppressed cdk-nag
// finding.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { App as CdkApp, IgnoreMode, Stack } from "aws-cdk-lib";
import { DockerImageAsset } from "aws-cdk-lib/aws-ecr-assets";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import type { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { beforeAll, describe, expect, it } from "vitest";
import { API_TASK_SIZE } from "../api-task-size.ts";
import { BAKE_TIME_MINUTES, type ApiOutputs } from "../Api.ts";
import { TEST_LISTENER_PORT } from "../api-load-balancer.ts";
import { isDeployedApi } from "../api-local.ts";
import { apiContainersOf, paymentSecretName, RDS_CA_BUNDLE_PATH, TARGET_GROUP_HEALTH_CHECK } from "../api-task-contract.ts";
import { ALB_IDLE_TIMEOUT_SECONDS, DEREGISTRATION_DELAY_SECONDS, KEEP_ALIVE_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MS, STOP_TIMEOUT_SECONDS } from "../api-timeouts.ts";
import { ECS_LOAD_BALANCER_INFRASTRUCTURE_POLICY, enableBlueGreen } from "../blue-green.ts";
import { listSuppressions } from "../compliance.ts";
import { stageConfig } from "../config.ts";
import { sdkCallsOf } from "./custom-resource-calls.ts";
import { environmentOf, logicalId, ofType as ofTypeIn, secretsOf, synthesize, type Json, type Resources, type Synthesized } from "./support.ts";

let synthesized: Synthesized;
let api: Template;
let resources: Resources;
let outputs: ApiOutputs;

const ref = (construct: IConstruct) => ({ Ref: logicalId(construct) });

const ofType = (type: string) => ofTypeIn(resources, type);

function only(type: string): Json {
  const found = ofType(type);
  expect(found, type).toHaveLength(1);
  return found[0]![1];
}

function listenerOnPort(port: number): Json {
  const found = ofType("AWS::ElasticLoadBalancingV2::Listener").filter(([, p]) => p.Port === port);
  expect(found, `listener on ${port}`).toHaveLength(1);
  return found[0]![1];
}

function attributes(list: { Key: string; Value: unknown }[]): Record<string, unknown> {
  return Object.fromEntries(list.map(({ Key, Value }) => [Key, Value]));
}

/** The API container (SST's); the migrate container runs before it in the same task. */
function container(): Json {
  return apiContainersOf(api.toJSON()).app as Json;
}

const weightedBlueGreen = () => [
  {
    Type: "forward",
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: ref(outputs.targetGroups.blue), Weight: 100 },
        { TargetGroupArn: ref(outputs.targetGroups.green), Weight: 0 },
      ],
    },
  },
];

beforeAll(async () => {
  synthesized = await synthesize();
  api = synthesized.template("Api");
  resources = synthesized.resources("Api");
  const built = synthesized.outputs.api;
  if (!isDeployedApi(built)) throw new Error("deploy mode built the local placeholder API");
  outputs = built;
});

describe("Api: what it returns", () => {
  it("hands Web and Monitoring the service, the ALB, the HTTPS listener, both target groups and the API domain", () => {
    expect(outputs.fargateService).toBeInstanceOf(ecs.FargateService);
    expect(outputs.service.cdk?.fargateService).toBe(outputs.fargateService);
    expect(outputs.alb).toBeInstanceOf(elbv2.ApplicationLoadBalancer);
    expect(outputs.httpsListener).toBeInstanceOf(elbv2.ApplicationListener);
    expect(outputs.targetGroups.blue).toBeInstanceOf(elbv2.ApplicationTargetGroup);
    expect(outputs.targetGroups.green).toBeInstanceOf(elbv2.ApplicationTargetGroup);
    expect(outputs.apiDomain).toBe(stageConfig("test").domain.api);
    expect(logicalId(outputs.httpsListener)).toBe(Object.entries(resources).find(([, r]) => r.Properties.Port === 443)![0]);
  });
});

describe("Api: load balancer", () => {
  it("is internet-facing in the public subnets with the ALB security group from Network", () => {
    const alb = only("AWS::ElasticLoadBalancingV2::LoadBalancer");
    expect(alb.Scheme).toBe("internet-facing");
    expect(alb.Type).toBe("application");
    expect(JSON.stringify(alb.Subnets)).toMatch(/publicSubnet1.*publicSubnet2/);
    expect(JSON.stringify(alb.SecurityGroups)).toMatch(/AlbSecurityGroup/);
  });

  it("serves HTTPS on 443 with the stage's ACM certificate and the TLS 1.2+ recommended policy", () => {
    const https = listenerOnPort(443);
    expect(https.Protocol).toBe("HTTPS");
    expect(https.Certificates).toEqual([{ CertificateArn: stageConfig("test").apiCertificateArn }]);
    expect(https.SslPolicy).toBe(elbv2.SslPolicy.RECOMMENDED_TLS);
    expect(https.SslPolicy).toBe("ELBSecurityPolicy-TLS13-1-2-2021-06");
  });

  it("listens only with HTTPS, on 443 and the test port: CloudFront, its only client, never speaks plain HTTP to it", () => {
    const listeners = ofType("AWS::ElasticLoadBalancingV2::Listener").map(([, p]) => p);
    expect(listeners.map((p) => p.Port).sort()).toEqual([443, TEST_LISTENER_PORT].sort());
    for (const listener of listeners) expect(listener.Protocol).toBe("HTTPS");
  });

  it("drops invalid header fields, closes idle connections after 60 s and writes access logs to the log bucket", () => {
    const alb = attributes(only("AWS::ElasticLoadBalancingV2::LoadBalancer").LoadBalancerAttributes);
    expect(alb["routing.http.drop_invalid_header_fields.enabled"]).toBe("true");
    expect(alb["idle_timeout.timeout_seconds"]).toBe(String(ALB_IDLE_TIMEOUT_SECONDS));
    expect(alb["access_logs.s3.enabled"]).toBe("true");
    const bucketId = (alb["access_logs.s3.bucket"] as { Ref: string }).Ref;
    expect(resources[bucketId]?.Type).toBe("AWS::S3::Bucket");
  });

  it("keeps access logs in an SSE-S3, versioned, private, SSL-only bucket that has its own server access logs", () => {
    const alb = attributes(only("AWS::ElasticLoadBalancingV2::LoadBalancer").LoadBalancerAttributes);
    const bucketId = (alb["access_logs.s3.bucket"] as { Ref: string }).Ref;
    // The third bucket, the audit anchors', has its own test (audit-anchor.test.ts).
    const buckets = ofType("AWS::S3::Bucket").filter(([id]) => id !== logicalId(outputs.auditAnchorBucket));
    expect(buckets).toHaveLength(2);
    for (const [id, bucket] of buckets) {
      expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration, id).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }]);
      expect(bucket.PublicAccessBlockConfiguration, id).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.VersioningConfiguration, id).toEqual({ Status: "Enabled" });
      expect(bucket.OwnershipControls, id).toEqual({ Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] });
      expect(resources[id]).toMatchObject({ DeletionPolicy: "Retain" });
      const policy = ofType("AWS::S3::BucketPolicy").find(([, p]) => p.Bucket.Ref === id)?.[1];
      expect(policy?.PolicyDocument.Statement, id).toContainEqual(
        expect.objectContaining({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      );
    }
    const logged = resources[bucketId]!.Properties.LoggingConfiguration;
    const target = buckets.find(([id]) => id !== bucketId)![0];
    expect(logged).toEqual({ DestinationBucketName: { Ref: target }, LogFilePrefix: "alb-access-logs/" });
    // Server access logs arrive under a bucket policy for the S3 logging service, not a log-delivery ACL.
    const targetPolicy = ofType("AWS::S3::BucketPolicy").find(([, p]) => p.Bucket.Ref === target)![1];
    expect(targetPolicy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: "Allow", Principal: { Service: "logging.s3.amazonaws.com" }, Action: "s3:PutObject" }),
    );
  });

  it("associates a WAF web ACL: CloudFront's origin header, /metrics, the common and known-bad-inputs rule groups, 2,000 requests per 5 minutes per viewer", () => {
    const acl = only("AWS::WAFv2::WebACL");
    expect(acl.Scope).toBe("REGIONAL");
    expect(acl.DefaultAction).toEqual({ Allow: {} });
    const rules = acl.Rules as Json[];
    expect(rules.map((r) => r.Name)).toEqual([
      "RequireCloudFrontOrigin",
      "MetricsNotFound",
      "BodyOverMaxBytes",
      "AWSManagedRulesCommonRuleSet",
      "AWSManagedRulesKnownBadInputsRuleSet",
      "RateLimitPerViewer",
    ]);
    const managed = rules.filter((r) => r.Statement.ManagedRuleGroupStatement).map((r) => r.Statement.ManagedRuleGroupStatement);
    expect(managed).toEqual([
      { VendorName: "AWS", Name: "AWSManagedRulesCommonRuleSet", RuleActionOverrides: [{ Name: "SizeRestrictions_BODY", ActionToUse: { Count: {} } }] },
      { VendorName: "AWS", Name: "AWSManagedRulesKnownBadInputsRuleSet" },
    ]);
    const rateRules = rules.filter((r) => r.Statement.RateBasedStatement);
    expect(rateRules.map((r) => [r.Action, r.Statement.RateBasedStatement.Limit, r.Statement.RateBasedStatement.EvaluationWindowSec])).toEqual([[{ Block: {} }, 2000, 300]]);
    // stacks/test/edge-origin.test.ts checks what each edge rule matches.
    expect(JSON.stringify(acl)).not.toMatch(/x-forwarded-for/i);
    expect(new Set(rules.map((r) => r.Priority)).size).toBe(rules.length);

    const association = only("AWS::WAFv2::WebACLAssociation");
    expect(association.ResourceArn).toEqual(ref(outputs.alb));
    expect(association.WebACLArn).toEqual({ "Fn::GetAtt": [logicalId(outputs.webAcl), "Arn"] });
  });

  it("logs WAF decisions to an encrypted aws-waf-logs-* group, with credentials redacted", () => {
    const logging = only("AWS::WAFv2::LoggingConfiguration");
    expect(logging.ResourceArn).toEqual({ "Fn::GetAtt": [logicalId(outputs.webAcl), "Arn"] });
    expect(logging.RedactedFields).toEqual([{ SingleHeader: { Name: "authorization" } }, { SingleHeader: { Name: "cookie" } }, { SingleHeader: { Name: "x-origin-verify" } }]);
    const [groupId, group] = ofType("AWS::Logs::LogGroup").find(([, p]) => JSON.stringify(p.LogGroupName ?? "").includes("aws-waf-logs-checkout-test-"))!;
    // WAF takes the log group's ARN without CloudWatch's trailing ":*".
    expect(logging.LogDestinationConfigs).toEqual([
      { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, expect.stringMatching(/^:logs:us-east-1:[^:]+:log-group:$/), { Ref: groupId }]] },
    ]);
    expect(group.KmsKeyId).toBeDefined();
    expect(group.RetentionInDays).toBeGreaterThan(0);
    // Named per stack creation and dropped by a rolled-back creation (retriable-deploy.test.ts covers every stack).
    expect(JSON.stringify(group.LogGroupName)).toContain('"Ref":"AWS::StackId"');
    expect(resources[groupId]).toMatchObject({ DeletionPolicy: "RetainExceptOnCreate" });
  });
});

describe("Api: target groups", () => {
  it("checks liveness (/health, no database) over HTTP on port 3000, targets task IPs and drains for 30 s, blue and green alike", () => {
    const groups = ofType("AWS::ElasticLoadBalancingV2::TargetGroup");
    expect(groups.map(([id]) => id).sort()).toEqual([logicalId(outputs.targetGroups.blue), logicalId(outputs.targetGroups.green)].sort());
    for (const [id, group] of groups) {
      expect(group, id).toMatchObject({
        TargetType: "ip",
        Port: 3000,
        Protocol: "HTTP",
        HealthCheckPath: "/health",
        Matcher: { HttpCode: "200" },
        HealthCheckIntervalSeconds: TARGET_GROUP_HEALTH_CHECK.intervalSeconds,
        HealthCheckTimeoutSeconds: TARGET_GROUP_HEALTH_CHECK.timeoutSeconds,
        HealthyThresholdCount: TARGET_GROUP_HEALTH_CHECK.healthyThreshold,
        UnhealthyThresholdCount: TARGET_GROUP_HEALTH_CHECK.unhealthyThreshold,
      });
      expect(attributes(group.TargetGroupAttributes)["deregistration_delay.timeout_seconds"], id).toBe(String(DEREGISTRATION_DELAY_SECONDS));
    }
    expect(DEREGISTRATION_DELAY_SECONDS).toBe(30);
    // The failover drill reads the same object; a task is out after 3 failures 10 s apart.
    expect(TARGET_GROUP_HEALTH_CHECK).toMatchObject({ path: "/health", intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 });
  });
});

describe("Api: the Fargate service", () => {
  it("runs tasks of API_TASK_SIZE (the load tester's capacity plan divides by it) on Fargate", () => {
    const taskDefinition = only("AWS::ECS::TaskDefinition");
    expect(taskDefinition.Cpu).toBe(String(API_TASK_SIZE.cpu));
    expect(taskDefinition.Memory).toBe(String(API_TASK_SIZE.memoryMiB));
    expect(taskDefinition.RequiresCompatibilities).toEqual(["FARGATE"]);
    expect(taskDefinition.NetworkMode).toBe("awsvpc");
  });

  it("places the tasks in the private subnets with the service security group and no public IP", () => {
    const service = only("AWS::ECS::Service");
    const network = service.NetworkConfiguration.AwsvpcConfiguration;
    expect(network.AssignPublicIp).toBe("DISABLED");
    expect(JSON.stringify(network.Subnets)).toMatch(/privateSubnet1.*privateSubnet2/);
    expect(JSON.stringify(network.SecurityGroups)).toMatch(/ServiceSecurityGroup/);
    expect(service.LaunchType).toBe("FARGATE");
    expect(only("AWS::ECS::Cluster").ClusterSettings).toEqual([{ Name: "containerInsights", Value: "enabled" }]);
  });

  it("sizes shutdown to drain: ECS waits 40 s after SIGTERM, longer than the server's 25 s drain", () => {
    const definition = container();
    expect(definition.StopTimeout).toBe(STOP_TIMEOUT_SECONDS);
    expect(environmentOf(definition).SHUTDOWN_TIMEOUT_MS).toBe(String(SHUTDOWN_TIMEOUT_MS));
    expect(SHUTDOWN_TIMEOUT_MS).toBeLessThan(STOP_TIMEOUT_SECONDS * 1000);
    expect(only("AWS::ECS::Service").HealthCheckGracePeriodSeconds).toBeGreaterThan(0);
  });

  it("keeps Node's keep-alive (65 s) longer than the ALB's idle timeout (60 s)", () => {
    expect(environmentOf(container()).KEEP_ALIVE_TIMEOUT_MS).toBe(String(KEEP_ALIVE_TIMEOUT_MS));
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(ALB_IDLE_TIMEOUT_SECONDS * 1000);
  });

  it("runs in production mode, taking the shopper's address from CloudFront's viewer-address header, on port 3000, with a container health check on /health", () => {
    const definition = container();
    expect(environmentOf(definition)).toMatchObject({
      NODE_ENV: "production",
      VIEWER_ADDRESS_HEADER: "cloudfront-viewer-address",
      TRUST_PROXY: "0",
      PORT: "3000",
      HOST: "0.0.0.0",
      PAYMENT_SANDBOX: "false",
    });
    expect(definition.PortMappings).toEqual([{ ContainerPort: 3000, Protocol: "tcp" }]);
    expect(definition.ReadonlyRootFilesystem).toBe(true);
    expect(definition.HealthCheck.Command.join(" ")).toContain("http://127.0.0.1:3000/health");
  });

  it("connects to the writer and the reader over verified TLS, as the service role, with its credentials as ECS secrets", () => {
    const definition = container();
    const environment = environmentOf(definition);
    expect(JSON.stringify(environment.DATABASE_HOST)).toMatch(/Postgres[0-9A-F]+EndpointAddress/);
    expect(JSON.stringify(environment.DATABASE_READ_HOST)).toMatch(/PostgresReplica[0-9A-F]+EndpointAddress/);
    expect(environment).toMatchObject({ DATABASE_PORT: "5432", DATABASE_NAME: "checkout", DATABASE_SSL: "verify-full", DATABASE_SSL_CA: RDS_CA_BUNDLE_PATH });
    expect(RDS_CA_BUNDLE_PATH).toBe("/app/dist/certs/rds-ca-bundle.pem");
    expect(environment).not.toHaveProperty("DATABASE_PASSWORD");
    expect(environment).not.toHaveProperty("DATABASE_URL");
    const secrets = secretsOf(definition);
    // The service role, never the owner (the RDS master secret goes to the migrate container only).
    expect(secrets.DATABASE_USER).toMatch(/ServiceRoleSecret.*:username::/);
    expect(secrets.DATABASE_PASSWORD).toMatch(/ServiceRoleSecret.*:password::/);
    expect(JSON.stringify(secrets)).not.toMatch(/PostgresSecret/);
    for (const [name, field] of [
      ["PAYMENT_PROVIDER_URL", "url"],
      ["PAYMENT_SECRET_KEY", "secretKey"],
      ["PAYMENT_WEBHOOK_SECRET", "webhookSecret"],
    ] as const) {
      expect(secrets[name], name).toContain(`:secret:${paymentSecretName("test")}:${field}::`);
    }
  });

  it("logs to a KMS-encrypted log group with retention, without blocking the event loop", () => {
    const logging = container().LogConfiguration;
    expect(logging.LogDriver).toBe("awslogs");
    expect(logging.Options.mode).toBe("non-blocking");
    const groupId = logging.Options["awslogs-group"].Ref as string;
    const group = resources[groupId]!.Properties;
    expect(group.KmsKeyId).toEqual({ "Fn::ImportValue": expect.stringMatching(/Key/) });
    expect(group.RetentionInDays).toBe(30);
    // SST's unused, unencrypted default log group (and its Lambda) is not deployed.
    expect(ofType("Custom::LogRetention")).toEqual([]);
  });
});

describe("Api: autoscaling", () => {
  it("scales between API_TASK_SIZE's 2 and 12 tasks", () => {
    const target = only("AWS::ApplicationAutoScaling::ScalableTarget");
    expect([target.MinCapacity, target.MaxCapacity]).toEqual([API_TASK_SIZE.minTasks, API_TASK_SIZE.maxTasks]);
    expect([target.MinCapacity, target.MaxCapacity]).toEqual([2, 12]);
    expect(target.ScalableDimension).toBe("ecs:service:DesiredCount");
  });

  it("tracks CPU, memory and requests per target, scaling out within a minute", () => {
    const policies = ofType("AWS::ApplicationAutoScaling::ScalingPolicy").map(([, p]) => p.TargetTrackingScalingPolicyConfiguration);
    expect(policies).toHaveLength(3);
    const predefined = policies.map((p) => p.PredefinedMetricSpecification?.PredefinedMetricType).filter(Boolean);
    expect(predefined.sort()).toEqual(["ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization"]);
    for (const policy of policies) expect(policy.ScaleOutCooldown).toBeLessThanOrEqual(60);
  });

  it("counts requests per healthy target across blue and green, since blue/green moves production between them", () => {
    const requests = ofType("AWS::ApplicationAutoScaling::ScalingPolicy")
      .map(([, p]) => p.TargetTrackingScalingPolicyConfiguration)
      .find((p) => p.CustomizedMetricSpecification)!;
    const metrics = requests.CustomizedMetricSpecification.Metrics as Json[];
    const returned = metrics.filter((m) => m.ReturnData);
    expect(returned).toHaveLength(1);
    expect(returned[0]!.Expression).toBe("(FILL(requests_blue, 0) + FILL(requests_green, 0)) / (FILL(healthy_blue, 0) + FILL(healthy_green, 0))");
    const byId = Object.fromEntries(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat]));
    for (const [id, color, name, stat] of [
      ["requests_blue", "blue", "RequestCount", "Sum"],
      ["requests_green", "green", "RequestCount", "Sum"],
      ["healthy_blue", "blue", "HealthyHostCount", "Average"],
      ["healthy_green", "green", "HealthyHostCount", "Average"],
    ] as const) {
      expect(byId[id], id).toMatchObject({ Stat: stat, Metric: { Namespace: "AWS/ApplicationELB", MetricName: name } });
      expect(byId[id].Metric.Dimensions, id).toContainEqual({ Name: "TargetGroup", Value: { "Fn::GetAtt": [logicalId(outputs.targetGroups[color]), "TargetGroupFullName"] } });
    }
    expect(requests.TargetValue).toBeGreaterThan(0);
  });
});

describe("Api: rollback guards", () => {
  it("rolls back a deployment whose tasks fail to start (circuit breaker) or that trips a deployment alarm", () => {
    const service = only("AWS::ECS::Service");
    expect(service.DeploymentController).toEqual({ Type: "ECS" });
    expect(service.DeploymentConfiguration.DeploymentCircuitBreaker).toEqual({ Enable: true, Rollback: true });
    expect(service.DeploymentConfiguration.Alarms).toEqual({
      Enable: true,
      Rollback: true,
      AlarmNames: [ref(outputs.deploymentAlarms.errorRate), ref(outputs.deploymentAlarms.unhealthyTargets)],
    });
  });

  it("alarms when 5xx (from the tasks or the ALB) exceed 1 % of at least 20 requests a minute, 2 minutes of 2", () => {
    const alarm = resources[logicalId(outputs.deploymentAlarms.errorRate)]!.Properties;
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: "GreaterThanThreshold", EvaluationPeriods: 2, DatapointsToAlarm: 2, TreatMissingData: "notBreaching" });
    const metrics = alarm.Metrics as Json[];
    expect(metrics.find((m) => m.ReturnData)!.Expression).toBe(
      "IF(FILL(requests, 0) + FILL(elb5xx, 0) >= 20, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / (FILL(requests, 0) + FILL(elb5xx, 0)), 0)",
    );
    const names = Object.fromEntries(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, [m.MetricStat.Metric.MetricName, m.MetricStat.Period, m.MetricStat.Stat]]));
    expect(names).toEqual({
      requests: ["RequestCount", 60, "Sum"],
      target5xx: ["HTTPCode_Target_5XX_Count", 60, "Sum"],
      elb5xx: ["HTTPCode_ELB_5XX_Count", 60, "Sum"],
    });
  });

  it("alarms when any target in either group fails its health check for 2 minutes", () => {
    const alarm = resources[logicalId(outputs.deploymentAlarms.unhealthyTargets)]!.Properties;
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold", EvaluationPeriods: 2, DatapointsToAlarm: 2 });
    const metrics = alarm.Metrics as Json[];
    expect(metrics.find((m) => m.ReturnData)!.Expression).toBe("FILL(unhealthy_blue, 0) + FILL(unhealthy_green, 0)");
    expect(metrics.filter((m) => m.MetricStat).map((m) => [m.MetricStat.Metric.MetricName, m.MetricStat.Stat, m.MetricStat.Period])).toEqual([
      ["UnHealthyHostCount", "Maximum", 60],
      ["UnHealthyHostCount", "Maximum", 60],
    ]);
  });
});

describe("Api: blue/green", () => {
  it("deploys with ECS's BLUE_GREEN strategy and keeps blue for the bake time", () => {
    const configuration = only("AWS::ECS::Service").DeploymentConfiguration;
    expect(configuration.Strategy).toBe("BLUE_GREEN");
    expect(configuration.BakeTimeInMinutes).toBe(BAKE_TIME_MINUTES);
  });

  it("gives ECS the alternate target group, the production and test listener rules and its infrastructure role", () => {
    const service = only("AWS::ECS::Service");
    expect(service.LoadBalancers).toEqual([
      {
        ContainerName: "Container",
        ContainerPort: 3000,
        TargetGroupArn: ref(outputs.targetGroups.blue),
        AdvancedConfiguration: {
          AlternateTargetGroupArn: ref(outputs.targetGroups.green),
          ProductionListenerRule: { Ref: expect.stringMatching(/^ProductionRule/) },
          TestListenerRule: { Ref: expect.stringMatching(/^TestRule/) },
          RoleArn: { "Fn::GetAtt": [expect.stringMatching(/BlueGreenInfrastructureRole/), "Arn"] },
        },
      },
    ]);
    const roleId = service.LoadBalancers[0].AdvancedConfiguration.RoleArn["Fn::GetAtt"][0] as string;
    const role = resources[roleId]!.Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "ecs.amazonaws.com" } }]);
    expect(role.ManagedPolicyArns).toEqual([{ "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, `:iam::aws:policy/${ECS_LOAD_BALANCER_INFRASTRUCTURE_POLICY}`]] }]);
    expect(resources[logicalId(outputs.fargateService)]!.DependsOn).toEqual(
      expect.arrayContaining([
        roleId,
        service.LoadBalancers[0].AdvancedConfiguration.ProductionListenerRule.Ref,
        service.LoadBalancers[0].AdvancedConfiguration.TestListenerRule.Ref,
      ]),
    );
  });

  it("routes all production traffic through a rule on the HTTPS listener, created forwarding to both groups, blue at 100 and green at 0", () => {
    const service = only("AWS::ECS::Service");
    const production = resources[service.LoadBalancers[0].AdvancedConfiguration.ProductionListenerRule.Ref]!;
    // A custom resource, not an AWS::ElasticLoadBalancingV2::ListenerRule: listener-rules.test.ts shows why.
    expect(production.Type).toBe("Custom::EcsManagedListenerRule");
    expect(sdkCallsOf(production.Properties).create).toMatchObject({
      action: "createRule",
      parameters: {
        ListenerArn: ref(outputs.httpsListener),
        Priority: 1,
        Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/*"] } }],
        Actions: weightedBlueGreen(),
      },
    });
  });

  it("routes test traffic through a rule on the test listener (HTTPS on 8443, closed to the internet by the ALB security group)", () => {
    const service = only("AWS::ECS::Service");
    const test = sdkCallsOf(resources[service.LoadBalancers[0].AdvancedConfiguration.TestListenerRule.Ref]!.Properties).create!.parameters!;
    const listener = listenerOnPort(TEST_LISTENER_PORT);
    expect(test.ListenerArn).toEqual({ Ref: Object.entries(resources).find(([, r]) => r.Properties === listener)![0] });
    expect(listener.Protocol).toBe("HTTPS");
    expect(listener.SslPolicy).toBe("ELBSecurityPolicy-TLS13-1-2-2021-06");
    expect(test.Actions).toEqual(weightedBlueGreen());
    const albIngress = JSON.stringify(synthesized.template("Network").toJSON().Resources);
    expect(albIngress).not.toContain(`"FromPort":${TEST_LISTENER_PORT}`);
  });

  it("uses only forward actions on the HTTPS listeners, as ECS blue/green requires", () => {
    for (const port of [443, TEST_LISTENER_PORT]) expect(listenerOnPort(port).DefaultActions, String(port)).toEqual(weightedBlueGreen());
  });

  it("refuses to switch a service that is not attached to exactly one target group", () => {
    const app = new CdkApp();
    const stack = new Stack(app, "BlueGreenCheck");
    const vpc = new ec2.Vpc(stack, "Vpc", { maxAzs: 2, natGateways: 0 });
    const taskDefinition = new ecs.FargateTaskDefinition(stack, "Task");
    taskDefinition.addContainer("Container", { image: ecs.ContainerImage.fromRegistry("example"), portMappings: [{ containerPort: 3000 }] });
    const service = new ecs.FargateService(stack, "Service", { cluster: new ecs.Cluster(stack, "Cluster", { vpc }), taskDefinition });
    const alb = new elbv2.ApplicationLoadBalancer(stack, "Alb", { vpc });
    const listener = alb.addListener("Listener", { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    const group = new elbv2.ApplicationTargetGroup(stack, "Green", { vpc, port: 3000, protocol: elbv2.ApplicationProtocol.HTTP, targetType: elbv2.TargetType.IP });
    const rule = (id: string, priority: number) =>
      new elbv2.ApplicationListenerRule(stack, id, {
        listener,
        priority,
        conditions: [elbv2.ListenerCondition.pathPatterns(["/*"])],
        action: elbv2.ListenerAction.forward([group]),
      });
    enableBlueGreen(service, { alternateTargetGroup: group, productionRule: rule("Production", 1), testRule: rule("Test", 2), bakeTimeMinutes: 5 });
    expect(() => app.synth()).toThrow(/exactly one load balancer target group, found 0/);
  });
});

describe("Api: cdk-nag", () => {
  it("leaves no unsuppressed AwsSolutions or PCI DSS 3.2.1 error or warning in the Api stack", () => {
    const findings = synthesized.findings.filter((f) => f.stack.endsWith("-Api") && /AwsSolutions-|PCI\.DSS\./.test(f.message));
    if (findings.length > 0) console.log(findings.map((f) => `${f.level} ${f.path}\n    ${f.message.split("\n")[0]}`).join("\n"));
    expect(findings).toEqual([]);
  });

  it("suppresses only the reviewed findings, each on its own resource with a reason", () => {
    // SST's own custom-resource function in every stack is suppressed centrally in compliance.ts.
    const mine = listSuppressions(synthesized.app).filter((s) => s.path.includes("-Api/") && !s.path.endsWith("/CustomResourceHandler"));
    expect(mine.map((s) => `${s.rule} ${s.path.replace(/^.*-Api\//, "")}`).sort()).toEqual(
      [
        "AwsSolutions-ECS2 Api/TaskDefinition",
        "AwsSolutions-IAM4 Api/Service/BlueGreenInfrastructureRole",
        "AwsSolutions-IAM5 Api/TaskDefinition/ExecutionRole",
        "AwsSolutions-SMG4 OriginSecret1",
        "AwsSolutions-SMG4 MetricsToken",
        "PCI.DSS.321-IAMNoInlinePolicy Api/TaskDefinition/ExecutionRole",
        "PCI.DSS.321-S3BucketReplicationEnabled AccessLogs/AlbAccessLogs",
        "PCI.DSS.321-S3BucketReplicationEnabled AccessLogs/AlbLogsAccessLogs",
        // The listener rules' custom resource and CDK's function behind it (stacks/listener-rules.ts).
        "AwsSolutions-IAM4 AWS679f53fac002430cb0da5b7982bd2287",
        "PCI.DSS.321-LambdaInsideVPC AWS679f53fac002430cb0da5b7982bd2287",
        "AwsSolutions-IAM5 ProductionRule",
        "AwsSolutions-IAM5 TestRule",
        "PCI.DSS.321-IAMNoInlinePolicy ProductionRule",
        "PCI.DSS.321-IAMNoInlinePolicy TestRule",
        // Admin tokens (rotated by the operator), the audit anchors and the task role's writes to them.
        "AwsSolutions-SMG4 AdminApiTokenGenerated",
        "AwsSolutions-SMG4 AdminApiTokens",
        "PCI.DSS.321-S3BucketReplicationEnabled AccessLogs/AuditAnchors",
        "AwsSolutions-IAM5 Api/TaskDefinition/TaskRole",
        // The tracing collector's xray:PutTraceSegments, which has no resource-level permissions (stacks/api-tracing.ts).
        "AwsSolutions-IAM5 Api/TaskDefinition/TaskRole",
        "PCI.DSS.321-IAMNoInlinePolicy Api/TaskDefinition/TaskRole",
        "PCI.DSS.321-S3DefaultEncryptionKMS AccessLogs/AlbAccessLogs",
        "PCI.DSS.321-S3DefaultEncryptionKMS AccessLogs/AlbLogsAccessLogs",
      ].sort(),
    );
    for (const s of mine) expect(s.reason.length, s.rule).toBeGreaterThan(60);
  });
});

describe("Api: container image", () => {
  /** Every file under dir, relative to it. */
  function filesUnder(dir: string, base = dir): string[] {
    return readdirSync(dir).flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? filesUnder(full, base) : [path.relative(base, full)];
    });
  }

  it("stages a build context of the Dockerfile and exactly the bundle files it copies, as SST hands packages/api to CDK", () => {
    // A stand-in for packages/api after `bundle`, with the files that must stay out of the image around it.
    const fixture = mkdtempSync(path.join(os.tmpdir(), "checkout-image-context-"));
    try {
      for (const file of ["Dockerfile", ".dockerignore"]) copyFileSync(path.join("packages/api", file), path.join(fixture, file));
      for (const file of [
        "dist/server.mjs",
        "dist/server.mjs.map",
        "dist/server.mjs.LEGAL.txt",
        "dist/certs/rds-ca-bundle.pem",
        "dist/certs/other.pem",
        "dist/meta.json",
        "src/main.ts",
        "node_modules/pg/index.js",
        "package.json",
        ".env",
      ]) {
        mkdirSync(path.dirname(path.join(fixture, file)), { recursive: true });
        writeFileSync(path.join(fixture, file), file);
      }
      const outdir = path.join(fixture, "cdk.out");
      const app = new CdkApp({ outdir });
      const stack = new Stack(app, "Image");
      // The options of api-image.ts's apiImage, which are those SST's Service passes when it builds the image itself.
      const asset = new DockerImageAsset(stack, "Image", { directory: fixture, file: "Dockerfile", exclude: [".sst/dist", ".sst/artifacts"], ignoreMode: IgnoreMode.GLOB });
      app.synth();
      const staged = filesUnder(path.join(outdir, `asset.${asset.assetHash}`)).sort();
      expect(staged).toEqual([".dockerignore", "Dockerfile", "dist/certs/rds-ca-bundle.pem", "dist/server.mjs", "dist/server.mjs.LEGAL.txt", "dist/server.mjs.map"]);
      const copied = readFileSync(path.join(fixture, "Dockerfile"), "utf8")
        .split("\n")
        .filter((line) => line.startsWith("COPY ") && !line.includes("--from="))
        .flatMap((line) => line.split(/\s+/).slice(1, -1));
      expect(copied.sort()).toEqual(staged.filter((file) => file.startsWith("dist/")));
    } finally {
      rmSync(fixture, { recursive: true, force: true });
    }
  });
});
