// cdk-nag's AWS Solutions and PCI DSS 3.2.1 packs over the whole app. Every suppression is registered here with the
// rule, the resource and a sentence of reason; a test prints the list for review and fails on one without a reason.
import { Aspects, Stack } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import { AwsSolutionsChecks, NagSuppressions, PCIDSS321Checks } from "cdk-nag";
import type { App } from "sst/constructs";

export interface Suppression {
  /** The cdk-nag rule id, e.g. "AwsSolutions-IAM5" or "PCI.DSS.321-VPCSGOpenOnlyToAuthorizedPorts". */
  rule: string;
  /** Why this rule does not apply here, or what covers it instead: a full sentence. */
  reason: string;
  /** For wildcard findings (IAM5): the findings this covers, e.g. "Resource::*", or a regex when a logical id is in it. */
  appliesTo?: (string | { regex: string })[];
}

export interface RegisteredSuppression {
  path: string;
  rule: string;
  reason: string;
}

/** The suppressions of each app (its root construct): one process may build several apps (stages, modes, tests). */
const registry = new WeakMap<IConstruct, RegisteredSuppression[]>();

/** Suppresses rules on one construct (and its children), recording each for review. */
export function suppress(construct: IConstruct, suppressions: Suppression[]): void {
  const root = construct.node.root;
  const entries = registry.get(root) ?? [];
  registry.set(root, entries);
  for (const s of suppressions) entries.push({ path: construct.node.path, rule: s.rule, reason: s.reason });
  NagSuppressions.addResourceSuppressions(
    construct,
    suppressions.map((s) => ({ id: s.rule, reason: s.reason, ...(s.appliesTo ? { appliesTo: s.appliesTo } : {}) })),
    true,
  );
}

/** Every suppression registered in this app (the tests print them). */
export function listSuppressions(app: IConstruct): readonly RegisteredSuppression[] {
  return registry.get(app.node.root) ?? [];
}

/** SST's own per-stack custom-resource function (stack metadata and asset uploads), not code of ours. */
function suppressSstInternals(app: App): void {
  for (const stack of stacksOf(app)) {
    const handler = stack.node.tryFindChild("CustomResourceHandler");
    if (!handler) continue;
    suppress(handler, [
      {
        rule: "AwsSolutions-IAM4",
        reason: "SST's stack custom-resource function uses AWSLambdaBasicExecutionRole only to write its own CloudWatch logs.",
        appliesTo: ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
      },
      {
        rule: "PCI.DSS.321-LambdaInsideVPC",
        reason: "SST's deploy-time custom-resource function calls only AWS APIs, never touches cardholder data, and runs only during deployments.",
      },
    ]);
  }
}

export function applyCompliance(app: App): void {
  suppressSstInternals(app);
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  Aspects.of(app).add(new PCIDSS321Checks({ verbose: true }));
}

export function stacksOf(app: App): Stack[] {
  return app.node.children.filter((child): child is Stack => child instanceof Stack);
}
