// Tracing in AWS: an AWS Distro for OpenTelemetry collector beside the API container in each task, receiving the API's
// spans over OTLP/HTTP on localhost and sending them to X-Ray; the API's OTEL_* settings that point at it, sampled per
// stage; the task role's permission to write trace segments. docs/OPERATIONS.md "Tracing".
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as logs from "aws-cdk-lib/aws-logs";
import { COLLECTOR_SIZE } from "./api-task-size.ts";
import type { StageConfig } from "./config.ts";

/** Pinned: a collector upgrade is a reviewed change like any other (its awsxray exporter's mapping can change). */
export const COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0";
export const COLLECTOR_CONTAINER_NAME = "otel-collector";
/** OTLP/HTTP's standard port, on the task's loopback (awsvpc: the containers of a task share localhost). */
export const COLLECTOR_OTLP_HTTP_PORT = 4318;
/** Production stages trace one request in 20 (the exporter's cost and X-Ray's bill grow with it); others trace all. */
export const PRODUCTION_TRACE_SAMPLE_RATIO = 0.05;

/** The share of requests a stage traces: its own `traceSampleRatio`, else 5 % in production stages and 100 % elsewhere. */
export function traceSampleRatioOf(config: StageConfig): number {
  return config.traceSampleRatio ?? (config.isProduction ? PRODUCTION_TRACE_SAMPLE_RATIO : 1);
}

/** The API container's tracing settings (packages/api/src/env.ts): on, to the collector beside it, sampled per stage. */
export function tracingEnvironment(config: StageConfig): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${COLLECTOR_OTLP_HTTP_PORT}`,
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: String(traceSampleRatioOf(config)),
    OTEL_SERVICE_NAME: "checkout-api",
  };
}

/**
 * The collector's configuration (AOT_CONFIG_CONTENT): OTLP/HTTP in on the task's loopback only, a memory limit below
 * the container's, batches, and X-Ray out in the stage's region. The request id is indexed (an X-Ray annotation), so a
 * trace can be found from the id a shopper quotes.
 */
export function collectorConfig(region: string): string {
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${COLLECTOR_OTLP_HTTP_PORT}
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: ${COLLECTOR_SIZE.memoryMiB - 56}
    spike_limit_mib: 40
  batch:
    timeout: 1s
exporters:
  awsxray:
    region: ${region}
    indexed_attributes: [checkout.request_id]
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [awsxray]
`;
}

/**
 * Adds the collector to the API task: its CPU and memory are COLLECTOR_SIZE, carved out of API_TASK_SIZE (the API
 * container reserves the rest), its logs go to the API's log group, and the API container starts after it. It is not
 * essential: a collector that fails loses traces, never the task and its shoppers' requests.
 */
export function addTracingCollector(taskDefinition: ecs.TaskDefinition, options: { logGroup: logs.ILogGroup; region: string }): ecs.ContainerDefinition {
  const appContainer = taskDefinition.defaultContainer!;
  const collector = taskDefinition.addContainer("OtelCollector", {
    containerName: COLLECTOR_CONTAINER_NAME,
    image: ecs.ContainerImage.fromRegistry(COLLECTOR_IMAGE),
    essential: false,
    cpu: COLLECTOR_SIZE.cpu,
    memoryLimitMiB: COLLECTOR_SIZE.memoryMiB,
    readonlyRootFilesystem: true,
    environment: { AOT_CONFIG_CONTENT: collectorConfig(options.region) },
    logging: ecs.LogDrivers.awsLogs({ logGroup: options.logGroup, streamPrefix: "otel-collector", mode: ecs.AwsLogDriverMode.NON_BLOCKING }),
  });
  appContainer.addContainerDependencies({ container: collector, condition: ecs.ContainerDependencyCondition.START });
  // X-Ray's PutTraceSegments has no resource-level permissions: it is granted on * (a reviewed suppression in
  // stacks/api-findings.ts). No sampling-rule reads: sampling is decided in the API (OTEL_TRACES_SAMPLER_ARG), and
  // no telemetry records: the exporter's own telemetry is off.
  taskDefinition.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: "WriteTraceSegments", actions: ["xray:PutTraceSegments"], resources: ["*"] }));
  return collector;
}
