// The audit chain's anchors: an S3 bucket with Object Lock in COMPLIANCE mode, so nobody (the database's owner, an
// operator, the account's root user) can rewrite or delete an anchor before its retention ends. The API writes one a
// minute (AUDIT_ANCHOR_BUCKET); `audit:verify` reads them to catch a chain rewritten by the owner.
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";

/** Where the API writes anchors (packages/core/src/audit/audit-anchor.ts ANCHOR_PREFIX). */
export const AUDIT_ANCHOR_PREFIX = "audit-anchors/";
/** Anchors cannot be changed or deleted this long: past the audit log's own retention in production. */
export function auditAnchorRetentionDays(isProduction: boolean): number {
  return isProduction ? 400 : 7;
}

/** `scope` must deliver server access logs under a bucket policy (api-load-balancer.ts's AccessLogs), as ACLs are off. */
export function createAuditAnchorBucket(scope: Construct, options: { isProduction: boolean; key: kms.IKey; serverAccessLogs: s3.IBucket }): s3.Bucket {
  return new s3.Bucket(scope, "AuditAnchors", {
    objectLockEnabled: true,
    objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(auditAnchorRetentionDays(options.isProduction))),
    versioned: true,
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: options.key,
    bucketKeyEnabled: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    serverAccessLogsBucket: options.serverAccessLogs,
    serverAccessLogsPrefix: "audit-anchors/",
    // Locked objects outlive the stack whatever happens; the bucket (no fixed name) stays with them.
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * What the API task may do with the bucket: write anchors under the prefix, nothing else (no read, no delete, no
 * retention change). The KMS permission is on the role, not in the key's policy in the Network stack (a cycle).
 */
export function grantAnchorWrites(role: iam.IRole, options: { bucket: s3.IBucket; key: kms.IKey; region: string }): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: "WriteAuditAnchors", actions: ["s3:PutObject"], resources: [options.bucket.arnForObjects(`${AUDIT_ANCHOR_PREFIX}*`)] }));
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: "EncryptAuditAnchors",
      actions: ["kms:GenerateDataKey"],
      resources: [options.key.keyArn],
      conditions: { StringEquals: { "kms:ViaService": `s3.${options.region}.amazonaws.com` } },
    }),
  );
}
