// The API load balancer's WAF web ACL: CloudFront's origin secret required, /metrics answered 404, declared bodies over
// the API's MAX_BODY_BYTES answered 413, AWS's common and known-bad-inputs rule groups, a rate limit per viewer.
import { ArnFormat, RemovalPolicy, type Stack } from "aws-cdk-lib";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import { MAX_BODY_BYTES } from "./api-task-contract.ts";
import { acceptedOriginSecretGenerations, ORIGIN_VERIFY_HEADER, originSecretName, RATE_KEY_HEADER } from "./edge-origin.ts";
import { creationScopedName } from "./physical-names.ts";

/** WAF: requests per viewer address (an IPv6 viewer per /64) in any 5-minute window before WAF blocks it. */
export const WAF_RATE_LIMIT_PER_5_MINUTES = 2000;
/** The API's Prometheus endpoint: the WAF answers 404 for it, and the API asks for `Authorization: Bearer <METRICS_TOKEN>`. */
export const METRICS_PATH = "/metrics";
/**
 * The common rule set's body-size rule blocks bodies over 8 KB, below the API's MAX_BODY_BYTES (64 KiB) for every
 * request, payment webhooks and admin calls included; it only counts here. WAF on an ALB inspects at most the first
 * 8 KB of a body, so no body rule can measure 64 KiB: BodyOverMaxBytes refuses a request whose Content-Length declares
 * more, and the API's own limit (413) covers bodies sent without one (chunked).
 */
export const COUNTED_MANAGED_RULES = { AWSManagedRulesCommonRuleSet: ["SizeRestrictions_BODY"] } as const;

/**
 * A regular expression (WAF's PCRE subset: anchors, classes, counted repeats) matching a decimal number, leading zeros
 * allowed, greater than `limit`: for 65536, 65537 and up, but not 65536 or 8193.
 */
export function decimalGreaterThanPattern(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`limit must be a non-negative integer, got ${limit}`);
  const digits = String(limit);
  const alternatives = [`[1-9][0-9]{${digits.length},}`];
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[i]);
    if (digit === 9) continue;
    const rest = digits.length - i - 1;
    const low = i === 0 ? Math.max(digit + 1, 1) : digit + 1;
    const first = low === 9 ? "9" : `[${low}-9]`;
    alternatives.push(`${digits.slice(0, i)}${first}${rest > 0 ? `[0-9]{${rest}}` : ""}`);
  }
  return `^0*(${alternatives.join("|")})$`;
}

/**
 * The origin secret CloudFront sends and the WAF checks (stacks/edge-origin.ts): one generated secret per generation;
 * the WAF accepts the current and the previous one, so a rotation never refuses CloudFront's requests.
 */
export function createOriginSecrets(stack: Stack, options: { stage: string; generation: number; key: kms.IKey }): secretsmanager.Secret[] {
  return acceptedOriginSecretGenerations(options.generation).map(
    (g) =>
      new secretsmanager.Secret(stack, `OriginSecret${g}`, {
        secretName: originSecretName(options.stage, g),
        description: `checkout ${options.stage}: the ${ORIGIN_VERIFY_HEADER} value CloudFront sends the API load balancer (generation ${g})`,
        encryptionKey: options.key,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
        removalPolicy: RemovalPolicy.DESTROY,
      }),
  );
}

/**
 * A WAF web ACL for the ALB, logging to an encrypted log group with credentials redacted. In order: a request without
 * CloudFront's origin header is refused (403), /metrics is answered 404, AWS's managed rule groups run, and each viewer
 * address gets WAF_RATE_LIMIT_PER_5_MINUTES.
 */
export function createWebAcl(stack: Stack, options: { stage: string; key: kms.IKey; logRetention: logs.RetentionDays; originSecrets: secretsmanager.Secret[] }): wafv2.CfnWebACL {
  const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
    cloudWatchMetricsEnabled: true,
    metricName,
    sampledRequestsEnabled: true,
  });
  const managedRuleGroup = (name: keyof typeof COUNTED_MANAGED_RULES | "AWSManagedRulesKnownBadInputsRuleSet", priority: number): wafv2.CfnWebACL.RuleProperty => {
    const counted: readonly string[] = name in COUNTED_MANAGED_RULES ? COUNTED_MANAGED_RULES[name as keyof typeof COUNTED_MANAGED_RULES] : [];
    return {
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: "AWS",
          name,
          ...(counted.length > 0 ? { ruleActionOverrides: counted.map((rule) => ({ name: rule, actionToUse: { count: {} } })) } : {}),
        },
      },
      visibilityConfig: visibility(name),
    };
  };
  // The secret's value reaches the web ACL as a CloudFormation dynamic reference, resolved at deploy time: it is in
  // neither the template nor the cloud assembly (WAF itself shows it to whoever may read the web ACL).
  const carriesSecret = (secret: secretsmanager.Secret): wafv2.CfnWebACL.StatementProperty => ({
    byteMatchStatement: {
      fieldToMatch: { singleHeader: { Name: ORIGIN_VERIFY_HEADER.toLowerCase() } },
      positionalConstraint: "EXACTLY",
      searchString: secret.secretValue.unsafeUnwrap(),
      textTransformations: [{ priority: 0, type: "NONE" }],
    },
  });
  const fromCloudFront = options.originSecrets.length === 1 ? carriesSecret(options.originSecrets[0]!) : { orStatement: { statements: options.originSecrets.map(carriesSecret) } };
  const webAcl = new wafv2.CfnWebACL(stack, "WebAcl", {
    scope: "REGIONAL",
    defaultAction: { allow: {} },
    visibilityConfig: visibility(`checkout-${options.stage}-api`),
    rules: [
      // Only our CloudFront distribution knows the secret: a request straight to the ALB, or through anyone else's
      // distribution (their traffic also comes from CloudFront's prefix list), stops here.
      {
        name: "RequireCloudFrontOrigin",
        priority: 0,
        action: { block: {} },
        statement: { notStatement: { statement: fromCloudFront } },
        visibilityConfig: visibility("RequireCloudFrontOrigin"),
      },
      // CloudFront never routes /metrics; this also catches the encoded and dot-segment spellings a server would
      // resolve to it. A listener rule cannot do it: ECS blue/green refuses listeners that mix forward and
      // fixed-response actions.
      {
        name: "MetricsNotFound",
        priority: 1,
        action: { block: { customResponse: { responseCode: 404 } } },
        statement: {
          byteMatchStatement: {
            fieldToMatch: { uriPath: {} },
            positionalConstraint: "STARTS_WITH",
            searchString: METRICS_PATH,
            textTransformations: [
              { priority: 0, type: "URL_DECODE" },
              { priority: 1, type: "NORMALIZE_PATH" },
              { priority: 2, type: "LOWERCASE" },
            ],
          },
        },
        visibilityConfig: visibility("MetricsNotFound"),
      },
      // The API's one body limit, at the edge for every request that declares its length (see COUNTED_MANAGED_RULES).
      {
        name: "BodyOverMaxBytes",
        priority: 5,
        action: { block: { customResponse: { responseCode: 413 } } },
        statement: {
          regexMatchStatement: {
            fieldToMatch: { singleHeader: { Name: "content-length" } },
            regexString: decimalGreaterThanPattern(MAX_BODY_BYTES),
            textTransformations: [{ priority: 0, type: "NONE" }],
          },
        },
        visibilityConfig: visibility("BodyOverMaxBytes"),
      },
      managedRuleGroup("AWSManagedRulesCommonRuleSet", 10),
      managedRuleGroup("AWSManagedRulesKnownBadInputsRuleSet", 20),
      // Counted by the viewer address CloudFront's function wrote (stacks/edge-origin.ts), never by X-Forwarded-For,
      // whose first entry the client writes. Every request that reaches this rule came through that function.
      {
        name: "RateLimitPerViewer",
        priority: 30,
        action: { block: {} },
        statement: {
          rateBasedStatement: {
            limit: WAF_RATE_LIMIT_PER_5_MINUTES,
            evaluationWindowSec: 300,
            aggregateKeyType: "FORWARDED_IP",
            forwardedIpConfig: { headerName: RATE_KEY_HEADER, fallbackBehavior: "MATCH" },
          },
        },
        visibilityConfig: visibility("RateLimitPerViewer"),
      },
    ],
  });

  // WAF delivers only to log groups named aws-waf-logs-*, given by ARN without the trailing `:*`.
  const wafLogs = new logs.LogGroup(stack, "WebAclLogs", {
    // Named per stack creation, and dropped if the creation rolls back: a retry never meets the previous attempt's group.
    logGroupName: creationScopedName(stack, `aws-waf-logs-checkout-${options.stage}`),
    encryptionKey: options.key,
    retention: options.logRetention,
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });
  new wafv2.CfnLoggingConfiguration(stack, "WebAclLogging", {
    resourceArn: webAcl.attrArn,
    logDestinationConfigs: [stack.formatArn({ service: "logs", resource: "log-group", resourceName: wafLogs.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    redactedFields: [{ singleHeader: { Name: "authorization" } }, { singleHeader: { Name: "cookie" } }, { singleHeader: { Name: ORIGIN_VERIFY_HEADER.toLowerCase() } }],
  });
  return webAcl;
}
