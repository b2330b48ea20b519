// Web: the checkout as an SST StaticSite on CloudFront: origin access control to a KMS-encrypted bucket, TLS 1.2+ for
// viewers, the payment page's CSP and HSTS on every response, access logs, and the API's paths (API_PATHS) sent to the
// API's load balancer over HTTPS with the origin secret and the viewer's address.
import path from "node:path";
import { Annotations, AspectPriority, Aspects, Duration, RemovalPolicy, SecretValue, Stack, type IAspect } from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Asset } from "aws-cdk-lib/aws-s3-assets";
import type { IConstruct } from "constructs";
import { StaticSite, use, type StackContext } from "sst/constructs";
import { Api } from "./Api.ts";
import { isDeployedApi, LOCAL_WEB_URL } from "./api-local.ts";
import { suppress } from "./compliance.ts";
import { stageConfig, type StageConfig } from "./config.ts";
import { RATE_KEY_HEADER, VIEWER_ADDRESS_HEADER, VIEWER_IP_FUNCTION } from "./edge-origin.ts";
import { contentSecurityPolicy, PERMISSIONS_POLICY, STRICT_TRANSPORT_SECURITY } from "./web-security-headers.ts";

/** App context naming a directory that already holds the built web app: deployed as is, with no build (offline tests). */
export const PREBUILT_WEB_CONTEXT = "checkout:prebuiltWebDir";

export const SITE_PATH = "packages/web";

/**
 * The paths CloudFront sends to the API rather than to the bucket, in the order CloudFront matches them. Since the ALB
 * takes requests only from this distribution, these are the API's only way in: admin tools call the shop's domain
 * (`/trpc/admin.*`, which forwards Authorization) and the payment provider posts its webhooks to it. /metrics is not
 * among them, and the ALB's WAF answers it 404 anyway.
 */
export const API_PATHS = ["/trpc/admin.*", "/trpc/*", "/health", "/ready", "/webhooks/payments"] as const;

/**
 * The tag in packages/web/index.html (and so in every prerendered document) that tells the app where the payment
 * provider is. Locally the API server rewrites it as it serves the page; on S3 the deploy rewrites it in the uploads.
 */
export const PAYMENT_META_TAG = '<meta name="checkout:payment-sandbox-url" content="http://localhost:3001" />';

/**
 * The request headers the API reads (tRPC's, the idempotency key, request ids), CloudFront's viewer address (the
 * shopper's address for the API) and the viewer-IP function's header (the WAF's rate key). CloudFront adds
 * X-Forwarded-For itself; nothing reads it.
 */
export const API_FORWARDED_HEADERS = [
  "Accept",
  "Content-Type",
  "Idempotency-Key",
  "trpc-accept",
  "X-Request-Id",
  "User-Agent",
  "Origin",
  VIEWER_ADDRESS_HEADER,
  RATE_KEY_HEADER,
] as const;

/** What the payment provider's signed webhooks need: the body's type and the signature (packages/payment-protocol webhook-signature.ts). */
export const WEBHOOK_FORWARDED_HEADERS = ["Content-Type", "Sandbox-Signature", "User-Agent", "X-Request-Id", VIEWER_ADDRESS_HEADER, RATE_KEY_HEADER] as const;

/**
 * Client-side routes (no file extension) get a prerendered document, as the API server serves them locally: "/" the
 * catalogue's (index.html), every other route the app shell (packages/web/scripts/prerender.ts); files as they are.
 */
const APP_SHELL_FUNCTION = `function handler(event) {
  var request = event.request;
  if (request.uri === "/") request.uri = "/index.html";
  else if (!/\\.[a-zA-Z0-9]+$/.test(request.uri)) request.uri = "/app-shell.html";
  return request;
}`;

/**
 * Cache-Control per uploaded file (SST applies the last matching rule): hashed build output for a year, never
 * revalidated; the HTML documents revalidated on every visit (they name the current hashes); the rest (product
 * images, the icon), whose names do not change with their content, for an hour.
 */
export const SITE_FILE_CACHING = [
  { files: "**", cacheControl: "public,max-age=3600" },
  { files: "**/*.html", cacheControl: "no-cache" },
  { files: "assets/**", cacheControl: "public,max-age=31536000,immutable" },
] as const;

export function Web({ stack, app }: StackContext): { site: StaticSite; distribution: cloudfront.IDistribution | undefined } {
  const config = stageConfig(app.stage);
  const api = use(Api);

  // `sst dev` runs the web app with Vite on the developer's machine, and remove mode (`sst bind`, `sst remove`) deploys
  // nothing: SST's StaticSite is then a placeholder with no bucket or distribution to configure.
  if (app.mode !== "deploy" || !isDeployedApi(api)) {
    const site = new StaticSite(stack, "Site", { path: SITE_PATH, dev: { deploy: false, url: LOCAL_WEB_URL }, vite: { types: ".sst/sst-env.d.ts" } });
    return { site, distribution: undefined };
  }
  const { apiDomain, originVerify } = api;

  const logs = accessLogBucket(stack, config);
  const bucket = siteBucket(stack, logs);
  const apiOrigin = new origins.HttpOrigin(apiDomain, {
    protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
    originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
    readTimeout: Duration.seconds(30),
    // The ALB's WAF refuses any request without it. A CloudFormation dynamic reference, resolved at deploy time, so the
    // value is in neither the template nor the cloud assembly; the Api stack (deployed first) creates the secret.
    customHeaders: { [originVerify.headerName]: SecretValue.secretsManager(originVerify.secretName).unsafeUnwrap() },
  });
  const apiRequests = new cloudfront.OriginRequestPolicy(stack, "ApiRequestPolicy", {
    comment: "checkout API: the headers tRPC and the server read, the viewer address, every query string, no cookies",
    headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList(...API_FORWARDED_HEADERS),
    queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
    cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
  });
  const webhookRequests = new cloudfront.OriginRequestPolicy(stack, "WebhookRequestPolicy", {
    comment: "checkout payment webhooks: the body type, the signature and the viewer address",
    headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList(...WEBHOOK_FORWARDED_HEADERS),
    queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.none(),
    cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
  });
  // CloudFront forwards Authorization only as part of a cache key (an origin request policy may not list it). Nothing
  // is kept longer than a second, and only for the same token and query; the API's answers are not cacheable anyway.
  const adminCache = new cloudfront.CachePolicy(stack, "AdminCachePolicy", {
    comment: "checkout admin API: Authorization forwarded (cache key), nothing kept",
    defaultTtl: Duration.seconds(0),
    minTtl: Duration.seconds(0),
    maxTtl: Duration.seconds(1),
    headerBehavior: cloudfront.CacheHeaderBehavior.allowList("Authorization"),
    queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
    cookieBehavior: cloudfront.CacheCookieBehavior.none(),
  });
  const viewerIp = new cloudfront.Function(stack, "ViewerIpFunction", {
    comment: `checkout: ${RATE_KEY_HEADER} = the viewer's address, the API WAF's rate key`,
    code: cloudfront.FunctionCode.fromInline(VIEWER_IP_FUNCTION),
    runtime: cloudfront.FunctionRuntime.JS_2_0,
  });
  const headers = securityHeaders(stack, config);
  const apiBehavior = (
    allowedMethods: cloudfront.AllowedMethods,
    policies: { originRequestPolicy?: cloudfront.IOriginRequestPolicy; cachePolicy?: cloudfront.ICachePolicy } = {},
  ): cloudfront.BehaviorOptions => ({
    origin: apiOrigin,
    viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
    allowedMethods,
    cachePolicy: policies.cachePolicy ?? cloudfront.CachePolicy.CACHING_DISABLED,
    originRequestPolicy: policies.originRequestPolicy ?? apiRequests,
    responseHeadersPolicy: headers,
    functionAssociations: [{ function: viewerIp, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
  });
  const apiBehaviors: Record<(typeof API_PATHS)[number], cloudfront.BehaviorOptions> = {
    "/trpc/admin.*": apiBehavior(cloudfront.AllowedMethods.ALLOW_ALL, { cachePolicy: adminCache }),
    "/trpc/*": apiBehavior(cloudfront.AllowedMethods.ALLOW_ALL),
    "/health": apiBehavior(cloudfront.AllowedMethods.ALLOW_GET_HEAD),
    "/ready": apiBehavior(cloudfront.AllowedMethods.ALLOW_GET_HEAD),
    "/webhooks/payments": apiBehavior(cloudfront.AllowedMethods.ALLOW_ALL, { originRequestPolicy: webhookRequests }),
  };

  const prebuilt = stack.node.tryGetContext(PREBUILT_WEB_CONTEXT) as string | undefined;
  const site = new StaticSite(stack, "Site", {
    path: SITE_PATH,
    ...(prebuilt ? { buildOutput: path.relative(path.resolve(SITE_PATH), path.resolve(prebuilt)) } : { buildCommand: "pnpm run build", buildOutput: "dist" }),
    // SST writes Vite env typings for the site; keep them out of the web package's sources (the app declares none).
    vite: { types: ".sst/sst-env.d.ts" },
    // Every prerendered document (index.html, app-shell.html) carries the tag.
    replaceValues: [{ files: "*.html", search: PAYMENT_META_TAG, replace: PAYMENT_META_TAG.replace("http://localhost:3001", config.paymentFieldUrl) }],
    assets: { fileOptions: SITE_FILE_CACHING.map((option) => ({ ...option })) },
    customDomain: {
      domainName: config.domain.web,
      isExternalDomain: true,
      cdk: { certificate: acm.Certificate.fromCertificateArn(stack, "WebCertificate", cloudFrontCertificateArn(config)) },
    },
    cdk: {
      bucket,
      distribution: {
        comment: `checkout ${app.stage}: web app and API`,
        defaultRootObject: "index.html",
        // None: a 403/404 from the API must reach the client as it is, not become the app shell.
        errorResponses: [],
        defaultBehavior: {
          origin: origins.S3BucketOrigin.withOriginAccessControl(bucket, { originAccessLevels: [cloudfront.AccessLevel.READ] }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
          responseHeadersPolicy: headers,
          functionAssociations: [
            {
              function: new cloudfront.Function(stack, "AppShellFunction", {
                comment: "checkout: client-side routes get index.html",
                code: cloudfront.FunctionCode.fromInline(APP_SHELL_FUNCTION),
                runtime: cloudfront.FunctionRuntime.JS_2_0,
              }),
              eventType: cloudfront.FunctionEventType.VIEWER_REQUEST,
            },
          ],
        },
        // In API_PATHS order: CloudFront takes the first pattern that matches, so /trpc/admin.* precedes /trpc/*.
        additionalBehaviors: Object.fromEntries(API_PATHS.map((pattern) => [pattern, apiBehaviors[pattern]])),
        minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        sslSupportMethod: cloudfront.SSLMethod.SNI,
        httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
        enableLogging: true,
        logBucket: logs,
        logFilePrefix: "cloudfront/",
        logIncludesCookies: false,
      },
    },
  });
  // SST builds its own viewer-request function (appending ".html"), replaced above by the app-shell one.
  site.node.tryRemoveChild("CloudFrontFunction");

  // SST's deploy-time uploader writes the built files into the bucket, so it needs the bucket's key too.
  const uploaderKeyAccess = new iam.ManagedPolicy(stack, "SiteUploaderKeyPolicy", {
    description: "checkout: SST's site uploader encrypts the web app's files with the site bucket's key",
    statements: [new iam.PolicyStatement({ actions: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], resources: [bucket.encryptionKey!.keyArn] })],
    roles: [stack.customResourceHandler.role!],
  });
  site.node.addDependency(uploaderKeyAccess);

  const distribution = site.cdk?.distribution;
  if (!distribution) throw new Error("StaticSite built no distribution in deploy mode");
  applyWebSuppressions({ stack, site, bucket, logs, distribution });
  return { site, distribution };
}

/** CloudFront only takes certificates from us-east-1, whatever region the stage runs in. */
export function cloudFrontCertificateArn(config: StageConfig): string {
  const region = config.webCertificateArn.split(":")[3];
  if (region !== "us-east-1") throw new Error(`stage ${config.stage}: webCertificateArn must be in us-east-1 for CloudFront, not ${region}`);
  return config.webCertificateArn;
}

/** CloudFront's standard logs and the site bucket's S3 access logs (both need SSE-S3 and, for CloudFront, ACLs). */
function accessLogBucket(stack: StackContext["stack"], config: StageConfig): s3.Bucket {
  return new s3.Bucket(stack, "AccessLogs", {
    encryption: s3.BucketEncryption.S3_MANAGED,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    // PCI DSS 10.7: a year of audit trail in production.
    lifecycleRules: [{ expiration: Duration.days(config.isProduction ? 365 : 90), noncurrentVersionExpiration: Duration.days(30) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

function siteBucket(stack: StackContext["stack"], logs: s3.Bucket): s3.Bucket {
  const key = new kms.Key(stack, "SiteKey", { description: "checkout web app bucket", enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
  return new s3.Bucket(stack, "SiteBucket", {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
    serverAccessLogsBucket: logs,
    serverAccessLogsPrefix: "s3/site/",
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

function securityHeaders(stack: StackContext["stack"], config: StageConfig): cloudfront.ResponseHeadersPolicy {
  return new cloudfront.ResponseHeadersPolicy(stack, "SecurityHeaders", {
    comment: "checkout: HSTS, the payment page CSP (PCI DSS 6.4.3), no sniffing, no framing",
    securityHeadersBehavior: {
      contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy({ paymentFieldUrl: config.paymentFieldUrl }), override: true },
      strictTransportSecurity: {
        accessControlMaxAge: Duration.seconds(STRICT_TRANSPORT_SECURITY.maxAgeSeconds),
        includeSubdomains: STRICT_TRANSPORT_SECURITY.includeSubdomains,
        preload: STRICT_TRANSPORT_SECURITY.preload,
        override: true,
      },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
    },
    customHeadersBehavior: { customHeaders: [{ header: "Permissions-Policy", value: PERMISSIONS_POLICY, override: true }] },
  });
}

/** What cdk-nag flags in this stack that is covered otherwise or is SST's own machinery, each with its reason. */
function applyWebSuppressions(resources: { stack: StackContext["stack"]; site: StaticSite; bucket: s3.Bucket; logs: s3.Bucket; distribution: cloudfront.IDistribution }): void {
  const { stack, site, bucket, logs, distribution } = resources;
  // CDK warns that OAC's key-policy statement names distributions by wildcard: naming this one would make
  // key → distribution → bucket → key a cycle. The bucket policy names this distribution alone, so none other can read.
  Annotations.of(stack).acknowledgeWarning(
    "@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac",
    "The site bucket's policy lets only this distribution read it, so the key policy's distribution wildcard grants nothing more.",
  );
  suppress(logs, [
    {
      rule: "PCI.DSS.321-S3DefaultEncryptionKMS",
      reason:
        "S3 server access logs can only be delivered to a bucket whose default encryption is SSE-S3, so this log bucket is encrypted with SSE-S3 (AES-256); it holds request logs, never cardholder data.",
    },
    {
      rule: "PCI.DSS.321-S3BucketReplicationEnabled",
      reason:
        "The access logs are versioned, kept a year in production and closed to public access; copying them to a central log-archive account is set up at the organisation level, outside this app.",
    },
  ]);
  suppress(bucket, [
    {
      rule: "PCI.DSS.321-S3BucketReplicationEnabled",
      reason: "The site bucket holds only the built web app, which every deploy uploads again from source, so a replica would copy a reproducible artifact.",
    },
  ]);
  // SST creates the uploader and invalidator policies at the end of synthesis (a deferred task), so they are
  // suppressed by an aspect that runs before cdk-nag's.
  Aspects.of(site).add(new SuppressSstSiteDeployPolicies(site, bucket), { priority: AspectPriority.MUTATING });
  suppress(distribution, [
    {
      rule: "AwsSolutions-CFR1",
      reason: "The shop sells to every country it ships to and the checkout decides deliverability per address, so the distribution has no geographic restriction.",
    },
    {
      rule: "AwsSolutions-CFR2",
      reason:
        "Every API request (API_PATHS) passes the API load balancer's WAF web ACL, which only admits this distribution and rates each viewer address; the distribution otherwise serves public static files, and a CloudFront web ACL would have to live in us-east-1 for every stage's region.",
    },
  ]);
}

/** Suppresses cdk-nag findings on the policies SST attaches to its own custom-resource function for deploying the site. */
class SuppressSstSiteDeployPolicies implements IAspect {
  private isDone = false;

  constructor(
    private readonly site: StaticSite,
    private readonly bucket: s3.Bucket,
  ) {}

  visit(node: IConstruct): void {
    if (this.isDone || node !== this.site) return;
    this.isDone = true;
    const stack = Stack.of(this.site);
    const uploader = this.site.node.tryFindChild("S3UploaderPolicy");
    const archive = this.site.node.tryFindChild("Asset0");
    if (uploader && archive instanceof Asset) {
      suppress(uploader, [
        {
          rule: "AwsSolutions-IAM5",
          reason:
            "SST's deploy-time uploader puts and deletes files under any key of this one site bucket (names change with each build's content hashes) and reads the build archive from the CDK assets bucket.",
          appliesTo: [
            `Resource::<${stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*`,
            `Resource::arn:<AWS::Partition>:s3:::${stack.resolve(archive.s3BucketName) as string}/*`,
          ],
        },
        {
          rule: "PCI.DSS.321-IAMNoInlinePolicy",
          reason: "SST attaches this deploy-time policy inline to its own custom-resource function, scoped to this site's bucket; replacing it would mean forking SST.",
        },
      ]);
    }
    const invalidator = this.site.node.tryFindChild("CloudFrontInvalidatorPolicy");
    if (invalidator) {
      suppress(invalidator, [
        {
          rule: "PCI.DSS.321-IAMNoInlinePolicy",
          reason:
            "SST attaches this deploy-time policy inline to its own custom-resource function, scoped to this one distribution's invalidations; replacing it would mean forking SST.",
        },
      ]);
    }
  }
}
