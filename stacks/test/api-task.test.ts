// The API task definition against the code's contract (packages/api/src/env.ts): migrations as the owner in the
// migrate container before the service starts as the service role; verified database TLS; mail through SES with the
// operator's SMTP secret; admin tokens from a generated secret; the audit-anchor bucket; non-root, read-only, no
// volumes. On the prod stage's template, which the production-parity test runs the bundle from.
import { beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_TOKENS,
  adminTokensSecretName,
  apiContainersOf,
  CONTAINER_USER,
  MIGRATE_COMMAND,
  RDS_CA_BUNDLE_PATH,
  SERVICE_DATABASE_USER,
  smtpSecretName,
} from "../api-task-contract.ts";
import { auditAnchorRetentionDays } from "../audit-anchor.ts";
import { stageConfig } from "../config.ts";
import { environmentOf, ofType as ofTypeIn, secretsOf, synthesize, type Json, type Resources } from "./support.ts";

let resources: Resources;
let outputs: Record<string, { Value: unknown }>;
let app: Json;
let migrate: Json;
let taskDefinition: Json;

const ofType = (type: string) => ofTypeIn(resources, type);

beforeAll(async () => {
  const template = (await synthesize("prod")).template("Api").toJSON();
  resources = template.Resources as Resources;
  outputs = template.Outputs as Record<string, { Value: unknown }>;
  ({ app, migrate } = apiContainersOf(template));
  taskDefinition = ofType("AWS::ECS::TaskDefinition")[0]![1];
});

describe("the migrate container", () => {
  it("runs the image's migrate command once per task, before the service, and may exit (non-essential)", () => {
    expect(migrate.Essential).toBe(false);
    expect(migrate.Command).toEqual([...MIGRATE_COMMAND]);
    expect(migrate.Image).toEqual(app.Image);
    expect(app.DependsOn).toContainEqual({ ContainerName: "migrate", Condition: "SUCCESS" });
  });

  it("connects as the owner (the RDS master secret) and is handed the service role's credentials to create and grant", () => {
    const secrets = secretsOf(migrate);
    expect(Object.keys(secrets).sort()).toEqual(["DATABASE_PASSWORD", "DATABASE_USER", "SERVICE_DATABASE_PASSWORD", "SERVICE_DATABASE_USER"]);
    expect(secrets.DATABASE_USER).toMatch(/PostgresSecret.*:username::/);
    expect(secrets.DATABASE_PASSWORD).toMatch(/PostgresSecret.*:password::/);
    expect(secrets.SERVICE_DATABASE_USER).toMatch(/ServiceRoleSecret.*:username::/);
    expect(secrets.SERVICE_DATABASE_PASSWORD).toMatch(/ServiceRoleSecret.*:password::/);
  });

  it("reaches the same database as the service, over the same verified TLS, and gets nothing else", () => {
    const environment = environmentOf(migrate);
    const database = Object.fromEntries(Object.entries(environmentOf(app)).filter(([name]) => name.startsWith("DATABASE_")));
    expect(environment).toEqual({ NODE_ENV: "production", LOG_LEVEL: "info", ...database });
    expect(database).toMatchObject({ DATABASE_SSL: "verify-full", DATABASE_SSL_CA: RDS_CA_BUNDLE_PATH });
  });
});

describe("the API container", () => {
  it("connects as the service role, never the owner, and only verifies that migrations are applied", () => {
    const secrets = secretsOf(app);
    expect(secrets.DATABASE_USER).toMatch(/ServiceRoleSecret.*:username::/);
    expect(JSON.stringify(secrets)).not.toMatch(/PostgresSecret/);
    expect(environmentOf(app).MIGRATIONS).toBe("verify");
    // The role the Database stack's service-role secret names (database.test.ts) and migrate grants.
    expect(SERVICE_DATABASE_USER).toBe("checkout_app");
  });

  it("sends mail through Amazon SES from orders@<domain.web>, with SMTP_URL from the operator's checkout/<stage>/smtp secret", () => {
    const domain = stageConfig("prod").domain.web;
    expect(environmentOf(app).MAIL_FROM).toBe(`orders@${domain}`);
    expect(secretsOf(app).SMTP_URL).toContain(`:secret:${smtpSecretName("prod")}:url::`);
    expect(environmentOf(app)).not.toHaveProperty("MAIL_DIR");
    const identities = ofType("AWS::SES::EmailIdentity");
    expect(identities.map(([, p]) => p.EmailIdentity)).toEqual([domain]);
    // No hosted zone in the stage config: the three Easy DKIM CNAMEs are outputs for the domain's DNS.
    const dkim = Object.entries(outputs).filter(([name]) => name.startsWith("MailDkimRecord"));
    expect(dkim).toHaveLength(3);
    for (const [, output] of dkim) expect(JSON.stringify(output.Value)).toContain(`"${identities[0]![0]}","DkimDNSTokenName`);
  });

  it("takes ADMIN_API_TOKENS from the generated checkout/<stage>/admin-api-tokens secret, key tokens", () => {
    const [id, secret] = ofType("AWS::SecretsManager::Secret").find(([, p]) => p.Name === adminTokensSecretName("prod"))!;
    expect(secretsOf(app).ADMIN_API_TOKENS).toBe(JSON.stringify({ "Fn::Join": ["", [{ Ref: id }, ":tokens::"]] }));
    expect(secret.KmsKeyId).toEqual({ "Fn::ImportValue": expect.stringMatching(/Key/) });
  });

  it("anchors the audit chain in the Object Lock bucket, in the stage's region", () => {
    const environment = environmentOf(app);
    const bucketId = (environment.AUDIT_ANCHOR_BUCKET as { Ref: string }).Ref;
    expect(resources[bucketId]!.Type).toBe("AWS::S3::Bucket");
    expect(environment.AWS_REGION).toBe(stageConfig("prod").region);
  });

  it("agrees with the WAF on the body limit: MAX_BODY_BYTES is set, 64 KiB", () => {
    expect(environmentOf(app).MAX_BODY_BYTES).toBe(String(64 * 1024));
  });
});

describe("both containers", () => {
  it("run as the image's unprivileged user with a read-only root filesystem, and the task gives them no volume to write", () => {
    for (const container of [app, migrate]) {
      expect(container.User, container.Name).toBe(CONTAINER_USER);
      expect(container.ReadonlyRootFilesystem, container.Name).toBe(true);
      expect(container.MountPoints ?? [], container.Name).toEqual([]);
      expect(container.Privileged, container.Name).toBeUndefined();
    }
    expect(taskDefinition.Volumes ?? []).toEqual([]);
  });

  it("can read every secret they are given, and nothing else: the execution role's secret grants are exactly the referenced secrets", () => {
    // A ValueFrom is the secret's ARN, then `:<json key>::` when it names a key: the secret is what comes before.
    const secretOf = (valueFrom: unknown) => JSON.stringify(valueFrom).replace(/:[A-Za-z]+::"\]\]\}$/, "");
    const referenced = new Set([app, migrate].flatMap((c) => (c.Secrets as Json[]).map((s) => secretOf(s.ValueFrom))));
    expect(referenced.size).toBe(6);
    const policy = ofType("AWS::IAM::Policy").find(([, p]) => JSON.stringify(p.Roles).includes("ExecutionRole"))![1];
    const granted = (policy.PolicyDocument.Statement as Json[]).filter((s) => JSON.stringify(s.Action).includes("secretsmanager:GetSecretValue"));
    expect(granted).toHaveLength(referenced.size);
  });
});

describe("the generated admin token", () => {
  it("is composed at deploy time into ops:<token> under key tokens, from a 48-character letters-and-digits token", () => {
    const secrets = ofType("AWS::SecretsManager::Secret");
    const [, named] = secrets.find(([, p]) => p.Name === adminTokensSecretName("prod"))!;
    const [generatedId, generated] = secrets.find(([, p]) => p.GenerateSecretString?.GenerateStringKey === "token")!;
    expect(generated.GenerateSecretString).toMatchObject({ PasswordLength: ADMIN_TOKENS.tokenLength, ExcludePunctuation: true, IncludeSpace: false });
    // SecretString: {"tokens":"ops:{{resolve:secretsmanager:<generated>:SecretString:token::}}"}, resolved by CloudFormation.
    const parts = named.SecretString["Fn::Join"][1] as unknown[];
    expect(parts).toEqual(['{"tokens":"ops:{{resolve:secretsmanager:', { Ref: generatedId }, ':SecretString:token::}}"}']);
    // What ECS will inject, with a token like the generator's, is what env.ts's ADMIN_API_TOKENS accepts:
    // comma-separated name:token pairs, name of letters, digits, . _ -, token of 32 or more characters without spaces.
    const token = "a".repeat(24) + "B7".repeat(12);
    const injected = JSON.parse(`${parts[0]}${token}${(parts[2] as string).replace(":SecretString:token::}}", "")}`.replace("{{resolve:secretsmanager:", "")).tokens as string;
    expect(injected).toBe(`ops:${token}`);
    expect(injected.split(",").every((pair) => /^[A-Za-z0-9._-]{1,64}:\S{32,}$/.test(pair))).toBe(true);
  });
});

describe("the audit-anchor bucket", () => {
  it("locks every anchor in COMPLIANCE mode for 400 days on production stages, versioned, KMS-encrypted, private, SSL only", () => {
    const [id, bucket] = ofType("AWS::S3::Bucket").find(([, p]) => p.ObjectLockEnabled)!;
    expect(bucket).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: auditAnchorRetentionDays(true) } } },
      VersioningConfiguration: { Status: "Enabled" },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" }, BucketKeyEnabled: true }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    expect(auditAnchorRetentionDays(true)).toBe(400);
    expect(bucket.LoggingConfiguration.LogFilePrefix).toBe("audit-anchors/");
    const policy = ofType("AWS::S3::BucketPolicy").find(([, p]) => p.Bucket.Ref === id)![1];
    expect(policy.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }));
    expect(resources[id]!.DeletionPolicy).toBe("Retain");
  });

  it("is written by the task role under audit-anchors/ only: no read, list, delete or retention change", () => {
    const [bucketId] = ofType("AWS::S3::Bucket").find(([, p]) => p.ObjectLockEnabled)!;
    const policy = ofType("AWS::IAM::Policy").find(([, p]) => JSON.stringify(p.Roles).includes("TaskRole"))![1];
    const statements = policy.PolicyDocument.Statement as Json[];
    const s3 = statements.filter((s) => JSON.stringify(s.Action).includes("s3:"));
    expect(s3).toEqual([expect.objectContaining({ Action: "s3:PutObject", Resource: { "Fn::Join": ["", [{ "Fn::GetAtt": [bucketId, "Arn"] }, "/audit-anchors/*"]] } })]);
    const kms = statements.filter((s) => JSON.stringify(s.Action).includes("kms:"));
    expect(kms).toEqual([
      expect.objectContaining({ Action: "kms:GenerateDataKey", Condition: { StringEquals: { "kms:ViaService": `s3.${stageConfig("prod").region}.amazonaws.com` } } }),
    ]);
  });
});
