// The two listener rules ECS blue/green moves traffic on, created through a custom resource so that CloudFormation
// never owns their weights (aws-cdk issue 36649). With an AWS::ElasticLoadBalancingV2::ListenerRule, any stack update
// that touches the rule sends its template actions, blue = 100, even after ECS has moved production to green: every
// request would go to a target group ECS has scaled in. Here the rule is created once with blue = 100 / green = 0;
// an update sends ModifyRule with the conditions only (never an action), and a delete removes the rule.
//
// Limits of this design, on purpose: changing the initial weights or the target groups in code changes nothing on an
// existing rule (ECS owns them); replacing a target group or the listener needs a new rule (a new construct id).
import { type CustomResource, Fn } from "aws-cdk-lib";
import type * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";

export interface EcsManagedListenerRuleProps {
  listener: elbv2.IApplicationListener;
  priority: number;
  pathPatterns: string[];
  /** The forward action the rule is created with; from then on ECS sets the weights at every deployment. */
  initialTargets: { targetGroup: elbv2.IApplicationTargetGroup; weight: number }[];
}

/** What CloudFormation passes ELB for a rule's conditions (the API's shape, not CloudFormation's). */
function conditionsOf(pathPatterns: string[]) {
  return [{ Field: "path-pattern", PathPatternConfig: { Values: pathPatterns } }];
}

/** `arn:…:listener-rule/app/<alb>/<id>/<listener>/*`: every rule of this listener, for Modify and Delete. */
function rulesOfListener(listenerArn: string): string {
  const [prefix, rest] = [Fn.select(0, Fn.split(":listener/", listenerArn)), Fn.select(1, Fn.split(":listener/", listenerArn))];
  return Fn.join("", [prefix, ":listener-rule/", rest, "/*"]);
}

export class EcsManagedListenerRule extends Construct {
  /** The rule's ARN (the custom resource's physical id): what ECS's ProductionListenerRule / TestListenerRule take. */
  readonly listenerRuleArn: string;

  constructor(scope: Construct, id: string, props: EcsManagedListenerRuleProps) {
    super(scope, id);
    const listenerArn = props.listener.listenerArn;
    // The SDK v3 package by its full name: the handler maps "ElasticLoadBalancingV2" to a package that does not exist.
    const service = "@aws-sdk/client-elastic-load-balancing-v2";
    const resource = new cr.AwsCustomResource(this, "Resource", {
      resourceType: "Custom::EcsManagedListenerRule",
      onCreate: {
        service,
        action: "createRule",
        parameters: {
          ListenerArn: listenerArn,
          Priority: props.priority,
          Conditions: conditionsOf(props.pathPatterns),
          Actions: [
            {
              Type: "forward",
              ForwardConfig: { TargetGroups: props.initialTargets.map(({ targetGroup, weight }) => ({ TargetGroupArn: targetGroup.targetGroupArn, Weight: weight })) },
            },
          ],
        },
        physicalResourceId: cr.PhysicalResourceId.fromResponse("Rules.0.RuleArn"),
        outputPaths: ["Rules.0.RuleArn"],
      },
      // Conditions only: the actions (and their weights) are ECS's once the rule exists.
      onUpdate: {
        service,
        action: "modifyRule",
        parameters: { RuleArn: new cr.PhysicalResourceIdReference(), Conditions: conditionsOf(props.pathPatterns) },
        outputPaths: ["Rules.0.RuleArn"],
      },
      onDelete: {
        service,
        action: "deleteRule",
        parameters: { RuleArn: new cr.PhysicalResourceIdReference() },
        // Gone with its listener already: nothing left to delete.
        ignoreErrorCodesMatching: "RuleNotFound|ListenerNotFound",
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ["elasticloadbalancing:CreateRule", "elasticloadbalancing:ModifyRule", "elasticloadbalancing:DeleteRule"],
          resources: [listenerArn, rulesOfListener(listenerArn)],
        }),
      ]),
      installLatestAwsSdk: false,
    });
    // Ref of the custom resource is its physical id, the rule's ARN: unlike a response field, it survives an update.
    this.listenerRuleArn = (resource.node.findChild("Resource") as CustomResource).ref;
  }
}
