// The API's autoscaling (CPU, memory, and requests per target across blue and green) and the deployment alarms ECS rolls back on.
import { Duration, Names, type Stack } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import { HEALTH_CHECK_PATH } from "./api-task-contract.ts";

/**
 * Autoscaling targets. Requests per task per minute is a starting point (300 req/s per 1-vCPU task, well under what
 * one API process served in docs/BENCHMARKS.md); replace it with `checkout-loadtest plan`'s per-process rate measured
 * against a deployed stage.
 */
export const SCALING = { cpuPercent: 60, memoryPercent: 75, requestsPerTaskPerMinute: 18_000, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300 } as const;
/** Deployment alarms: a deployment rolls back when either is in ALARM (2 of 2 one-minute periods). */
export const DEPLOYMENT_ALARMS = { errorRatePercent: 1, minimumRequestsPerMinute: 20, unhealthyTargets: 1, periodSeconds: 60, evaluationPeriods: 2 } as const;

export interface Balancer {
  alb: elbv2.ApplicationLoadBalancer;
  blue: elbv2.ApplicationTargetGroup;
  green: elbv2.ApplicationTargetGroup;
}

/** An ALB metric of one target group, per minute. */
function targetGroupMetric(group: elbv2.ApplicationTargetGroup, alb: elbv2.ApplicationLoadBalancer, metricName: string, statistic: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: "AWS/ApplicationELB",
    metricName,
    dimensionsMap: { TargetGroup: group.targetGroupFullName, LoadBalancer: alb.loadBalancerFullName },
    statistic,
    period: Duration.minutes(1),
  });
}

/** Autoscaling on CPU, memory and requests per target, between the Service's bounds (API_TASK_SIZE's minTasks and maxTasks). */
export function addAutoscaling(scaling: ecs.ScalableTaskCount, balancer: Balancer): void {
  const cooldowns = { scaleOutCooldown: Duration.seconds(SCALING.scaleOutCooldownSeconds), scaleInCooldown: Duration.seconds(SCALING.scaleInCooldownSeconds) };
  scaling.scaleOnCpuUtilization("CpuScaling", { targetUtilizationPercent: SCALING.cpuPercent, ...cooldowns });
  scaling.scaleOnMemoryUtilization("MemoryScaling", { targetUtilizationPercent: SCALING.memoryPercent, ...cooldowns });
  addRequestsPerTargetScaling(scaling, balancer);
}

/**
 * Target tracking on requests per healthy target across both target groups. The predefined ALBRequestCountPerTarget
 * names one target group, and blue/green moves production between the two at every deployment, so a policy on one
 * group would see no requests half of the time. Metric math in target tracking has no L2 in aws-cdk-lib 2.201.
 */
function addRequestsPerTargetScaling(scaling: ecs.ScalableTaskCount, { alb, blue, green }: Balancer): appscaling.CfnScalingPolicy {
  const target = scaling.node.findChild("Target") as appscaling.ScalableTarget;
  const query = (id: string, group: elbv2.ApplicationTargetGroup, metricName: string, stat: string): appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty => ({
    id,
    returnData: false,
    metricStat: {
      stat,
      metric: {
        namespace: "AWS/ApplicationELB",
        metricName,
        dimensions: [
          { name: "TargetGroup", value: group.targetGroupFullName },
          { name: "LoadBalancer", value: alb.loadBalancerFullName },
        ],
      },
    },
  });
  const policy = new appscaling.CfnScalingPolicy(scaling, "RequestScaling", {
    policyName: `${Names.uniqueId(scaling)}RequestScaling`,
    policyType: "TargetTrackingScaling",
    scalingTargetId: target.scalableTargetId,
    targetTrackingScalingPolicyConfiguration: {
      targetValue: SCALING.requestsPerTaskPerMinute,
      scaleOutCooldown: SCALING.scaleOutCooldownSeconds,
      scaleInCooldown: SCALING.scaleInCooldownSeconds,
      customizedMetricSpecification: {
        metrics: [
          query("requests_blue", blue, "RequestCount", "Sum"),
          query("requests_green", green, "RequestCount", "Sum"),
          query("healthy_blue", blue, "HealthyHostCount", "Average"),
          query("healthy_green", green, "HealthyHostCount", "Average"),
          {
            id: "requests_per_target",
            label: "Requests per healthy target per minute (blue + green)",
            expression: "(FILL(requests_blue, 0) + FILL(requests_green, 0)) / (FILL(healthy_blue, 0) + FILL(healthy_green, 0))",
            returnData: true,
          },
        ],
      },
    },
  });
  return policy;
}

/**
 * The deployment guards besides the circuit breaker: two alarms ECS watches during a deployment and its bake time;
 * ALARM in either rolls the deployment back.
 */
export function guardDeployments(stack: Stack, service: ecs.FargateService, balancer: Balancer): DeploymentAlarms {
  const alarms = createDeploymentAlarms(stack, balancer);
  service.enableDeploymentAlarms([alarms.errorRate.alarmName, alarms.unhealthyTargets.alarmName], { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM });
  return alarms;
}

export interface DeploymentAlarms {
  errorRate: cloudwatch.Alarm;
  unhealthyTargets: cloudwatch.Alarm;
}

function createDeploymentAlarms(stack: Stack, { alb, blue, green }: Balancer): DeploymentAlarms {
  const period = Duration.seconds(DEPLOYMENT_ALARMS.periodSeconds);
  const errorRate = new cloudwatch.MathExpression({
    // 5xx from the tasks and from the ALB itself (502/503/504 when tasks crash or none is healthy), as a percentage
    // of all requests. RequestCount counts only requests the ALB could give a target, so the ALB's own 5xx are added
    // to the total too: with no healthy task the rate is 100 %, not nothing. Below a minimum volume one failed request
    // is not a 1 % signal.
    expression: `IF(FILL(requests, 0) + FILL(elb5xx, 0) >= ${DEPLOYMENT_ALARMS.minimumRequestsPerMinute}, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / (FILL(requests, 0) + FILL(elb5xx, 0)), 0)`,
    usingMetrics: {
      requests: alb.metrics.requestCount({ period, statistic: "Sum" }),
      target5xx: alb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period, statistic: "Sum" }),
      elb5xx: alb.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period, statistic: "Sum" }),
    },
    label: "5xx % of requests",
    period,
  });
  const unhealthy = new cloudwatch.MathExpression({
    expression: "FILL(unhealthy_blue, 0) + FILL(unhealthy_green, 0)",
    usingMetrics: {
      unhealthy_blue: targetGroupMetric(blue, alb, "UnHealthyHostCount", "Maximum"),
      unhealthy_green: targetGroupMetric(green, alb, "UnHealthyHostCount", "Maximum"),
    },
    label: "Unhealthy targets (blue + green)",
    period,
  });
  const common = {
    evaluationPeriods: DEPLOYMENT_ALARMS.evaluationPeriods,
    datapointsToAlarm: DEPLOYMENT_ALARMS.evaluationPeriods,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  };
  return {
    errorRate: new cloudwatch.Alarm(stack, "DeploymentErrorRateAlarm", {
      ...common,
      metric: errorRate,
      threshold: DEPLOYMENT_ALARMS.errorRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: `API 5xx above ${DEPLOYMENT_ALARMS.errorRatePercent} % of requests for ${DEPLOYMENT_ALARMS.evaluationPeriods} minutes; rolls back an ECS deployment in progress.`,
    }),
    unhealthyTargets: new cloudwatch.Alarm(stack, "DeploymentUnhealthyTargetsAlarm", {
      ...common,
      metric: unhealthy,
      threshold: DEPLOYMENT_ALARMS.unhealthyTargets,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: `An API target failed its ${HEALTH_CHECK_PATH} health check for ${DEPLOYMENT_ALARMS.evaluationPeriods} minutes; rolls back an ECS deployment in progress.`,
    }),
  };
}
