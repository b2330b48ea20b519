// Monitoring: a CloudWatch dashboard and the operators' alarms on the ALB, the ECS service and the database, sent to
// a KMS-encrypted SNS topic. (The alarms that roll a deployment back live with the service in api-guards.ts.)
import { API_TASK_SIZE } from "./api-task-size.ts";
import { ArnFormat, Duration, RemovalPolicy, type Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as rds from "aws-cdk-lib/aws-rds";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { use, type StackContext } from "sst/constructs";
import { isDeployedApi } from "./api-local.ts";
import { Api } from "./Api.ts";
import { stageConfig } from "./config.ts";
import { Database } from "./Database.ts";

/**
 * Every alarm's threshold and window. A window is `evaluationPeriods` periods of `periodMinutes`, all of them breaching
 * (datapoints to alarm = evaluation periods); missing data never breaches.
 */
export const ALARMS = {
  /** Average target response time above 500 ms over one 5-minute period. */
  latency: { thresholdSeconds: 0.5, periodMinutes: 5, evaluationPeriods: 1 },
  /** 5xx (from the tasks and from the ALB) above 1 % of requests in each of 2 consecutive minutes. */
  errorRate: { thresholdPercent: 1, periodMinutes: 1, evaluationPeriods: 2 },
  /** Any target of either target group failing its health check for 2 consecutive minutes. */
  unhealthyHosts: { threshold: 0, periodMinutes: 1, evaluationPeriods: 2 },
  /** Fewer running tasks than the autoscaling minimum for 3 consecutive minutes. */
  tasksBelowMinimum: { periodMinutes: 1, evaluationPeriods: 3 },
  /** Autoscaling asking for 90 % or more of its maximum over a 5-minute period: little headroom left. */
  tasksNearMaximum: { fractionOfMaximum: 0.9, periodMinutes: 5, evaluationPeriods: 1 },
  /** Writer or replica CPU above 80 % in each of 3 consecutive 5-minute periods. */
  databaseCpu: { thresholdPercent: 80, periodMinutes: 5, evaluationPeriods: 3 },
  /** Free storage below 20 % of the allocated size (storage autoscaling acts at 10 % and then waits 6 hours). */
  databaseFreeStorage: { fractionOfAllocated: 0.2, periodMinutes: 5, evaluationPeriods: 1 },
  /** The read replica more than 30 s behind the writer for 3 consecutive minutes (reads there would be stale). */
  replicaLag: { thresholdSeconds: 30, periodMinutes: 1, evaluationPeriods: 3 },
  /**
   * Card testing: more than 30 % of placeOrder payment attempts declined by the processor or refused by the velocity
   * limits over 5 minutes, counted only when there were at least 20 attempts (a quiet shop's one decline is not 100 %).
   */
  paymentDeclineRate: { thresholdPercent: 30, minimumAttempts: 20, periodMinutes: 5, evaluationPeriods: 1 },
} as const;

/**
 * The API logs one JSON line per placeOrder payment attempt, `{"msg":"payment.attempt","outcome":…}`
 * (packages/api/src/payments/payment-velocity.ts); these filters on its log group turn them into metrics.
 */
export const PAYMENT_ATTEMPT_FILTERS = {
  attempts: '{ $.msg = "payment.attempt" }',
  declinedOrRefused: '{ ($.msg = "payment.attempt") && (($.outcome = "declined") || ($.outcome = "refused_velocity")) }',
} as const;

const GIB = 1024 ** 3;

export function Monitoring({ stack, app }: StackContext) {
  const config = stageConfig(app.stage);
  const api = use(Api);
  // Nothing to watch when SST deploys no service (`sst dev`'s local API; remove mode): the stack stays empty.
  if (!isDeployedApi(api)) return undefined;
  const database = use(Database);
  const prefix = `checkout-${app.stage}`;

  const topic = alarmTopic(stack, config.alarmEmail, prefix);
  const minutes = (n: number) => Duration.minutes(n);
  const { alb } = api;
  const { blue, green } = api.targetGroups;
  const service = api.fargateService;

  // Load balancer: latency and the 5xx rate.
  const latency = alb.metrics.targetResponseTime({ statistic: "Average", period: minutes(ALARMS.latency.periodMinutes), label: "Average target response time" });
  const errorPeriod = minutes(ALARMS.errorRate.periodMinutes);
  const requests = alb.metrics.requestCount({ statistic: "Sum", period: errorPeriod });
  const target5xx = alb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: "Sum", period: errorPeriod });
  const elb5xx = alb.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { statistic: "Sum", period: errorPeriod });
  const errorRate = new cloudwatch.MathExpression({
    // Requests the ALB answers itself with a 5xx (no healthy target) are not in RequestCount, so they are added to the
    // total: with every task down the rate is 100 %, not a division by zero. A minute with no request at all is 0 %.
    expression: "IF((FILL(requests, 0) + FILL(elb5xx, 0)) > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / (FILL(requests, 0) + FILL(elb5xx, 0)), 0)",
    usingMetrics: { requests, target5xx, elb5xx },
    period: errorPeriod,
    label: "5xx % of requests",
  });
  const unhealthyPeriod = minutes(ALARMS.unhealthyHosts.periodMinutes);
  const unhealthyBlue = targetGroupMetric(alb, blue, "UnHealthyHostCount", "Maximum", unhealthyPeriod, "Unhealthy targets (blue)");
  const unhealthyGreen = targetGroupMetric(alb, green, "UnHealthyHostCount", "Maximum", unhealthyPeriod, "Unhealthy targets (green)");

  // ECS: Container Insights (enabled on the cluster in api-service.ts) counts the service's tasks; AWS/ECS has no task count.
  const { minTasks, maxTasks } = API_TASK_SIZE;
  const nearMaximum = Math.ceil(maxTasks * ALARMS.tasksNearMaximum.fractionOfMaximum);
  const runningTasks = serviceMetric(service, "RunningTaskCount", "Minimum", minutes(ALARMS.tasksBelowMinimum.periodMinutes), "Running tasks (minimum)");
  const desiredTasks = serviceMetric(service, "DesiredTaskCount", "Maximum", minutes(ALARMS.tasksNearMaximum.periodMinutes), "Desired tasks (maximum)");

  // RDS: CPU of both instances, the writer's free storage, the replica's lag.
  const cpuPeriod = minutes(ALARMS.databaseCpu.periodMinutes);
  const writerCpu = database.instance.metricCPUUtilization({ statistic: "Average", period: cpuPeriod, label: "Writer CPU %" });
  const replicaCpu = database.replica.metric("CPUUtilization", { statistic: "Average", period: cpuPeriod, label: "Replica CPU %" });
  const allocatedGiB = allocatedStorageGiB(database.instance);
  const freeStorageThresholdBytes = Math.round(allocatedGiB * ALARMS.databaseFreeStorage.fractionOfAllocated * GIB);
  const freeStoragePeriod = minutes(ALARMS.databaseFreeStorage.periodMinutes);
  const writerFreeStorage = database.instance.metricFreeStorageSpace({ statistic: "Minimum", period: freeStoragePeriod, label: "Writer free storage" });
  const replicaFreeStorage = database.replica.metric("FreeStorageSpace", { statistic: "Minimum", period: freeStoragePeriod, label: "Replica free storage" });
  const replicaLag = database.replica.metric("ReplicaLag", { statistic: "Maximum", period: minutes(ALARMS.replicaLag.periodMinutes), label: "Replica lag (s)" });

  // Payments: attempts and declines (or velocity refusals) from the API's payment.attempt log lines.
  const paymentPeriod = minutes(ALARMS.paymentDeclineRate.periodMinutes);
  const payments = paymentAttemptMetrics(stack, apiLogGroup(stack, service), `Checkout/${app.stage}`, paymentPeriod);
  const { minimumAttempts } = ALARMS.paymentDeclineRate;
  const paymentDeclineRate = new cloudwatch.MathExpression({
    expression: `IF(FILL(attempts, 0) >= ${minimumAttempts}, 100 * FILL(declined, 0) / FILL(attempts, 0), 0)`,
    usingMetrics: { attempts: payments.attempts, declined: payments.declinedOrRefused },
    period: paymentPeriod,
    label: "Declined or refused % of payment attempts",
  });

  const alarm = (id: string, props: Omit<cloudwatch.AlarmProps, "treatMissingData" | "datapointsToAlarm" | "actionsEnabled">) => {
    const created = new cloudwatch.Alarm(stack, id, {
      ...props,
      datapointsToAlarm: props.evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    created.addAlarmAction(new actions.SnsAction(topic));
    created.addOkAction(new actions.SnsAction(topic));
    return created;
  };
  const alarms = {
    latency: alarm("ApiLatencyAlarm", {
      alarmName: `${prefix}-api-latency`,
      alarmDescription: `Average API response time above ${ALARMS.latency.thresholdSeconds * 1000} ms over ${ALARMS.latency.periodMinutes} minutes.`,
      metric: latency,
      threshold: ALARMS.latency.thresholdSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: ALARMS.latency.evaluationPeriods,
    }),
    errorRate: alarm("ApiErrorRateAlarm", {
      alarmName: `${prefix}-api-5xx-rate`,
      alarmDescription: `API 5xx responses (tasks and load balancer) above ${ALARMS.errorRate.thresholdPercent} % of requests for ${ALARMS.errorRate.evaluationPeriods} minutes.`,
      metric: errorRate,
      threshold: ALARMS.errorRate.thresholdPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: ALARMS.errorRate.evaluationPeriods,
    }),
    unhealthyBlue: alarm("UnhealthyHostsBlueAlarm", {
      alarmName: `${prefix}-api-unhealthy-hosts-blue`,
      alarmDescription: `A task in the blue target group failed its /health check (the process answers no requests) for ${ALARMS.unhealthyHosts.evaluationPeriods} minutes.`,
      metric: unhealthyBlue,
      threshold: ALARMS.unhealthyHosts.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: ALARMS.unhealthyHosts.evaluationPeriods,
    }),
    unhealthyGreen: alarm("UnhealthyHostsGreenAlarm", {
      alarmName: `${prefix}-api-unhealthy-hosts-green`,
      alarmDescription: `A task in the green target group failed its /health check (the process answers no requests) for ${ALARMS.unhealthyHosts.evaluationPeriods} minutes.`,
      metric: unhealthyGreen,
      threshold: ALARMS.unhealthyHosts.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: ALARMS.unhealthyHosts.evaluationPeriods,
    }),
    tasksBelowMinimum: alarm("TasksBelowMinimumAlarm", {
      alarmName: `${prefix}-api-tasks-below-minimum`,
      alarmDescription: `Fewer than ${minTasks} API tasks running for ${ALARMS.tasksBelowMinimum.evaluationPeriods} minutes: tasks are failing to start or stay up.`,
      metric: runningTasks,
      threshold: minTasks,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: ALARMS.tasksBelowMinimum.evaluationPeriods,
    }),
    tasksNearMaximum: alarm("TasksNearMaximumAlarm", {
      alarmName: `${prefix}-api-tasks-near-maximum`,
      alarmDescription: `Autoscaling wants ${nearMaximum} or more of its ${maxTasks} API tasks: raise the maximum or find what drives the load.`,
      metric: desiredTasks,
      threshold: nearMaximum,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: ALARMS.tasksNearMaximum.evaluationPeriods,
    }),
    writerCpu: alarm("DatabaseWriterCpuAlarm", {
      alarmName: `${prefix}-db-writer-cpu`,
      alarmDescription: `Database writer CPU above ${ALARMS.databaseCpu.thresholdPercent} % for ${ALARMS.databaseCpu.evaluationPeriods * ALARMS.databaseCpu.periodMinutes} minutes.`,
      metric: writerCpu,
      threshold: ALARMS.databaseCpu.thresholdPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: ALARMS.databaseCpu.evaluationPeriods,
    }),
    replicaCpu: alarm("DatabaseReplicaCpuAlarm", {
      alarmName: `${prefix}-db-replica-cpu`,
      alarmDescription: `Database read replica CPU above ${ALARMS.databaseCpu.thresholdPercent} % for ${ALARMS.databaseCpu.evaluationPeriods * ALARMS.databaseCpu.periodMinutes} minutes.`,
      metric: replicaCpu,
      threshold: ALARMS.databaseCpu.thresholdPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: ALARMS.databaseCpu.evaluationPeriods,
    }),
    writerFreeStorage: alarm("DatabaseWriterFreeStorageAlarm", {
      alarmName: `${prefix}-db-writer-free-storage`,
      alarmDescription: `Database writer free storage below ${freeStorageThresholdBytes / GIB} GiB (${ALARMS.databaseFreeStorage.fractionOfAllocated * 100} % of ${allocatedGiB} GiB allocated).`,
      metric: writerFreeStorage,
      threshold: freeStorageThresholdBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: ALARMS.databaseFreeStorage.evaluationPeriods,
    }),
    replicaFreeStorage: alarm("DatabaseReplicaFreeStorageAlarm", {
      alarmName: `${prefix}-db-replica-free-storage`,
      alarmDescription: `Database read replica free storage below ${freeStorageThresholdBytes / GIB} GiB: replication stops when the replica fills up.`,
      metric: replicaFreeStorage,
      threshold: freeStorageThresholdBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: ALARMS.databaseFreeStorage.evaluationPeriods,
    }),
    replicaLag: alarm("DatabaseReplicaLagAlarm", {
      alarmName: `${prefix}-db-replica-lag`,
      alarmDescription: `Read replica more than ${ALARMS.replicaLag.thresholdSeconds} s behind the writer for ${ALARMS.replicaLag.evaluationPeriods} minutes: catalogue reads are stale.`,
      metric: replicaLag,
      threshold: ALARMS.replicaLag.thresholdSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: ALARMS.replicaLag.evaluationPeriods,
    }),
    paymentDeclineRate: alarm("PaymentDeclineRateAlarm", {
      alarmName: `${prefix}-payment-decline-rate`,
      alarmDescription: `Over ${ALARMS.paymentDeclineRate.thresholdPercent} % of payment attempts declined or refused by the velocity limits in ${ALARMS.paymentDeclineRate.periodMinutes} minutes (at least ${minimumAttempts} attempts): someone may be testing cards. See docs/CHECKOUT.md "Card-testing defences".`,
      metric: paymentDeclineRate,
      threshold: ALARMS.paymentDeclineRate.thresholdPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: ALARMS.paymentDeclineRate.evaluationPeriods,
    }),
  };

  const dashboard = new cloudwatch.Dashboard(stack, "Dashboard", {
    dashboardName: prefix,
    defaultInterval: Duration.hours(3),
    widgets: [
      [new cloudwatch.AlarmStatusWidget({ title: "Alarms", alarms: Object.values(alarms), width: 24, height: 4 })],
      [
        graph(
          "API response time (s)",
          [latency, alb.metrics.targetResponseTime({ statistic: "p95", period: minutes(1), label: "p95 target response time" })],
          ALARMS.latency.thresholdSeconds,
        ),
        graph("API 5xx rate (%)", [errorRate], ALARMS.errorRate.thresholdPercent),
        graph("Requests per minute", [requests, target5xx, elb5xx]),
      ],
      [
        graph("API tasks", [runningTasks, desiredTasks], undefined, [
          { value: minTasks, label: `minimum ${minTasks}` },
          { value: maxTasks, label: `maximum ${maxTasks}` },
        ]),
        graph("Unhealthy targets", [unhealthyBlue, unhealthyGreen], ALARMS.unhealthyHosts.threshold),
        graph("Healthy targets", [
          targetGroupMetric(alb, blue, "HealthyHostCount", "Minimum", unhealthyPeriod, "Healthy targets (blue)"),
          targetGroupMetric(alb, green, "HealthyHostCount", "Minimum", unhealthyPeriod, "Healthy targets (green)"),
        ]),
      ],
      [
        graph("Database CPU (%)", [writerCpu, replicaCpu], ALARMS.databaseCpu.thresholdPercent),
        graph("Database free storage (bytes)", [writerFreeStorage, replicaFreeStorage], freeStorageThresholdBytes),
        graph("Replica lag (s)", [replicaLag], ALARMS.replicaLag.thresholdSeconds),
      ],
      [
        graph("Payment attempts", [payments.attempts, payments.declinedOrRefused]),
        graph("Payments declined or refused (%)", [paymentDeclineRate], ALARMS.paymentDeclineRate.thresholdPercent),
      ],
    ],
  });

  return { topic, alarms, dashboard };
}

/** The topic alarms publish to: encrypted with a key CloudWatch may use (it cannot use SNS's AWS-managed key), HTTPS only. */
function alarmTopic(stack: Stack, email: string, prefix: string): sns.Topic {
  const key = new kms.Key(stack, "AlarmTopicKey", {
    description: `${prefix}: alarm notifications`,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "CloudWatchAlarmsPublishEncrypted",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: ["*"],
    }),
  );
  const topic = new sns.Topic(stack, "AlarmTopic", { displayName: `${prefix} alarms`, masterKey: key, enforceSSL: true });
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "CloudWatchAlarmsPublish",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["sns:Publish"],
      resources: [topic.topicArn],
      conditions: { ArnLike: { "aws:SourceArn": stack.formatArn({ service: "cloudwatch", resource: "alarm", resourceName: "*", arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
    }),
  );
  topic.addSubscription(new subscriptions.EmailSubscription(email));
  return topic;
}

function targetGroupMetric(
  alb: elbv2.ApplicationLoadBalancer,
  group: elbv2.ApplicationTargetGroup,
  metricName: string,
  statistic: string,
  period: Duration,
  label: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: "AWS/ApplicationELB",
    metricName,
    dimensionsMap: { LoadBalancer: alb.loadBalancerFullName, TargetGroup: group.targetGroupFullName },
    statistic,
    period,
    label,
  });
}

function serviceMetric(service: ecs.BaseService, metricName: string, statistic: string, period: Duration, label: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: "ECS/ContainerInsights",
    metricName,
    dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
    statistic,
    period,
    label,
  });
}

/** The API container's CloudWatch Logs group, as its awslogs driver names it (the Api stack does not export it). */
function apiLogGroup(stack: Stack, service: ecs.FargateService): logs.ILogGroup {
  const name = service.taskDefinition.defaultContainer?.logDriverConfig?.options?.["awslogs-group"];
  if (!name) throw new Error("the API container does not log to CloudWatch Logs (awslogs driver): the payment metric filters need its log group");
  return logs.LogGroup.fromLogGroupName(stack, "ApiLogGroup", name);
}

/** Metric filters counting the API's payment.attempt lines: all of them, and those declined or refused. */
function paymentAttemptMetrics(stack: Stack, logGroup: logs.ILogGroup, namespace: string, period: Duration) {
  const counted = (id: string, metricName: string, pattern: string, label: string) =>
    new logs.MetricFilter(stack, id, { logGroup, metricNamespace: namespace, metricName, filterPattern: logs.FilterPattern.literal(pattern), metricValue: "1" }).metric({
      statistic: "Sum",
      period,
      label,
    });
  return {
    attempts: counted("PaymentAttemptsFilter", "PaymentAttempts", PAYMENT_ATTEMPT_FILTERS.attempts, "Payment attempts"),
    declinedOrRefused: counted("PaymentDeclinesFilter", "PaymentAttemptsDeclinedOrRefused", PAYMENT_ATTEMPT_FILTERS.declinedOrRefused, "Declined or refused"),
  };
}

/** The writer's allocated storage in GiB, as Database.ts sets it. */
function allocatedStorageGiB(instance: rds.DatabaseInstance): number {
  const cfn = instance.node.defaultChild as rds.CfnDBInstance;
  const gib = Number(cfn.allocatedStorage);
  if (!Number.isFinite(gib) || gib <= 0) throw new Error(`the database's allocated storage is not a number of GiB: ${String(cfn.allocatedStorage)}`);
  return gib;
}

function graph(title: string, metrics: cloudwatch.IMetric[], threshold?: number, annotations: cloudwatch.HorizontalAnnotation[] = []): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({
    title,
    left: metrics,
    leftAnnotations: [...(threshold === undefined ? [] : [{ value: threshold, label: "alarm threshold", color: cloudwatch.Color.RED }]), ...annotations],
    width: 8,
    height: 6,
  });
}
