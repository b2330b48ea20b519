// `pnpm audit:verify`: re-checks every link of the audit log's hash chain and, with a bucket, holds it to the anchors
// the service wrote there; exit 0 intact, 1 broken, 2 failed, 78 misconfigured.
// Reads DATABASE_URL, or else the embedded PostgreSQL of `pnpm start`: used if running, otherwise started for the check and stopped.
import { existsSync } from "node:fs";
import path from "node:path";
import type { Audit as AuditTypes } from "@checkout/core";
import type { Env } from "../env.ts";
import { readCommandLine } from "./help.ts";

const HELP = `
pnpm audit:verify [--json] [--anchors-bucket NAME] [--anchors-since ISO-TIME] — re-check the audit log's hash chain.

Every link: its position, its pointer to the link before it, its content against its hash, and that its time is
not before the link before it. With an anchor bucket (--anchors-bucket, or AUDIT_ANCHOR_BUCKET), also every anchor
the service wrote there (docs/OPERATIONS.md "Audit anchor"): each anchored seq must still hold the same row with the
same hash and time, and the anchors' times and positions must never run backwards. This finds a chain its owner
rewrote and recomputed, and rows removed from its end. --anchors-since checks only anchors taken after that time.
S3: AWS_REGION and the usual AWS credentials (s3:ListBucket, s3:GetObject); AUDIT_ANCHOR_ENDPOINT for an
S3-compatible server (path-style).

Reads DATABASE_URL, or else the embedded PostgreSQL of \`pnpm start\` (used if running, otherwise started
for the check and stopped). Exit 0 intact, 1 broken (the message names the first bad row), 2 failed (database or
bucket unreachable, or a usage error: an unknown option or argument, refused before anything runs), 78 misconfigured.
--json prints the verdict as JSON.
`;

const options = readCommandLine({ name: "audit:verify", help: HELP, options: { json: "flag", "anchors-bucket": "value", "anchors-since": "value" } });
const asJson = options.json === true;
// Loaded once the command line is accepted: --help and a refused command line load no database or S3 code.
const [{ default: pg }, { Audit, createDb }, { loadCliEnv }, { startEmbeddedPostgres }, { createAnchorStore }] = await Promise.all([
  import("pg"),
  import("@checkout/core"),
  import("./cli-context.ts"),
  import("../embedded-postgres.ts"),
  import("../audit/anchor-store.ts"),
]);

function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}

async function isReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The database to check, and how to stop anything started for it. */
async function openDatabase(env: Env): Promise<{ url: string; stop: () => Promise<void> }> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, stop: async () => {} };
  const url = `postgres://postgres:postgres@127.0.0.1:${env.EMBEDDED_PG_PORT}/checkout`;
  if (await isReachable(url)) return { url, stop: async () => {} };
  const dataDir = path.join(env.DATA_DIR, "postgres");
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    fail(`No database to verify: DATABASE_URL is not set and there is no embedded database in ${dataDir} (run pnpm start once, or set DATABASE_URL).`, 78);
  }
  console.error(`starting the embedded PostgreSQL in ${dataDir} on port ${env.EMBEDDED_PG_PORT} to verify it`);
  const server = await startEmbeddedPostgres({ dataDir, port: env.EMBEDDED_PG_PORT });
  return { url: server.url("checkout"), stop: () => server.stop() };
}

/** The anchors to hold the chain to, or null without a bucket; exits 1 on an object that is not an anchor, 2 when the bucket cannot be read. */
async function readAnchors(env: Env): Promise<{ bucket: string; anchors: AuditTypes.StoredAnchor[] } | null> {
  const bucket = options["anchors-bucket"] ?? env.AUDIT_ANCHOR_BUCKET;
  const since = options["anchors-since"];
  if (!bucket) {
    if (since) fail("--anchors-since needs an anchor bucket (--anchors-bucket or AUDIT_ANCHOR_BUCKET)", 78);
    return null;
  }
  if (since && Number.isNaN(Date.parse(since))) fail(`--anchors-since must be an ISO time such as 2026-12-01T00:00:00Z (got ${since})`, 78);
  if (!env.AWS_REGION && !env.AUDIT_ANCHOR_ENDPOINT) fail("AWS_REGION is required to read the anchor bucket", 78);
  const store = createAnchorStore({ bucket, region: env.AWS_REGION, endpoint: env.AUDIT_ANCHOR_ENDPOINT, requestTimeoutMs: 30_000 });
  try {
    const listing = await store.list({ since }).catch((error: unknown) => {
      fail(`could not read the audit anchors in bucket ${bucket}: ${error instanceof Error ? error.message : String(error)}`, 2);
    });
    const invalid = listing.invalid[0];
    if (invalid) {
      if (asJson) console.log(JSON.stringify({ ok: false, anchorKey: invalid.key, reason: invalid.reason }));
      else console.log(`audit anchors BROKEN in bucket ${bucket}: ${invalid.reason}`);
      process.exit(1);
    }
    if (listing.anchors.length === 0) console.error(`no audit anchors in bucket ${bucket} under ${Audit.ANCHOR_PREFIX}: only the chain's own links were checked`);
    return { bucket, anchors: listing.anchors };
  } finally {
    store.close();
  }
}

async function main(): Promise<number> {
  const env = loadCliEnv();
  // Anchors first, then the chain's snapshot: every anchor read is older than the snapshot, so none can name a row
  // the snapshot is too old to hold.
  const anchored = await readAnchors(env);
  const database = await openDatabase(env);
  const db = createDb({ connectionString: database.url, max: 1, applicationName: "checkout-audit-verify", statementTimeoutMs: 0 });
  try {
    const started = performance.now();
    const verdict = await Audit.verifyChain(db, anchored ? { anchors: anchored.anchors } : {});
    const ms = Math.round(performance.now() - started);
    if (asJson) console.log(JSON.stringify({ ...verdict, ...(anchored ? { bucket: anchored.bucket } : {}), ms }));
    else if (verdict.ok) {
      const head = verdict.head ? `head seq ${verdict.head.seq}, hash ${verdict.head.hash}` : "empty log";
      console.log(`audit chain intact: ${verdict.rows} rows verified in ${ms} ms (${head})`);
      const latest = verdict.anchors?.latest;
      if (anchored && latest) {
        const unanchored = (verdict.head?.seq ?? 0) - latest.seq;
        console.log(
          `matches ${verdict.anchors!.checked} anchors in bucket ${anchored.bucket}; the latest, ${latest.key}, was taken at ${latest.anchoredAt} at seq ${latest.seq}` +
            (unanchored > 0 ? ` (${unanchored} later rows are not anchored yet)` : ""),
        );
      }
    } else {
      const anchor = verdict.anchorKey ? ` (anchor ${verdict.anchorKey} in bucket ${anchored?.bucket})` : "";
      console.log(`audit chain BROKEN at audit_log id ${verdict.firstBrokenId}${anchor}: ${verdict.reason}`);
    }
    return verdict.ok ? 0 : 1;
  } finally {
    await db.destroy();
    await database.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const code = (error as { code?: unknown }).code;
    // undefined_table / undefined_column: a database the migrations have not reached.
    if (code === "42P01" || code === "42703") fail(`This database has no hash-chained audit log yet: migrate it first (pnpm start does). ${String(error)}`, 78);
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(2);
  },
);
