// The cdk-nag findings of the Api stack that are fixed by something else or cannot apply, each with its reason.
import type { Stack } from "aws-cdk-lib";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type * as iam from "aws-cdk-lib/aws-iam";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { ECS_LOAD_BALANCER_INFRASTRUCTURE_POLICY } from "./blue-green.ts";
import { suppress } from "./compliance.ts";
import type { EcsManagedListenerRule } from "./listener-rules.ts";

/** The cdk-nag findings in this stack that are fixed by something else or cannot apply, each with its reason. */
export function suppressReviewedFindings(resources: {
  serverAccessLogs: s3.Bucket;
  albLogs: s3.Bucket;
  fargateService: ecs.FargateService;
  originSecrets: secretsmanager.Secret[];
  metricsToken: secretsmanager.Secret;
}): void {
  const { serverAccessLogs, albLogs, fargateService, originSecrets, metricsToken } = resources;
  const logBucketReplication = {
    rule: "PCI.DSS.321-S3BucketReplicationEnabled",
    reason:
      "These buckets hold load-balancer access logs, versioned and kept for their retention period in the stage's region; copying them to a second region belongs to the organisation's log-archive account, not to this app.",
  };
  suppress(albLogs, [
    {
      rule: "PCI.DSS.321-S3DefaultEncryptionKMS",
      reason: "Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3 (AES-256), so this bucket cannot use a KMS key.",
    },
    logBucketReplication,
  ]);
  suppress(serverAccessLogs, [
    {
      rule: "PCI.DSS.321-S3DefaultEncryptionKMS",
      reason: "Amazon S3 delivers server access logs only to target buckets encrypted with SSE-S3 (AES-256), so this bucket cannot use a KMS key.",
    },
    logBucketReplication,
  ]);
  for (const secret of originSecrets) {
    suppress(secret, [
      {
        rule: "AwsSolutions-SMG4",
        reason:
          "CloudFront and the WAF read the origin secret only when a deploy resolves it, so a scheduled rotation would leave them out of step; it is rotated by raising the stage's originSecretGeneration, which creates a new secret while the WAF still accepts the previous one (docs/DEPLOY.md).",
      },
    ]);
  }
  suppress(metricsToken, [
    {
      rule: "AwsSolutions-SMG4",
      reason:
        "ECS hands METRICS_TOKEN to a task only when it starts, and the token opens nothing reachable from outside (the WAF answers /metrics 404); it is rotated with put-secret-value followed by a new deployment, as docs/DEPLOY.md describes.",
    },
  ]);
  const taskDefinition = fargateService.taskDefinition;
  suppress(taskDefinition, [
    {
      rule: "AwsSolutions-ECS2",
      reason:
        "The container's plain environment holds only non-secret settings (ports, timeouts, database host names, flags); the database credentials, the payment keys and the metrics token reach it from Secrets Manager as ECS secrets.",
    },
  ]);
  suppress(taskDefinition.obtainExecutionRole(), [
    {
      rule: "PCI.DSS.321-IAMNoInlinePolicy",
      reason:
        "The execution role's policy is the one CDK derives from this task's grants (its secrets, its log group, its image repository), attached to this role alone and versioned with the stack.",
    },
    {
      rule: "AwsSolutions-IAM5",
      reason:
        "When the image is attached at deploy time, pulling it needs ecr:GetAuthorizationToken, an action with no resource-level permissions, so it is granted on * while the layer actions stay scoped to the repository.",
      appliesTo: ["Resource::*"],
    },
  ]);
  const blueGreenRole = fargateService.node.findChild("BlueGreenInfrastructureRole");
  suppress(blueGreenRole, [
    {
      rule: "AwsSolutions-IAM4",
      reason: `${ECS_LOAD_BALANCER_INFRASTRUCTURE_POLICY} is the policy AWS documents for ECS blue/green: only the ECS service assumes this role, to register targets and move the two listener rules' weights, and AWS keeps it in step with the feature.`,
      appliesTo: [`Policy::arn:<AWS::Partition>:iam::aws:policy/${ECS_LOAD_BALANCER_INFRASTRUCTURE_POLICY}`],
    },
  ]);
}

/** The findings on the listener rules' custom resource, the admin tokens, the audit anchors and the task role. */
export function suppressNewFindings(resources: {
  stack: Stack;
  listenerRules: EcsManagedListenerRule[];
  adminTokens: { secret: secretsmanager.Secret; generated: secretsmanager.Secret };
  auditAnchorBucket: s3.Bucket;
  taskRole: iam.IRole;
}): void {
  const { stack, listenerRules, adminTokens, auditAnchorBucket, taskRole } = resources;
  for (const rule of listenerRules) {
    suppress(rule, [
      {
        rule: "AwsSolutions-IAM5",
        reason:
          "ELB gives a listener rule its id when it creates it, so the policy can name the listener but only a pattern for its rules: the wildcard stands for the rules of this one listener, and the actions are CreateRule, ModifyRule and DeleteRule alone.",
        appliesTo: [{ regex: "/^Resource::.*:listener-rule\\/.*\\/\\*$/g" }],
      },
      {
        rule: "PCI.DSS.321-IAMNoInlinePolicy",
        reason:
          "CDK's AwsCustomResource attaches the policy derived from this rule's three ELB calls to its function's role alone; it is versioned with the stack and used by nothing else.",
      },
    ]);
  }
  // The function behind every AwsCustomResource in the stack (CDK's singleton, named by a fixed UUID).
  const customResourceFunction = stack.node.tryFindChild("AWS679f53fac002430cb0da5b7982bd2287");
  if (customResourceFunction) {
    suppress(customResourceFunction, [
      {
        rule: "AwsSolutions-IAM4",
        reason: "CDK's AwsCustomResource function uses AWSLambdaBasicExecutionRole only to write its own CloudWatch logs; its ELB permissions are the rule-scoped policies above.",
        appliesTo: ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
      },
      {
        rule: "PCI.DSS.321-LambdaInsideVPC",
        reason: "The listener-rule function runs only while CloudFormation creates, updates or deletes the two rules, calls only the ELB API and never sees cardholder data.",
      },
    ]);
  }
  for (const secret of [adminTokens.secret, adminTokens.generated]) {
    suppress(secret, [
      {
        rule: "AwsSolutions-SMG4",
        reason:
          "ECS hands ADMIN_API_TOKENS to a task only when it starts, and the list names its holders (name:token), so tokens are rotated by the operator with put-secret-value on the named secret (old and new side by side) followed by a deployment, as docs/DEPLOY.md describes.",
      },
    ]);
  }
  suppress(auditAnchorBucket, [
    {
      rule: "PCI.DSS.321-S3BucketReplicationEnabled",
      reason:
        "The anchors are small records under COMPLIANCE Object Lock in the stage's region, checked against the database in the same region; a copy in a second region belongs to the organisation's log-archive account, not to this app.",
    },
  ]);
  suppress(taskRole, [
    {
      rule: "AwsSolutions-IAM5",
      reason: "The API writes one anchor object a minute under a new key, so s3:PutObject is granted on the anchors' prefix; the role can neither read, list nor delete them.",
      appliesTo: [{ regex: "/^Resource::<AccessLogsAuditAnchors.*\\.Arn>\\/audit-anchors\\/\\*$/g" }],
    },
    {
      rule: "AwsSolutions-IAM5",
      reason:
        "The tracing collector beside the API sends spans to X-Ray with xray:PutTraceSegments, an action X-Ray offers no resource-level permissions for, so it is granted on * alone; no other X-Ray action is granted (sampling is decided in the API).",
      appliesTo: ["Resource::*"],
    },
    {
      rule: "PCI.DSS.321-IAMNoInlinePolicy",
      reason:
        "The task role's policy is the one this stack derives for the API's own writes (the audit anchors and their KMS data keys), attached to this role alone and versioned with the stack.",
    },
  ]);
}
