// The Monitoring stack: each alarm's metric, statistic, period, datapoints, threshold and comparison, all notifying
// the encrypted SNS topic; the dashboard; log groups encrypted with a retention across the app; no cdk-nag finding.
import { beforeAll, describe, expect, it } from "vitest";
import type { Template } from "aws-cdk-lib/assertions";
import { API_TASK_SIZE } from "../api-task-size.ts";
import { stageConfig } from "../config.ts";
import { ALARMS } from "../Monitoring.ts";
import { synthesize, type Resources, type Synthesized } from "./support.ts";

let synthesized: Synthesized;
let monitoring: Template;
let resources: Resources;
const config = stageConfig("test");

function logicalId(template: Template, type: string, namePart: string): string {
  const ids = Object.entries(template.toJSON().Resources as Resources)
    .filter(([id, r]) => r.Type === type && id.startsWith(namePart))
    .map(([id]) => id);
  expect(ids, `${type} ${namePart}`).toHaveLength(1);
  return ids[0]!;
}

function alarm(suffix: string): Record<string, any> {
  const found = Object.values(resources).filter((r) => r.Type === "AWS::CloudWatch::Alarm" && r.Properties.AlarmName === `checkout-test-${suffix}`);
  expect(found, suffix).toHaveLength(1);
  return found[0]!.Properties;
}

/** The single metric an alarm watches: namespace, name, statistic, period and dimensions as JSON. */
function watched(props: Record<string, any>): { namespace: string; name: string; stat: string; period: number; dimensions: string } {
  expect(props.Metrics, "one metric").toHaveLength(1);
  const { Metric, Stat, Period } = props.Metrics[0].MetricStat;
  return { namespace: Metric.Namespace, name: Metric.MetricName, stat: Stat, period: Period, dimensions: JSON.stringify(Metric.Dimensions) };
}

const topicRef = () => ({ Ref: logicalId(monitoring, "AWS::SNS::Topic", "AlarmTopic") });

beforeAll(async () => {
  synthesized = await synthesize();
  monitoring = synthesized.template("Monitoring");
  resources = synthesized.resources("Monitoring");
});

describe("alarm topic", () => {
  it("is encrypted with a rotating customer-managed key that CloudWatch alarms may use", () => {
    const keyId = logicalId(monitoring, "AWS::KMS::Key", "AlarmTopicKey");
    expect(resources[keyId]!.Properties.EnableKeyRotation).toBe(true);
    const topic = resources[topicRef().Ref]!;
    expect(topic.Properties.KmsMasterKeyId).toEqual({ "Fn::GetAtt": [keyId, "Arn"] });
    expect(resources[keyId]!.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({ Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey"] }),
    );
  });

  it("refuses publishing over plain HTTP and lets this account's CloudWatch alarms publish", () => {
    const policy = Object.values(resources).find((r) => r.Type === "AWS::SNS::TopicPolicy")!;
    expect(policy.Properties.Topics).toEqual([topicRef()]);
    const statements = policy.Properties.PolicyDocument.Statement as Record<string, any>[];
    expect(statements).toContainEqual(expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }));
    const publish = statements.find((s) => s.Sid === "CloudWatchAlarmsPublish")!;
    expect(publish).toMatchObject({ Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: topicRef() });
    expect(JSON.stringify(publish.Condition.ArnLike["aws:SourceArn"])).toContain(":alarm:*");
  });

  it("emails the stage's on-call address", () => {
    monitoring.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: config.alarmEmail, TopicArn: topicRef() });
  });
});

describe("alarms", () => {
  it("has the twelve alarms, each notifying the topic on ALARM and on OK, with missing data not breaching", () => {
    const alarms = Object.values(resources).filter((r) => r.Type === "AWS::CloudWatch::Alarm");
    expect(alarms).toHaveLength(12);
    for (const { Properties: p } of alarms) {
      expect(p.AlarmActions, p.AlarmName).toEqual([topicRef()]);
      expect(p.OKActions, p.AlarmName).toEqual([topicRef()]);
      expect(p.TreatMissingData, p.AlarmName).toBe("notBreaching");
      expect(p.DatapointsToAlarm, p.AlarmName).toBe(p.EvaluationPeriods);
    }
  });

  it("fires when the average target response time is above 500 ms over 5 minutes (one 5-minute period)", () => {
    const p = alarm("api-latency");
    expect(watched(p)).toMatchObject({ namespace: "AWS/ApplicationELB", name: "TargetResponseTime", stat: "Average", period: 300 });
    expect(watched(p).dimensions).toContain("LoadBalancerFullName");
    expect(p).toMatchObject({ Threshold: 0.5, ComparisonOperator: "GreaterThanThreshold", EvaluationPeriods: 1, DatapointsToAlarm: 1 });
  });

  it("fires when 5xx are above 1 % of requests in 2 consecutive minutes, as a metric-math rate rather than a count", () => {
    const p = alarm("api-5xx-rate");
    expect(p.MetricName).toBeUndefined();
    const [expression, ...inputs] = p.Metrics as Record<string, any>[];
    expect(expression).toMatchObject({
      Expression: "IF((FILL(requests, 0) + FILL(elb5xx, 0)) > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / (FILL(requests, 0) + FILL(elb5xx, 0)), 0)",
      ReturnData: true,
    });
    expect(Object.fromEntries(inputs.map((m) => [m.Id, [m.MetricStat.Metric.MetricName, m.MetricStat.Stat, m.MetricStat.Period, m.ReturnData]]))).toEqual({
      requests: ["RequestCount", "Sum", 60, false],
      target5xx: ["HTTPCode_Target_5XX_Count", "Sum", 60, false],
      elb5xx: ["HTTPCode_ELB_5XX_Count", "Sum", 60, false],
    });
    expect(p).toMatchObject({ Threshold: 1, ComparisonOperator: "GreaterThanThreshold", EvaluationPeriods: 2, DatapointsToAlarm: 2 });
  });

  it("fires when any target of the blue or the green target group is unhealthy for 2 consecutive minutes", () => {
    const api = synthesized.template("Api");
    for (const colour of ["blue", "green"] as const) {
      const p = alarm(`api-unhealthy-hosts-${colour}`);
      const metric = watched(p);
      expect(metric).toMatchObject({ namespace: "AWS/ApplicationELB", name: "UnHealthyHostCount", stat: "Maximum", period: 60 });
      const group = logicalId(api, "AWS::ElasticLoadBalancingV2::TargetGroup", `TargetGroup${colour[0]!.toUpperCase()}${colour.slice(1)}`);
      expect(metric.dimensions).toContain(`${group}TargetGroupFullName`);
      expect(metric.dimensions).toContain("LoadBalancerFullName");
      expect(p).toMatchObject({ Threshold: 0, ComparisonOperator: "GreaterThanThreshold", EvaluationPeriods: 2 });
    }
  });

  it("fires when fewer tasks than the autoscaling minimum (2) run for 3 minutes, from Container Insights", () => {
    const p = alarm("api-tasks-below-minimum");
    const metric = watched(p);
    expect(metric).toMatchObject({ namespace: "ECS/ContainerInsights", name: "RunningTaskCount", stat: "Minimum", period: 60 });
    expect(metric.dimensions).toMatch(/ClusterName.*ServiceName/);
    expect(p).toMatchObject({ Threshold: API_TASK_SIZE.minTasks, ComparisonOperator: "LessThanThreshold", EvaluationPeriods: 3 });
    expect(API_TASK_SIZE.minTasks).toBe(2);
  });

  it("fires when autoscaling asks for 11 or more of its 12 tasks over 5 minutes (desired, so blue/green's doubled running count during a deployment does not)", () => {
    const p = alarm("api-tasks-near-maximum");
    expect(watched(p)).toMatchObject({ namespace: "ECS/ContainerInsights", name: "DesiredTaskCount", stat: "Maximum", period: 300 });
    expect(p).toMatchObject({ Threshold: 11, ComparisonOperator: "GreaterThanOrEqualToThreshold", EvaluationPeriods: 1 });
    expect(Math.ceil(API_TASK_SIZE.maxTasks * ALARMS.tasksNearMaximum.fractionOfMaximum)).toBe(11);
  });

  it("relies on Container Insights being on for the API's cluster", () => {
    synthesized.template("Api").hasResourceProperties("AWS::ECS::Cluster", { ClusterSettings: [{ Name: "containerInsights", Value: "enabled" }] });
  });

  it("fires when the writer's or the replica's CPU is above 80 % for three 5-minute periods", () => {
    const database = synthesized.template("Database");
    for (const [suffix, instance] of [
      ["db-writer-cpu", logicalId(database, "AWS::RDS::DBInstance", "Postgres9")],
      ["db-replica-cpu", logicalId(database, "AWS::RDS::DBInstance", "PostgresReplica")],
    ] as const) {
      const p = alarm(suffix);
      const metric = watched(p);
      expect(metric).toMatchObject({ namespace: "AWS/RDS", name: "CPUUtilization", stat: "Average", period: 300 });
      expect(metric.dimensions).toContain(`DBInstanceIdentifier`);
      expect(metric.dimensions).toContain(`ExportsOutputRef${instance}`);
      expect(p).toMatchObject({ Threshold: 80, ComparisonOperator: "GreaterThanThreshold", EvaluationPeriods: 3 });
    }
  });

  it("fires when free storage falls below 20 % of the allocated 50 GiB (10 GiB) on the writer or the replica", () => {
    for (const suffix of ["db-writer-free-storage", "db-replica-free-storage"]) {
      const p = alarm(suffix);
      expect(watched(p)).toMatchObject({ namespace: "AWS/RDS", name: "FreeStorageSpace", stat: "Minimum", period: 300 });
      expect(p).toMatchObject({ Threshold: 10 * 1024 ** 3, ComparisonOperator: "LessThanThreshold", EvaluationPeriods: 1 });
    }
    synthesized.template("Database").hasResourceProperties("AWS::RDS::DBInstance", { AllocatedStorage: "50", MultiAZ: true });
  });

  it("fires when the read replica lags more than 30 s for 3 consecutive minutes", () => {
    const replica = logicalId(synthesized.template("Database"), "AWS::RDS::DBInstance", "PostgresReplica");
    const p = alarm("db-replica-lag");
    const metric = watched(p);
    expect(metric).toMatchObject({ namespace: "AWS/RDS", name: "ReplicaLag", stat: "Maximum", period: 60 });
    expect(metric.dimensions).toContain(`ExportsOutputRef${replica}`);
    expect(p).toMatchObject({ Threshold: 30, ComparisonOperator: "GreaterThanThreshold", EvaluationPeriods: 3 });
  });
});

describe("dashboard", () => {
  it("shows the alarms and a graph for each thing they watch", () => {
    const dashboards = Object.values(resources).filter((r) => r.Type === "AWS::CloudWatch::Dashboard");
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]!.Properties.DashboardName).toBe("checkout-test");
    const body = JSON.stringify(dashboards[0]!.Properties.DashboardBody);
    for (const title of [
      "Alarms",
      "API response time (s)",
      "API 5xx rate (%)",
      "Requests per minute",
      "API tasks",
      "Unhealthy targets",
      "Healthy targets",
      "Database CPU (%)",
      "Database free storage (bytes)",
      "Replica lag (s)",
    ]) {
      expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    }
    for (const alarmId of Object.entries(resources)
      .filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm")
      .map(([id]) => id)) {
      expect(body).toContain(`"${alarmId}"`);
    }
  });
});

describe("log groups", () => {
  it("encrypts every log group in the app with KMS and gives each a retention", () => {
    const groups = synthesized.stacks.flatMap((stack) =>
      Object.entries(synthesized.resources(stack.node.id))
        .filter(([, r]) => r.Type === "AWS::Logs::LogGroup")
        .map(([id, r]) => ({ id: `${stack.node.id}/${id}`, kms: r.Properties.KmsKeyId, retention: r.Properties.RetentionInDays })),
    );
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.filter((g) => g.kms === undefined || !(g.retention > 0))).toEqual([]);
  });

  it("creates none in the Monitoring or Web stacks (alarms and CloudFront write none)", () => {
    monitoring.resourceCountIs("AWS::Logs::LogGroup", 0);
    synthesized.template("Web").resourceCountIs("AWS::Logs::LogGroup", 0);
  });
});

describe("compliance", () => {
  it("leaves no unsuppressed cdk-nag finding (error or warning) in the Monitoring stack", () => {
    const mine = synthesized.findings.filter((f) => f.stack.endsWith("-Monitoring"));
    if (mine.length > 0) console.log(mine.map((f) => `${f.level} ${f.path}\n    ${f.message.slice(0, 300)}`).join("\n"));
    expect(mine).toEqual([]);
  });
});
