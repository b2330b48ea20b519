// The audit anchors' S3 bucket: the service puts one small JSON object per anchor (the bucket's default Object Lock
// retention keeps it), and `audit:verify` lists and reads them back. An S3-compatible endpoint is addressed path-style.
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Audit } from "@checkout/core";

export interface AnchorStoreOptions {
  bucket: string;
  /** AWS_REGION; with an endpoint and no region, us-east-1 (s3rver and most S3-compatible servers ignore it). */
  region?: string;
  /** AUDIT_ANCHOR_ENDPOINT: an S3-compatible server instead of Amazon S3. */
  endpoint?: string;
  /** Per request: a stalled S3 call must not hold the anchor job (and its database transaction) for long. */
  requestTimeoutMs?: number;
}

export interface AnchorListing {
  /** In key order, i.e. in the order they were taken. */
  anchors: Audit.StoredAnchor[];
  /** Objects under the prefix that are not anchors: someone wrote them, and verification reports them. */
  invalid: { key: string; reason: string }[];
}

export interface AnchorStore {
  readonly bucket: string;
  put(stored: Audit.StoredAnchor): Promise<void>;
  /** Every anchor, or those taken after `since` (an ISO time): the listing starts after `audit-anchors/<since>`. */
  list(options?: { since?: string }): Promise<AnchorListing>;
  close(): void;
}

/** An ISO time in the keys' format (microseconds), so a key taken a microsecond after it still sorts after it. */
function chainTime(iso: string): string {
  return new Date(iso).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** GETs in flight at once while reading the anchors back. */
const READ_CONCURRENCY = 16;

export function createAnchorStore(options: AnchorStoreOptions): AnchorStore {
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const client = new S3Client({
    region: options.region ?? "us-east-1",
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });
  const { bucket } = options;

  async function read(key: string): Promise<{ ok: true; anchor: Audit.StoredAnchor } | { ok: false; reason: string }> {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Audit.parseAnchor({ key, body: (await object.Body?.transformToString()) ?? "" });
  }

  return {
    bucket,
    async put(stored) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: stored.key,
          Body: JSON.stringify(stored.anchor),
          ContentType: "application/json",
          // S3 refuses a PutObject into a bucket with Object Lock (its default retention applies) without an integrity
          // checksum. The task role has s3:PutObject only, so the bucket's default COMPLIANCE retention locks the object.
          ChecksumAlgorithm: "SHA256",
        }),
      );
    },
    async list(listOptions = {}) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: Audit.ANCHOR_PREFIX,
            ContinuationToken: token,
            ...(listOptions.since && !token ? { StartAfter: `${Audit.ANCHOR_PREFIX}${chainTime(listOptions.since)}` } : {}),
          }),
        );
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.NextContinuationToken;
      } while (token);
      // S3 lists keys in UTF-8 byte order; sorting here keeps the order whatever an S3-compatible server does.
      keys.sort();
      const results = new Array<Awaited<ReturnType<typeof read>>>(keys.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(READ_CONCURRENCY, keys.length) }, async () => {
          while (next < keys.length) {
            const index = next++;
            results[index] = await read(keys[index]!);
          }
        }),
      );
      const listing: AnchorListing = { anchors: [], invalid: [] };
      results.forEach((result, index) => {
        if (result.ok) listing.anchors.push(result.anchor);
        else listing.invalid.push({ key: keys[index]!, reason: result.reason });
      });
      return listing;
    },
    close() {
      client.destroy();
    },
  };
}
