// The Web stack: CloudFront in front of a private, KMS-encrypted bucket (origin access control), the API's paths sent
// to the load balancer over HTTPS, the payment page's security headers, access logs, and no cdk-nag finding left.
import { readFileSync } from "node:fs";
import path from "node:path";
import { runInNewContext } from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { stageConfig } from "../config.ts";
import { API_FORWARDED_HEADERS, API_PATHS, cloudFrontCertificateArn, PAYMENT_META_TAG } from "../Web.ts";
import { contentSecurityPolicy, originOf } from "../web-security-headers.ts";
import { synthesize, type Resources, type Synthesized } from "./support.ts";

let synthesized: Synthesized;
let web: Template;
let resources: Resources;
const config = stageConfig("test");

function only(type: string): { id: string; props: Record<string, any> } {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type);
  expect(found, type).toHaveLength(1);
  const [id, resource] = found[0]!;
  return { id, props: resource.Properties };
}

function logicalIdOf(type: string, predicate: (props: Record<string, any>) => boolean): string {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type && predicate(r.Properties));
  expect(found, type).toHaveLength(1);
  return found[0]![0];
}

const distribution = () => only("AWS::CloudFront::Distribution").props.DistributionConfig;
const behavior = (pattern: string) => distribution().CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === pattern);
const originOfBehavior = (b: { TargetOriginId: string }) => distribution().Origins.find((o: { Id: string }) => o.Id === b.TargetOriginId);

beforeAll(async () => {
  synthesized = await synthesize();
  web = synthesized.template("Web");
  resources = synthesized.resources("Web");
});

describe("site bucket and origin access control", () => {
  it("reads the bucket through origin access control (SigV4), with no legacy origin access identity", () => {
    const oac = only("AWS::CloudFront::OriginAccessControl");
    expect(oac.props.OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: "s3", SigningBehavior: "always", SigningProtocol: "sigv4" });
    web.resourceCountIs("AWS::CloudFront::CloudFrontOriginAccessIdentity", 0);
    const s3Origin = originOfBehavior(distribution().DefaultCacheBehavior);
    expect(s3Origin.OriginAccessControlId).toEqual({ "Fn::GetAtt": [oac.id, "Id"] });
    expect(s3Origin.S3OriginConfig).toEqual({ OriginAccessIdentity: "" });
  });

  it("lets only this distribution read the bucket, and nothing read it over plain HTTP or TLS below 1.2", () => {
    const bucketId = logicalIdOf("AWS::S3::Bucket", (p) => p.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm === "aws:kms");
    const distributionId = only("AWS::CloudFront::Distribution").id;
    const policy = Object.values(resources).find((r) => r.Type === "AWS::S3::BucketPolicy" && r.Properties.Bucket.Ref === bucketId)!;
    const statements = policy.Properties.PolicyDocument.Statement as Record<string, any>[];
    const allows = statements.filter((s) => s.Effect === "Allow");
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({ Action: "s3:GetObject", Principal: { Service: "cloudfront.amazonaws.com" } });
    expect(JSON.stringify(allows[0]!.Condition.StringEquals["AWS:SourceArn"])).toContain(`{"Ref":"${distributionId}"}`);
    expect(statements.filter((s) => s.Effect === "Deny").map((s) => s.Condition)).toEqual([
      { Bool: { "aws:SecureTransport": "false" } },
      { NumericLessThan: { "s3:TlsVersion": 1.2 } },
    ]);
  });

  it("encrypts the site with its own rotating KMS key, blocks public access and keeps 30 days of old versions", () => {
    const key = only("AWS::KMS::Key");
    expect(key.props.EnableKeyRotation).toBe(true);
    web.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: { "Fn::GetAtt": [key.id, "Arn"] } } },
        ],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: "Enabled" },
      LifecycleConfiguration: { Rules: [Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })] },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: "s3/site/" }),
    });
    // CloudFront may decrypt with the key only on behalf of a distribution of this account.
    const cloudFrontGrant = (key.props.KeyPolicy.Statement as Record<string, any>[]).find((s) => s.Principal?.Service === "cloudfront.amazonaws.com");
    expect(cloudFrontGrant).toMatchObject({ Action: "kms:Decrypt", Effect: "Allow" });
  });

  it("lets SST's uploader encrypt with the site key, through a managed policy named to that key alone", () => {
    const key = only("AWS::KMS::Key");
    web.hasResourceProperties("AWS::IAM::ManagedPolicy", {
      PolicyDocument: { Statement: [{ Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], Effect: "Allow", Resource: { "Fn::GetAtt": [key.id, "Arn"] } }] },
    });
    const uploader = Object.values(resources).find((r) => r.Type === "Custom::S3Uploader")!;
    const managedPolicyId = only("AWS::IAM::ManagedPolicy").id;
    expect(uploader.DependsOn).toContain(managedPolicyId);
  });
});

describe("viewer side of the distribution", () => {
  it("answers on the stage's shop domain with a us-east-1 certificate and TLS 1.2 at least (TLSv1.2_2021)", () => {
    expect(distribution().Aliases).toEqual([config.domain.web]);
    expect(distribution().ViewerCertificate).toEqual({ AcmCertificateArn: config.webCertificateArn, MinimumProtocolVersion: "TLSv1.2_2021", SslSupportMethod: "sni-only" });
    expect(config.webCertificateArn).toMatch(/^arn:aws:acm:us-east-1:/);
  });

  it("refuses a CloudFront certificate outside us-east-1", () => {
    expect(() => cloudFrontCertificateArn({ ...config, webCertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/x" })).toThrow(/us-east-1/);
  });

  it("redirects plain HTTP to HTTPS for the site and serves GET/HEAD from the cache", () => {
    expect(distribution().DefaultCacheBehavior).toMatchObject({ ViewerProtocolPolicy: "redirect-to-https", AllowedMethods: ["GET", "HEAD"], Compress: true });
    expect(distribution().HttpVersion).toBe("http2and3");
  });

  it("serves client-side routes with the app shell and files as they are, and passes API errors through untouched", () => {
    // No distribution-wide error pages: they would turn the API's 403/404 answers into index.html.
    expect(distribution().CustomErrorResponses).toBeUndefined();
    expect(distribution().DefaultCacheBehavior.FunctionAssociations).toEqual([{ EventType: "viewer-request", FunctionARN: expect.anything() }]);
    const fnId = distribution().DefaultCacheBehavior.FunctionAssociations[0].FunctionARN["Fn::GetAtt"][0] as string;
    const fn = { id: fnId, props: resources[fnId]!.Properties };
    // The site's own (SST's ".html" function is removed) and the API behaviors' viewer-IP function.
    web.resourceCountIs("AWS::CloudFront::Function", 2);
    const handler = runInNewContext(`${fn.props.FunctionCode}; handler`) as (event: { request: { uri: string } }) => { uri: string };
    const rewrite = (uri: string) => handler({ request: { uri } }).uri;
    // "/" gets the catalogue's prerendered first frame, every other route the prerendered app shell.
    expect(rewrite("/")).toBe("/index.html");
    expect(rewrite("/checkout")).toBe("/app-shell.html");
    expect(rewrite("/products/oak-tray")).toBe("/app-shell.html");
    expect(rewrite("/orders/5b0e6c1e-3f4f-4c8e-9d7a-2a1b7b9c0d11")).toBe("/app-shell.html");
    expect(rewrite("/assets/index-B4x9.js")).toBe("/assets/index-B4x9.js");
    expect(rewrite("/favicon.svg")).toBe("/favicon.svg");
  });
});

describe("the API behind the distribution", () => {
  it("sends /trpc/* to the API's domain over HTTPS only, TLS 1.2, never cached, every method allowed", () => {
    const trpc = behavior("/trpc/*");
    expect(trpc).toMatchObject({
      AllowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
      CachePolicyId: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", // the managed CachingDisabled policy
      ViewerProtocolPolicy: "https-only",
    });
    expect(originOfBehavior(trpc)).toMatchObject({
      DomainName: config.domain.api,
      Id: trpc.TargetOriginId,
      CustomOriginConfig: { OriginProtocolPolicy: "https-only", OriginSSLProtocols: ["TLSv1.2"], OriginReadTimeout: 30 },
    });
  });

  it("forwards the headers tRPC and the server read, Idempotency-Key among them, and every query string", () => {
    const policyId = behavior("/trpc/*").OriginRequestPolicyId.Ref as string;
    const policy = { id: policyId, props: resources[policyId]!.Properties };
    expect(policy.props.OriginRequestPolicyConfig).toMatchObject({
      HeadersConfig: { HeaderBehavior: "whitelist", Headers: [...API_FORWARDED_HEADERS] },
      QueryStringsConfig: { QueryStringBehavior: "all" },
      CookiesConfig: { CookieBehavior: "none" },
    });
    expect(API_FORWARDED_HEADERS).toContain("Idempotency-Key");
  });

  it("sends /health and /ready to the same HTTPS origin, uncached, GET and HEAD only", () => {
    for (const path of ["/health", "/ready"]) {
      const b = behavior(path);
      expect(b).toMatchObject({ AllowedMethods: ["GET", "HEAD"], CachePolicyId: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", ViewerProtocolPolicy: "https-only" });
      expect(b.TargetOriginId).toBe(behavior("/trpc/*").TargetOriginId);
    }
    expect(distribution().CacheBehaviors.map((b: { PathPattern: string }) => b.PathPattern)).toEqual([...API_PATHS]);
  });
});

describe("security headers on every response", () => {
  it("adds HSTS (2 years, subdomains, preload), nosniff, DENY framing, a referrer policy and the payment page CSP", () => {
    const policy = only("AWS::CloudFront::ResponseHeadersPolicy");
    expect(policy.props.ResponseHeadersPolicyConfig.SecurityHeadersConfig).toEqual({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Preload: true, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: "DENY", Override: true },
      ReferrerPolicy: { ReferrerPolicy: "strict-origin-when-cross-origin", Override: true },
      ContentSecurityPolicy: {
        ContentSecurityPolicy:
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
          `connect-src 'self' ${new URL(config.paymentFieldUrl).origin}/wallet/; ` +
          `frame-src ${new URL(config.paymentFieldUrl).origin}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'`,
        Override: true,
      },
    });
    expect(policy.props.ResponseHeadersPolicyConfig.SecurityHeadersConfig.StrictTransportSecurity.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(365 * 24 * 3600);
    for (const b of [distribution().DefaultCacheBehavior, ...distribution().CacheBehaviors]) expect(b.ResponseHeadersPolicyId).toEqual({ Ref: policy.id });
  });
});

describe("contentSecurityPolicy (PCI DSS 6.4.3)", () => {
  const policy = contentSecurityPolicy({ paymentFieldUrl: "https://field.payments.example.com/v1/" });
  const directive = (csp: string, name: string) => csp.split("; ").find((d) => d.startsWith(`${name} `));

  it("lets only our own scripts run: no inline script, no eval, no other origin", () => {
    expect(directive(policy, "script-src")).toBe("script-src 'self'");
    expect(policy).not.toContain("unsafe-inline");
    expect(policy).not.toContain("unsafe-eval");
    expect(directive(policy, "object-src")).toBe("object-src 'none'");
  });

  it("frames only the payment provider's origin and is framed by no one", () => {
    expect(directive(policy, "frame-src")).toBe("frame-src https://field.payments.example.com");
    expect(directive(policy, "frame-ancestors")).toBe("frame-ancestors 'none'");
    expect(directive(policy, "form-action")).toBe("form-action 'self'");
    expect(directive(policy, "base-uri")).toBe("base-uri 'none'");
  });

  it("lists a provider script or API origin only when one is configured, by exact origin", () => {
    const withSdk = contentSecurityPolicy({
      paymentFieldUrl: "https://field.payments.example.com",
      scriptOrigins: ["https://js.payments.example.com/v3/sdk.js"],
      connectOrigins: ["https://api.payments.example.com"],
    });
    expect(directive(withSdk, "script-src")).toBe("script-src 'self' https://js.payments.example.com");
    expect(directive(withSdk, "connect-src")).toBe("connect-src 'self' https://field.payments.example.com/wallet/ https://api.payments.example.com");
    // The provider's wallet path only (express checkout's Payment Request manifests), never its whole origin.
    expect(directive(policy, "connect-src")).toBe("connect-src 'self' https://field.payments.example.com/wallet/");
  });

  it("refuses a provider that is not on https (localhost aside)", () => {
    expect(() => contentSecurityPolicy({ paymentFieldUrl: "http://field.payments.example.com" })).toThrow(/https/);
    expect(() => originOf("not a url")).toThrow(/not a URL/);
    expect(originOf("http://localhost:3001/field")).toBe("http://localhost:3001");
  });
});

describe("caching of the uploaded site", () => {
  /** The Cache-Control SST's uploader gives a file: the last rule whose glob matches wins, as in its custom resource. */
  function cacheControlOf(file: string, options: { files: string | string[]; cacheControl?: string }[]): string | undefined {
    const matches = (glob: string) => path.matchesGlob(file, glob);
    return options.findLast((option) => [option.files].flat().some(matches))?.cacheControl;
  }

  it("caches hashed assets for a year as immutable, revalidates the HTML documents every time, and keeps images an hour", () => {
    const uploader = Object.values(resources).find((r) => r.Type === "Custom::S3Uploader")!;
    const options = uploader.Properties.fileOptions as { files: string | string[]; cacheControl?: string }[];
    expect(cacheControlOf("assets/index-B4x9.js", options)).toBe("public,max-age=31536000,immutable");
    expect(cacheControlOf("assets/index-5DhbbI6C.css", options)).toBe("public,max-age=31536000,immutable");
    expect(cacheControlOf("assets/schemas-zgOqZRX5.js.br", options)).toBe("public,max-age=31536000,immutable");
    expect(cacheControlOf("index.html", options)).toBe("no-cache");
    expect(cacheControlOf("app-shell.html", options)).toBe("no-cache");
    expect(cacheControlOf("images/ceramic-mug.svg", options)).toBe("public,max-age=3600");
    expect(cacheControlOf("favicon.svg", options)).toBe("public,max-age=3600");
  });
});

describe("payment provider URL in the deployed page", () => {
  it("rewrites the provider's URL into the uploaded HTML documents, matching the tag the web app ships", () => {
    const uploader = Object.values(resources).find((r) => r.Type === "Custom::S3Uploader")!;
    expect(uploader.Properties.replaceValues).toEqual([
      { files: "*.html", search: PAYMENT_META_TAG, replace: `<meta name="checkout:payment-sandbox-url" content="${config.paymentFieldUrl}" />` },
    ]);
    // If packages/web changes this tag, the deploy would silently keep localhost: fail here instead.
    expect(readFileSync("packages/web/index.html", "utf8")).toContain(PAYMENT_META_TAG);
  });
});

describe("access logging", () => {
  it("logs every CloudFront request, without cookies, to the access-log bucket", () => {
    const logsId = logicalIdOf("AWS::S3::Bucket", (p) => p.OwnershipControls?.Rules?.[0]?.ObjectOwnership === "BucketOwnerPreferred");
    expect(distribution().Logging).toEqual({ Bucket: { "Fn::GetAtt": [logsId, "RegionalDomainName"] }, IncludeCookies: false, Prefix: "cloudfront/" });
  });

  it("keeps the access logs encrypted, private, versioned, SSL-only and open to CloudFront's ACL-based delivery", () => {
    const logsId = logicalIdOf("AWS::S3::Bucket", (p) => p.OwnershipControls?.Rules?.[0]?.ObjectOwnership === "BucketOwnerPreferred");
    expect(resources[logsId]!.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: "Enabled" },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: config.isProduction ? 365 : 90 })] },
    });
    const policy = Object.values(resources).find((r) => r.Type === "AWS::S3::BucketPolicy" && r.Properties.Bucket.Ref === logsId)!;
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }));
  });
});

describe("compliance", () => {
  it("leaves no unsuppressed cdk-nag finding (error or warning) in the Web stack", () => {
    const mine = synthesized.findings.filter((f) => f.stack.endsWith("-Web"));
    if (mine.length > 0) console.log(mine.map((f) => `${f.level} ${f.path}\n    ${f.message.slice(0, 300)}`).join("\n"));
    expect(mine).toEqual([]);
  });
});
