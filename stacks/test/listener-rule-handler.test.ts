// The listener rules' custom resource run through CDK's own AwsCustomResource handler (the code the Lambda function
// runs), with the ELB SDK and CloudFormation's response URL replaced by recorders: for the synthesized rule, a stack
// update calls ModifyRule with the conditions alone, so no update can move ECS's weights back to blue.
import { createRequire } from "node:module";
import Module from "node:module";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { synthesize, type Json } from "./support.ts";

const require = createRequire(import.meta.url);
// The handler CDK bundles into the function's asset (not an exported subpath of the package, so found from its root).
const HANDLER = path.join(path.dirname(require.resolve("aws-cdk-lib")), "custom-resource-handlers/dist/custom-resources/aws-custom-resource-handler/index.js");
const RULE_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/alb/1/2/rule-1";
const FAKE: Record<string, string> = {
  LoadBalancerHttps: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/2",
  TargetGroupBlue: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1",
  TargetGroupGreen: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2",
};

const elbCalls: { command: string; input: Json }[] = [];
const responses: Json[] = [];
const originalLoad = (Module as unknown as { _load: (...args: unknown[]) => unknown })._load;
let properties: Json;

/** A stand-in for @aws-sdk/client-elastic-load-balancing-v2: records every command, answers as ELB would. */
function fakeElbPackage(): Json {
  const command = (name: string) =>
    class {
      readonly name = name;
      constructor(readonly input: Json) {}
    };
  return {
    ElasticLoadBalancingV2Client: class {
      config = { apiVersion: "2015-12-01", region: async () => "us-east-1" };
      async send(cmd: { name: string; input: Json }) {
        elbCalls.push({ command: cmd.name, input: JSON.parse(JSON.stringify(cmd.input)) });
        return cmd.name === "DeleteRuleCommand" ? {} : { Rules: [{ RuleArn: RULE_ARN }] };
      }
    },
    CreateRuleCommand: command("CreateRuleCommand"),
    ModifyRuleCommand: command("ModifyRuleCommand"),
    DeleteRuleCommand: command("DeleteRuleCommand"),
  };
}

/** What CloudFormation hands the function: the template's property with Ref values resolved. */
function resolveCall(value: unknown): string {
  if (typeof value === "string") return value;
  const parts = (value as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1];
  return parts
    .map((part) => {
      if (typeof part === "string") return part;
      const ref = (part as { Ref: string }).Ref;
      const key = Object.keys(FAKE).find((prefix) => ref.startsWith(prefix));
      if (!key) throw new Error(`no stand-in value for ${ref}`);
      return FAKE[key];
    })
    .join("");
}

async function invoke(requestType: "Create" | "Update" | "Delete"): Promise<Json> {
  const { handler } = require(HANDLER) as { handler: (event: Json, context: Json) => Promise<void> };
  const resourceProperties = {
    ServiceToken: "arn:aws:lambda:fn",
    Create: resolveCall(properties.Create),
    Update: resolveCall(properties.Update),
    Delete: resolveCall(properties.Delete),
    InstallLatestAwsSdk: "false",
  };
  await handler(
    {
      RequestType: requestType,
      ResourceProperties: resourceProperties,
      OldResourceProperties: requestType === "Update" ? resourceProperties : undefined,
      PhysicalResourceId: requestType === "Create" ? undefined : RULE_ARN,
      LogicalResourceId: "ProductionRule",
      RequestId: "request-1",
      StackId: "arn:aws:cloudformation:us-east-1:123456789012:stack/prod-checkout-Api/0f0e0d0c-0000-0000-0000-000000000000",
      ResponseURL: "https://cloudformation-custom-resource-response.invalid/response",
    },
    {},
  );
  return responses.at(-1)!;
}

beforeAll(async () => {
  const resources = (await synthesize()).resources("Api");
  const service = Object.values(resources).find((r) => r.Type === "AWS::ECS::Service")!;
  properties = resources[service.Properties.LoadBalancers[0].AdvancedConfiguration.ProductionListenerRule.Ref]!.Properties;
  const elb = fakeElbPackage();
  const https = {
    request: (_options: Json, done: () => void) => {
      let body = "";
      return {
        on: () => undefined,
        write: (chunk: string) => (body += chunk),
        end: () => {
          responses.push(JSON.parse(body));
          done();
        },
      };
    },
  };
  (Module as unknown as { _load: (...args: unknown[]) => unknown })._load = function (request: unknown, ...rest: unknown[]) {
    if (request === "@aws-sdk/client-elastic-load-balancing-v2") return elb;
    if (request === "https") return https;
    return originalLoad.call(this, request, ...rest);
  };
});

afterAll(() => {
  (Module as unknown as { _load: unknown })._load = originalLoad;
});

describe("the production listener rule through CDK's AwsCustomResource handler", () => {
  it("on create: one CreateRule with the conditions and both target groups, blue at 100; the rule's ARN becomes the physical id", async () => {
    elbCalls.length = 0;
    const response = await invoke("Create");
    expect(response).toMatchObject({ Status: "SUCCESS", PhysicalResourceId: RULE_ARN });
    expect(elbCalls.map((c) => c.command)).toEqual(["CreateRuleCommand"]);
    expect(elbCalls[0]!.input.Actions[0].ForwardConfig.TargetGroups).toEqual([
      { TargetGroupArn: FAKE.TargetGroupBlue, Weight: 100 },
      { TargetGroupArn: FAKE.TargetGroupGreen, Weight: 0 },
    ]);
  });

  it("on update (any stack update that touches the rule): one ModifyRule with the conditions only, and the same physical id", async () => {
    elbCalls.length = 0;
    const response = await invoke("Update");
    expect(response).toMatchObject({ Status: "SUCCESS", PhysicalResourceId: RULE_ARN });
    expect(elbCalls).toEqual([{ command: "ModifyRuleCommand", input: { RuleArn: RULE_ARN, Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/*"] } }] } }]);
  });

  it("on delete: one DeleteRule of that rule", async () => {
    elbCalls.length = 0;
    const response = await invoke("Delete");
    expect(response).toMatchObject({ Status: "SUCCESS", PhysicalResourceId: RULE_ARN });
    expect(elbCalls).toEqual([{ command: "DeleteRuleCommand", input: { RuleArn: RULE_ARN } }]);
  });
});
