// Tracing in the prod stage's API task: the ADOT collector beside the API container (pinned image, OTLP/HTTP on the
// task's loopback, X-Ray out, its share of the task, logs in the API's group), the API pointed at it and sampled at the
// stage's ratio, X-Ray's one write permission, and no cdk-nag finding left.
import { beforeAll, describe, expect, it } from "vitest";
import { apiContainersOf } from "../api-task-contract.ts";
import { API_TASK_SIZE, apiContainerSizeOf, COLLECTOR_SIZE } from "../api-task-size.ts";
import { COLLECTOR_CONTAINER_NAME, COLLECTOR_IMAGE, PRODUCTION_TRACE_SAMPLE_RATIO, traceSampleRatioOf } from "../api-tracing.ts";
import { stageConfig } from "../config.ts";
import { environmentOf, ofType, synthesize, type Json, type NagFinding, type Resources } from "./support.ts";

let resources: Resources;
let taskDefinition: Json;
let app: Json;
let collector: Json;
let findings: NagFinding[];

beforeAll(async () => {
  const synthesized = await synthesize("prod");
  const template = synthesized.template("Api").toJSON();
  resources = template.Resources as Resources;
  findings = synthesized.findings;
  app = apiContainersOf(template).app;
  taskDefinition = ofType(resources, "AWS::ECS::TaskDefinition")[0]![1];
  collector = (taskDefinition.ContainerDefinitions as Json[]).find((container) => container.Name === COLLECTOR_CONTAINER_NAME)!;
});

describe("the tracing collector", () => {
  it("runs the pinned ADOT image beside the API, not essential to the task, and the API starts after it", () => {
    expect(collector).toBeDefined();
    expect(COLLECTOR_IMAGE).toMatch(/^public\.ecr\.aws\/aws-observability\/aws-otel-collector:v\d+\.\d+\.\d+$/);
    expect(collector.Image).toBe(COLLECTOR_IMAGE);
    expect(collector.Essential).toBe(false);
    expect(collector.ReadonlyRootFilesystem).toBe(true);
    expect(collector.PortMappings ?? []).toEqual([]);
    expect(app.DependsOn).toContainEqual({ ContainerName: COLLECTOR_CONTAINER_NAME, Condition: "START" });
  });

  it("receives OTLP/HTTP on the task's loopback at 4318 and exports to X-Ray in the stage's region, indexing the request id", () => {
    const config = String(environmentOf(collector).AOT_CONFIG_CONTENT);
    expect(config).toMatch(/receivers:\n {2}otlp:\n {4}protocols:\n {6}http:\n {8}endpoint: 127\.0\.0\.1:4318\n/);
    expect(config).not.toMatch(/grpc/);
    expect(config).toMatch(/exporters:\n {2}awsxray:\n {4}region: us-east-1\n {4}indexed_attributes: \[checkout\.request_id\]\n/);
    expect(config).toMatch(/traces:\n {6}receivers: \[otlp\]\n {6}processors: \[memory_limiter, batch\]\n {6}exporters: \[awsxray\]\n/);
    const limit = Number(/limit_mib: (\d+)/.exec(config)?.[1]);
    expect(limit).toBeGreaterThan(0);
    expect(limit).toBeLessThan(COLLECTOR_SIZE.memoryMiB);
  });

  it("takes its CPU and memory out of API_TASK_SIZE: with the API container's reservations they add up to the task", () => {
    expect([collector.Cpu, collector.Memory]).toEqual([COLLECTOR_SIZE.cpu, COLLECTOR_SIZE.memoryMiB]);
    expect([app.Cpu, app.MemoryReservation]).toEqual([apiContainerSizeOf(API_TASK_SIZE).cpu, apiContainerSizeOf(API_TASK_SIZE).memoryMiB]);
    expect(app.Cpu + collector.Cpu).toBe(Number(taskDefinition.Cpu));
    expect(app.MemoryReservation + collector.Memory).toBe(Number(taskDefinition.Memory));
  });

  it("logs to the API's log group", () => {
    expect(collector.LogConfiguration.LogDriver).toBe("awslogs");
    expect(collector.LogConfiguration.Options["awslogs-group"]).toEqual(app.LogConfiguration.Options["awslogs-group"]);
    expect(collector.LogConfiguration.Options["awslogs-stream-prefix"]).toBe("otel-collector");
  });
});

describe("the API container's tracing settings", () => {
  it("sends to the collector on localhost and samples at the stage's ratio (prod: 5 %)", () => {
    expect(environmentOf(app)).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: String(PRODUCTION_TRACE_SAMPLE_RATIO),
      OTEL_SERVICE_NAME: "checkout-api",
    });
    expect(PRODUCTION_TRACE_SAMPLE_RATIO).toBe(0.05);
  });

  it("traces every request in dev, 5 % in production stages, or a stage's own ratio", () => {
    expect(traceSampleRatioOf(stageConfig("dev"))).toBe(1);
    expect(traceSampleRatioOf(stageConfig("prod"))).toBe(0.05);
    expect(traceSampleRatioOf({ ...stageConfig("prod"), traceSampleRatio: 0.2 })).toBe(0.2);
  });
});

describe("X-Ray permissions", () => {
  it("grants the task role xray:PutTraceSegments alone (on *, X-Ray has no resource-level permissions), and no other X-Ray action anywhere", () => {
    const statements = ofType(resources, "AWS::IAM::Policy").flatMap(([, policy]) =>
      (policy.PolicyDocument.Statement as Json[]).map((statement) => ({ roles: JSON.stringify(policy.Roles), statement })),
    );
    const xray = statements.filter(({ statement }) => JSON.stringify(statement.Action).includes("xray:"));
    expect(xray).toHaveLength(1);
    expect(xray[0]!.roles).toMatch(/TaskRole/);
    expect(xray[0]!.statement).toMatchObject({ Sid: "WriteTraceSegments", Effect: "Allow", Action: "xray:PutTraceSegments", Resource: "*" });
  });

  it("leaves cdk-nag clean: no finding on the task definition, the collector or the task role", () => {
    const errors = findings.filter((finding) => finding.level === "error");
    expect(errors).toEqual([]);
    expect(findings.filter((finding) => /TaskDefinition|TaskRole|OtelCollector/.test(finding.path))).toEqual([]);
  });
});
