// ECS owns the listener rules' weights (aws-cdk issue 36649): after ECS has moved production to green, no later
// CloudFormation update may send the rules' actions again. Proved over the template: the rules are custom resources
// whose Update call carries conditions only, and the Update call does not change when the weights or the target groups
// in code do, so an update of the stack (or of the rule) has nothing that could reset them.
import { App as CdkApp, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import { beforeAll, describe, expect, it } from "vitest";
import { EcsManagedListenerRule } from "../listener-rules.ts";
import { sdkCallsOf } from "./custom-resource-calls.ts";
import { synthesize, type Resources, type Synthesized } from "./support.ts";

let synthesized: Synthesized;
let resources: Resources;
let rules: { production: string; test: string };

beforeAll(async () => {
  synthesized = await synthesize();
  resources = synthesized.resources("Api");
  const service = Object.values(resources).find((r) => r.Type === "AWS::ECS::Service")!;
  const advanced = service.Properties.LoadBalancers[0].AdvancedConfiguration;
  rules = { production: advanced.ProductionListenerRule.Ref, test: advanced.TestListenerRule.Ref };
});

/** One rule built alone in a throwaway stack: the template of the listener-rule custom resource with these targets. */
function ruleTemplate(weights: [number, number], targetGroupIds: [string, string] = ["Blue", "Green"]): Record<string, any> {
  const app = new CdkApp();
  const stack = new Stack(app, "Rules", { env: { account: "123456789012", region: "us-east-1" } });
  const vpc = new ec2.Vpc(stack, "Vpc", { maxAzs: 2, natGateways: 0 });
  const alb = new elbv2.ApplicationLoadBalancer(stack, "Alb", { vpc });
  const group = (id: string) => new elbv2.ApplicationTargetGroup(stack, id, { vpc, port: 3000, protocol: elbv2.ApplicationProtocol.HTTP, targetType: elbv2.TargetType.IP });
  const [first, second] = [group(targetGroupIds[0]), group(targetGroupIds[1])];
  const listener = alb.addListener("Listener", { port: 80, defaultAction: elbv2.ListenerAction.forward([first]) });
  new EcsManagedListenerRule(stack, "ProductionRule", {
    listener,
    priority: 1,
    pathPatterns: ["/*"],
    initialTargets: [
      { targetGroup: first, weight: weights[0] },
      { targetGroup: second, weight: weights[1] },
    ],
  });
  const all = app.synth().getStackByName("Rules").template.Resources as Resources;
  return Object.values(all).find((r) => r.Type === "Custom::EcsManagedListenerRule")!.Properties;
}

describe("the listener rules ECS moves traffic on", () => {
  it("are not CloudFormation listener rules anywhere in the app: no template holds their actions as a resource property", () => {
    for (const stack of synthesized.stacks) {
      const all = synthesized.resources(stack.node.id);
      expect(
        Object.values(all).filter((r) => r.Type === "AWS::ElasticLoadBalancingV2::ListenerRule"),
        stack.node.id,
      ).toEqual([]);
    }
    expect(resources[rules.production]!.Type).toBe("Custom::EcsManagedListenerRule");
    expect(resources[rules.test]!.Type).toBe("Custom::EcsManagedListenerRule");
  });

  it.each(["production", "test"] as const)("%s: is created with both target groups, blue at 100 and green at 0", (which) => {
    const { create } = sdkCallsOf(resources[rules[which]]!.Properties);
    expect(create).toMatchObject({ service: "@aws-sdk/client-elastic-load-balancing-v2", action: "createRule", physicalResourceId: { responsePath: "Rules.0.RuleArn" } });
    const weights = create!.parameters!.Actions[0].ForwardConfig.TargetGroups.map((g: { TargetGroupArn: { Ref: string }; Weight: number }) => [g.TargetGroupArn.Ref, g.Weight]);
    expect(weights).toEqual([
      [expect.stringMatching(/^TargetGroupBlue/), 100],
      [expect.stringMatching(/^TargetGroupGreen/), 0],
    ]);
  });

  it.each(["production", "test"] as const)("%s: an update sends ModifyRule with the rule's conditions only, never an action, a target group or a weight", (which) => {
    const { update } = sdkCallsOf(resources[rules[which]]!.Properties);
    expect(update).toEqual({
      service: "@aws-sdk/client-elastic-load-balancing-v2",
      action: "modifyRule",
      parameters: { RuleArn: "PHYSICAL:RESOURCEID:", Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/*"] } }] },
      outputPaths: ["Rules.0.RuleArn"],
    });
    expect(JSON.stringify(update)).not.toMatch(/Actions|ForwardConfig|TargetGroup|Weight/);
  });

  it.each(["production", "test"] as const)("%s: a delete removes the rule it created, and a rule already gone with its listener is not an error", (which) => {
    const { delete: remove } = sdkCallsOf(resources[rules[which]]!.Properties);
    expect(remove).toEqual({
      service: "@aws-sdk/client-elastic-load-balancing-v2",
      action: "deleteRule",
      parameters: { RuleArn: "PHYSICAL:RESOURCEID:" },
      ignoreErrorCodesMatching: "RuleNotFound|ListenerNotFound",
    });
  });

  it("sends the same update whatever the weights or the target groups in code: a template change there reaches only the create call, which never runs again", () => {
    const asDeployed = ruleTemplate([100, 0]);
    const greenServing = ruleTemplate([0, 100]);
    const otherGroups = ruleTemplate([100, 0], ["Blue2", "Green2"]);
    expect(JSON.stringify(asDeployed.Create)).not.toEqual(JSON.stringify(greenServing.Create));
    expect(JSON.stringify(asDeployed.Create)).not.toEqual(JSON.stringify(otherGroups.Create));
    expect(greenServing.Update).toEqual(asDeployed.Update);
    expect(otherGroups.Update).toEqual(asDeployed.Update);
    // The physical id (the rule's ARN) comes from the create call alone; an update keeps it, so ECS's reference holds.
    expect(sdkCallsOf(asDeployed).update!.physicalResourceId).toBeUndefined();
  });

  it("hands ECS the rules' ARNs as the custom resources' physical ids, and ECS's service waits for both", () => {
    const service = Object.entries(resources).find(([, r]) => r.Type === "AWS::ECS::Service")!;
    expect(service[1].DependsOn).toEqual(expect.arrayContaining([rules.production, rules.test]));
    const listenerOf = (id: string) => sdkCallsOf(resources[id]!.Properties).create!.parameters!.ListenerArn.Ref as string;
    expect(resources[listenerOf(rules.production)]!.Properties.Port).toBe(443);
    expect(resources[listenerOf(rules.test)]!.Properties.Port).not.toBe(443);
  });

  it("lets the custom resource's function create, modify and delete rules of its own listener only", () => {
    for (const id of [rules.production, rules.test]) {
      const policyId = resources[id]!.DependsOn!.find((d) => resources[d]?.Type === "AWS::IAM::Policy")!;
      const statements = resources[policyId]!.Properties.PolicyDocument.Statement;
      expect(statements).toHaveLength(1);
      expect(statements[0].Action).toEqual(["elasticloadbalancing:CreateRule", "elasticloadbalancing:ModifyRule", "elasticloadbalancing:DeleteRule"]);
      const listener = sdkCallsOf(resources[id]!.Properties).create!.parameters!.ListenerArn;
      expect(statements[0].Resource[0]).toEqual(listener);
      expect(JSON.stringify(statements[0].Resource[1])).toContain(JSON.stringify(listener));
      expect(JSON.stringify(statements[0].Resource[1])).toContain(":listener-rule/");
    }
  });
});
