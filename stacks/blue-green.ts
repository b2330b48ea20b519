// ECS-native blue/green for a Fargate service behind an ALB, as CloudFormation property overrides: aws-cdk-lib 2.201
// has no typed property for it (neither the L2 FargateService nor the L1 CfnService knows these fields yet).
//
// How a deployment runs (ECS does all of it; nothing here runs at deploy time):
//   1. ECS starts the new (green) tasks and registers them in the target group that is not serving production.
//   2. The test listener rule is pointed at green, so green can be tried on the test listener before it takes traffic.
//   3. The production listener rule's weights flip to green in one step; blue keeps running for the bake time.
//   4. During the bake time (and before it) a deployment alarm in ALARM, or the circuit breaker, or an operator's
//      `aws ecs stop-service-deployment --stop-type ROLLBACK`, flips the production weights back to blue, which is
//      still running and registered: a rollback is one listener-rule change, not a new deployment.
//   5. After the bake time ECS scales blue in; the two target groups have swapped roles for the next deployment.
// Property names as in the CloudFormation reference for AWS::ECS::Service (DeploymentConfiguration.Strategy,
// BakeTimeInMinutes; LoadBalancers[].AdvancedConfiguration.AlternateTargetGroupArn, ProductionListenerRule,
// TestListenerRule, RoleArn).
import { Stack } from "aws-cdk-lib";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as iam from "aws-cdk-lib/aws-iam";
import type { IConstruct } from "constructs";

/**
 * A listener rule ECS may rewrite: an ApplicationListenerRule, or (as the Api stack does, so CloudFormation never
 * owns the weights) an EcsManagedListenerRule from stacks/listener-rules.ts.
 */
export interface BlueGreenListenerRule extends IConstruct {
  readonly listenerRuleArn: string;
}

export interface BlueGreenOptions {
  /** The target group the service is not attached to: ECS registers each new revision's tasks in whichever is idle. */
  alternateTargetGroup: elbv2.IApplicationTargetGroup;
  /** The listener rule for production traffic; its forward action must list both target groups (ECS sets the weights). */
  productionRule: BlueGreenListenerRule;
  /** The listener rule for test traffic to the new revision before production shifts to it. */
  testRule: BlueGreenListenerRule;
  /** How long blue keeps running after production traffic has shifted, ready to take it back. */
  bakeTimeMinutes: number;
}

/** The managed policy ECS needs to register targets and modify the two listener rules. */
export const ECS_LOAD_BALANCER_INFRASTRUCTURE_POLICY = "AmazonECSInfrastructureRolePolicyForLoadBalancers";

/**
 * Switches `service` (attached to exactly one ALB target group, ECS deployment controller) to the BLUE_GREEN
 * deployment strategy. Returns the ECS infrastructure role it creates for ECS to shift traffic.
 */
export function enableBlueGreen(service: ecs.FargateService, options: BlueGreenOptions): iam.Role {
  const role = new iam.Role(service, "BlueGreenInfrastructureRole", {
    assumedBy: new iam.ServicePrincipal("ecs.amazonaws.com"),
    description: "Lets ECS shift traffic between the blue and green target groups during blue/green deployments",
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(ECS_LOAD_BALANCER_INFRASTRUCTURE_POLICY)],
  });

  const cfn = service.node.defaultChild as ecs.CfnService;
  cfn.addPropertyOverride("DeploymentConfiguration.Strategy", "BLUE_GREEN");
  cfn.addPropertyOverride("DeploymentConfiguration.BakeTimeInMinutes", options.bakeTimeMinutes);
  cfn.addPropertyOverride("LoadBalancers.0.AdvancedConfiguration", {
    AlternateTargetGroupArn: options.alternateTargetGroup.targetGroupArn,
    ProductionListenerRule: options.productionRule.listenerRuleArn,
    TestListenerRule: options.testRule.listenerRuleArn,
    RoleArn: role.roleArn,
  });
  // ECS must see both rules in place (and the role's policy attached) before it accepts the service.
  cfn.node.addDependency(options.productionRule, options.testRule, role);

  // The overrides address LoadBalancers[0] and need the ECS controller: fail the synth if either stops being true.
  service.node.addValidation({
    validate: () => {
      const stack = Stack.of(service);
      const loadBalancers = stack.resolve(cfn.loadBalancers) as unknown[] | undefined;
      const controller = stack.resolve(cfn.deploymentController) as { type?: string } | undefined;
      const errors: string[] = [];
      if (loadBalancers?.length !== 1) errors.push(`blue/green needs exactly one load balancer target group, found ${loadBalancers?.length ?? 0}`);
      if (controller?.type !== undefined && controller.type !== "ECS") errors.push(`blue/green needs the ECS deployment controller, not ${controller.type}`);
      if (!Number.isInteger(options.bakeTimeMinutes) || options.bakeTimeMinutes < 0 || options.bakeTimeMinutes > 1440) {
        errors.push(`bake time must be a whole number of minutes from 0 to 1440, got ${options.bakeTimeMinutes}`);
      }
      return errors;
    },
  });
  return role;
}
