// The edge between CloudFront and the API's load balancer: only this distribution reaches the ALB (CloudFront's prefix
// list, then the origin secret the WAF checks), the WAF rates each viewer address rather than X-Forwarded-For, the API
// takes the shopper's address from CloudFront-Viewer-Address, and /metrics is never reachable from outside.
import net from "node:net";
import { runInNewContext } from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import { METRICS_PATH, WAF_RATE_LIMIT_PER_5_MINUTES } from "../api-waf.ts";
import { stageConfig, stages } from "../config.ts";
import {
  acceptedOriginSecretGenerations,
  CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS,
  cloudFrontPrefixListId,
  ORIGIN_VERIFY_HEADER,
  originSecretName,
  RATE_KEY_HEADER,
  VIEWER_ADDRESS_HEADER,
  VIEWER_IP_FUNCTION,
} from "../edge-origin.ts";
import { API_PATHS } from "../Web.ts";
import { ofType, synthesize, type Json, type Resources, type Synthesized } from "./support.ts";

let synthesized: Synthesized;
let api: Resources;
let web: Resources;
let network: Resources;

const distributionOf = (resources: Resources) => ofType(resources, "AWS::CloudFront::Distribution")[0]![1].DistributionConfig;
const apiBehaviors = (resources: Resources) => (distributionOf(resources).CacheBehaviors as Json[]).filter((b) => (API_PATHS as readonly string[]).includes(b.PathPattern));
const originOf = (resources: Resources, behavior: Json) => distributionOf(resources).Origins.find((o: Json) => o.Id === behavior.TargetOriginId);
const wafRule = (resources: Resources, name: string) => (ofType(resources, "AWS::WAFv2::WebACL")[0]![1].Rules as Json[]).find((r) => r.Name === name)!;
const secretNamed = (resources: Resources, name: string) => ofType(resources, "AWS::SecretsManager::Secret").find(([, p]) => p.Name === name);

/** CloudFront's path-pattern matching: `*` any run of characters, `?` one character, case-sensitive. */
function matchesPathPattern(pattern: string, path: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return regex.test(path);
}

/** Runs the viewer-IP CloudFront function on a request from `ip` that carries `headers`. */
function runViewerIpFunction(ip: string, headers: Record<string, { value: string }> = {}): Record<string, { value: string }> {
  const handler = runInNewContext(`${VIEWER_IP_FUNCTION}; handler`) as (event: unknown) => { headers: Record<string, { value: string }> };
  return handler({ viewer: { ip }, request: { method: "GET", uri: "/trpc/cart.get", headers } }).headers;
}

beforeAll(async () => {
  synthesized = await synthesize();
  api = synthesized.resources("Api");
  web = synthesized.resources("Web");
  network = synthesized.resources("Network");
});

describe("CloudFront: what it sends the API", () => {
  it("forwards CloudFront-Viewer-Address and the rate-key header on every API path, with the viewer-IP function on each", () => {
    const behaviors = apiBehaviors(web);
    expect(behaviors.map((b) => b.PathPattern)).toEqual([...API_PATHS]);
    const functionId = ofType(web, "AWS::CloudFront::Function").find(([, p]) => p.FunctionCode === VIEWER_IP_FUNCTION)![0];
    for (const behavior of behaviors) {
      const policy = web[behavior.OriginRequestPolicyId.Ref]!.Properties.OriginRequestPolicyConfig;
      expect(policy.HeadersConfig.HeaderBehavior, behavior.PathPattern).toBe("whitelist");
      expect(policy.HeadersConfig.Headers, behavior.PathPattern).toEqual(expect.arrayContaining([VIEWER_ADDRESS_HEADER, RATE_KEY_HEADER]));
      expect(behavior.FunctionAssociations, behavior.PathPattern).toEqual([{ EventType: "viewer-request", FunctionARN: { "Fn::GetAtt": [functionId, "FunctionARN"] } }]);
    }
    expect(VIEWER_ADDRESS_HEADER).toBe("CloudFront-Viewer-Address");
  });

  it("sends the stage's origin secret in X-Origin-Verify as a deploy-time dynamic reference, never a literal", () => {
    for (const behavior of apiBehaviors(web)) {
      expect(originOf(web, behavior).OriginCustomHeaders, behavior.PathPattern).toEqual([
        { HeaderName: ORIGIN_VERIFY_HEADER, HeaderValue: `{{resolve:secretsmanager:${originSecretName("test", 1)}:SecretString:::}}` },
      ]);
    }
  });

  it("forwards Authorization only on /trpc/admin.*, as a cache key that keeps nothing past a second", () => {
    const admin = apiBehaviors(web).find((b) => b.PathPattern === "/trpc/admin.*")!;
    expect(API_PATHS.indexOf("/trpc/admin.*")).toBeLessThan(API_PATHS.indexOf("/trpc/*"));
    const cache = web[admin.CachePolicyId.Ref]!.Properties.CachePolicyConfig;
    expect(cache).toMatchObject({ DefaultTTL: 0, MinTTL: 0, MaxTTL: 1 });
    expect(cache.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig).toEqual({ HeaderBehavior: "whitelist", Headers: ["Authorization"] });
    for (const other of apiBehaviors(web).filter((b) => b !== admin)) expect(other.CachePolicyId, other.PathPattern).toBe("4135ea2d-6df8-44a3-9df3-4b5a84be39ad");
  });

  it("sends the payment provider's webhooks with their signature header", () => {
    const webhooks = apiBehaviors(web).find((b) => b.PathPattern === "/webhooks/payments")!;
    expect(webhooks.AllowedMethods).toContain("POST");
    expect(web[webhooks.OriginRequestPolicyId.Ref]!.Properties.OriginRequestPolicyConfig.HeadersConfig.Headers).toEqual(
      expect.arrayContaining(["Content-Type", "Sandbox-Signature"]),
    );
  });

  it("never routes /metrics to the API: no API path matches it, so it falls to the site bucket", () => {
    for (const path of [METRICS_PATH, `${METRICS_PATH}/`, `${METRICS_PATH}/prometheus`]) {
      expect(
        API_PATHS.filter((pattern) => matchesPathPattern(pattern, path)),
        path,
      ).toEqual([]);
    }
    expect(matchesPathPattern("/trpc/*", "/trpc/cart.get")).toBe(true);
    const site = originOf(web, distributionOf(web).DefaultCacheBehavior);
    expect(site.S3OriginConfig).toBeDefined();
  });
});

describe("the viewer-IP function", () => {
  it("writes the viewer's IPv4 address, overwriting whatever the client sent in the header", () => {
    const headers = runViewerIpFunction("203.0.113.7", { "x-viewer-ip": { value: "198.51.100.1" }, "x-forwarded-for": { value: "198.51.100.2" } });
    expect(headers["x-viewer-ip"]).toEqual({ value: "203.0.113.7" });
    expect(RATE_KEY_HEADER.toLowerCase()).toBe("x-viewer-ip");
  });

  it("counts an IPv6 viewer by its /64, however the address is written", () => {
    for (const [ip, key] of [
      ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"],
      ["2001:db8:1:2::9", "2001:db8:1:2::"],
      ["2001:db8::1", "2001:db8:0:0::"],
      ["::1", "0:0:0:0::"],
      ["2001:db8:1:2:ffff::", "2001:db8:1:2::"],
      ["::ffff:192.0.2.9", "192.0.2.9"],
    ] as const) {
      const written = runViewerIpFunction(ip)["x-viewer-ip"]!.value;
      expect(written, ip).toBe(key);
      expect(net.isIP(written), ip).not.toBe(0);
    }
  });
});

describe("the ALB and its WAF", () => {
  it("admits only HTTPS from the CloudFront origin-facing prefix list of the stage's region", () => {
    const [albGroupId, albGroup] = ofType(network, "AWS::EC2::SecurityGroup").find(([id]) => id.startsWith("AlbSecurityGroup"))!;
    // CDK writes a prefix-list rule as its own resource rather than inline in the group.
    const standalone = ofType(network, "AWS::EC2::SecurityGroupIngress")
      .map(([, p]) => p)
      .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify({ "Fn::GetAtt": [albGroupId, "GroupId"] }));
    expect([...(albGroup.SecurityGroupIngress ?? []), ...standalone]).toEqual([
      expect.objectContaining({ SourcePrefixListId: cloudFrontPrefixListId("us-east-1"), IpProtocol: "tcp", FromPort: 443, ToPort: 443 }),
    ]);
  });

  it("knows the prefix list of every stage's region and refuses a region it does not know", () => {
    for (const config of Object.values(stages)) expect(CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS[config.region], config.stage).toMatch(/^pl-[0-9a-f]{8}$/);
    expect(() => cloudFrontPrefixListId("sa-east-1")).toThrow(/sa-east-1/);
  });

  it("blocks, before any other rule, every request whose X-Origin-Verify is not exactly the origin secret", () => {
    const [secretId, secret] = secretNamed(api, originSecretName("test", 1))!;
    expect(secret.GenerateSecretString).toMatchObject({ ExcludePunctuation: true, PasswordLength: 48 });
    expect(secret.KmsKeyId).toBeDefined();
    const rule = wafRule(api, "RequireCloudFrontOrigin");
    expect(rule.Priority).toBe(Math.min(...(ofType(api, "AWS::WAFv2::WebACL")[0]![1].Rules as Json[]).map((r) => r.Priority)));
    expect(rule.Action).toEqual({ Block: {} });
    expect(rule.Statement.NotStatement.Statement.ByteMatchStatement).toEqual({
      FieldToMatch: { SingleHeader: { Name: "x-origin-verify" } },
      PositionalConstraint: "EXACTLY",
      SearchString: { "Fn::Join": ["", ["{{resolve:secretsmanager:", { Ref: secretId }, ":SecretString:::}}"]] },
      TextTransformations: [{ Priority: 0, Type: "NONE" }],
    });
    // The WAF's logs never hold the secret.
    const logging = ofType(api, "AWS::WAFv2::LoggingConfiguration")[0]![1];
    expect(logging.RedactedFields).toContainEqual({ SingleHeader: { Name: "x-origin-verify" } });
  });

  it("rates each viewer by the function's header, never by X-Forwarded-For, at the same 2,000 requests per 5 minutes", () => {
    const rule = wafRule(api, "RateLimitPerViewer");
    expect(rule.Action).toEqual({ Block: {} });
    expect(rule.Statement.RateBasedStatement).toEqual({
      Limit: WAF_RATE_LIMIT_PER_5_MINUTES,
      EvaluationWindowSec: 300,
      AggregateKeyType: "FORWARDED_IP",
      ForwardedIPConfig: { HeaderName: RATE_KEY_HEADER, FallbackBehavior: "MATCH" },
    });
    expect(WAF_RATE_LIMIT_PER_5_MINUTES).toBe(2000);
    expect(JSON.stringify(ofType(api, "AWS::WAFv2::WebACL"))).not.toMatch(/x-forwarded-for/i);
    expect(wafRule(api, "RequireCloudFrontOrigin").Priority).toBeLessThan(rule.Priority);
  });

  it("answers /metrics 404 at the ALB, however the path is encoded or dotted", () => {
    const rule = wafRule(api, "MetricsNotFound");
    expect(rule.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 404 } } });
    expect(rule.Statement.ByteMatchStatement).toEqual({
      FieldToMatch: { UriPath: {} },
      PositionalConstraint: "STARTS_WITH",
      SearchString: "/metrics",
      TextTransformations: [
        { Priority: 0, Type: "URL_DECODE" },
        { Priority: 1, Type: "NORMALIZE_PATH" },
        { Priority: 2, Type: "LOWERCASE" },
      ],
    });
    // The listeners keep forward actions only (ECS blue/green refuses a listener that mixes in fixed responses); the
    // rules ECS rewrites are custom resources, checked in listener-rules.test.ts.
    const listeners = ofType(api, "AWS::ElasticLoadBalancingV2::Listener");
    expect(listeners.length).toBeGreaterThan(0);
    for (const [, listener] of listeners) {
      expect(listener.DefaultActions.map((a: Json) => a.Type)).toEqual(["forward"]);
    }
  });
});

describe("the API task", () => {
  const container = () => ofType(api, "AWS::ECS::TaskDefinition")[0]![1].ContainerDefinitions[0];

  it("reads the shopper's address from CloudFront-Viewer-Address and trusts no X-Forwarded-For hop", () => {
    const environment = Object.fromEntries((container().Environment as { Name: string; Value: unknown }[]).map(({ Name, Value }) => [Name, Value]));
    // Node lower-cases incoming header names.
    expect(environment.VIEWER_ADDRESS_HEADER).toBe("cloudfront-viewer-address");
    expect(environment.TRUST_PROXY).toBe("0");
  });

  it("gets METRICS_TOKEN from a generated, KMS-encrypted secret as an ECS secret, never in its plain environment", () => {
    const definition = container();
    const [tokenId, token] = ofType(api, "AWS::SecretsManager::Secret").find(([id]) => id.startsWith("MetricsToken"))!;
    expect(token.GenerateSecretString).toMatchObject({ ExcludePunctuation: true, PasswordLength: 48 });
    expect(token.KmsKeyId).toBeDefined();
    const secrets = Object.fromEntries((definition.Secrets as { Name: string; ValueFrom: unknown }[]).map(({ Name, ValueFrom }) => [Name, ValueFrom]));
    expect(secrets.METRICS_TOKEN).toEqual({ Ref: tokenId });
    expect((definition.Environment as { Name: string }[]).map((e) => e.Name)).not.toContain("METRICS_TOKEN");
    const policies = JSON.stringify(ofType(api, "AWS::IAM::Policy").map(([, p]) => p.PolicyDocument));
    expect(policies).toContain(`{"Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Effect":"Allow","Resource":{"Ref":"${tokenId}"}}`);
  });
});

describe("compliance", () => {
  it("leaves no unsuppressed cdk-nag error in Network, Api or Web", () => {
    const errors = synthesized.findings.filter((f) => f.level === "error" && /-(Network|Api|Web)$/.test(f.stack));
    if (errors.length > 0) console.log(errors.map((e) => `${e.path}\n    ${e.message.split("\n")[0]}`).join("\n"));
    expect(errors).toEqual([]);
  });
});

describe("rotating the origin secret", () => {
  it("accepts the previous generation beside the current one, and only the current one at first", () => {
    expect(acceptedOriginSecretGenerations(1)).toEqual([1]);
    expect(acceptedOriginSecretGenerations(4)).toEqual([4, 3]);
    expect(() => originSecretName("prod", 0)).toThrow(/whole number/);
  });

  it("creates the new generation, lets the WAF take both, and points CloudFront at the new one", async () => {
    const stage = "rotated";
    stages[stage] = { ...stageConfig(stage), originSecretGeneration: 2 };
    try {
      const rotated = await synthesize(stage);
      const rotatedApi = rotated.resources("Api");
      const rotatedWeb = rotated.resources("Web");
      const current = secretNamed(rotatedApi, originSecretName(stage, 2))!;
      const previous = secretNamed(rotatedApi, originSecretName(stage, 1))!;
      const accepted = wafRule(rotatedApi, "RequireCloudFrontOrigin").Statement.NotStatement.Statement.OrStatement.Statements as Json[];
      expect(accepted.map((s) => s.ByteMatchStatement.SearchString["Fn::Join"][1][1])).toEqual([{ Ref: current[0] }, { Ref: previous[0] }]);
      for (const behavior of apiBehaviors(rotatedWeb)) {
        expect(originOf(rotatedWeb, behavior).OriginCustomHeaders[0].HeaderValue).toBe(`{{resolve:secretsmanager:${originSecretName(stage, 2)}:SecretString:::}}`);
      }
    } finally {
      delete stages[stage];
    }
  }, 180_000);
});
