// The audit anchor against a real S3 API (s3rver): the running service anchors the chain's head, one process writes an
// interval's anchor, a failed write is retried, and audit:verify holds the chain to its anchors — an owner who rewrites
// a row and recomputes the whole chain is caught, and so is time running backwards.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { Audit, AuditAnchor, createDb, grantServiceRole, type Db } from "@checkout/core";
import { createAnchorStore, type AnchorStore } from "../src/audit/anchor-store.ts";
import { loadEnv } from "../src/env.ts";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "./support/s3-server.ts";
import { CARDS, readyCart, startTestApp, type TestApp } from "./support/app.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { waitUntil } from "./support/wait.ts";

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);

const BUCKET = "checkout-audit-anchors";
const FLEET_BUCKET = "checkout-audit-anchors-fleet";
const LATE_BUCKET = "checkout-audit-anchors-late";
const INTERVAL_MS = 250;
/** Each audit:verify run is a process of its own (node + tsx): on a busy machine a few of them take a while. */
const CLI_TEST_TIMEOUT_MS = 120_000;

let s3: TestS3Server;
let mailDir: string;
const savedCredentials = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  s3 = await startS3Server({ buckets: [BUCKET, FLEET_BUCKET] });
  mailDir = mkdtempSync(path.join(os.tmpdir(), "checkout-anchor-mail-"));
  // The service finds its credentials as in ECS, through the SDK's default chain: here the environment.
  Object.assign(process.env, S3RVER_CREDENTIALS);
});

afterAll(async () => {
  await s3?.close();
  rmSync(mailDir, { recursive: true, force: true });
  for (const [name, value] of Object.entries(savedCredentials)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const storeFor = (bucket: string): AnchorStore => createAnchorStore({ bucket, endpoint: s3.endpoint });

/** `pnpm audit:verify` as an operator runs it, with s3rver as the bucket's endpoint; its exit code and output. */
async function auditVerify(input: { databaseUrl: string; bucket?: string; args?: string[] }): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "test", DATABASE_URL: input.databaseUrl, AWS_REGION: "us-east-1", AUDIT_ANCHOR_ENDPOINT: s3.endpoint };
  delete env.AUDIT_ANCHOR_BUCKET;
  if (input.bucket) env.AUDIT_ANCHOR_BUCKET = input.bucket;
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "src/cli/audit-verify.ts", ...(input.args ?? [])], { cwd: apiDir, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function linkAt(db: Db, seq: number) {
  return db.selectFrom("audit_log").select(["id", "seq", "hash"]).where("seq", "=", seq).executeTakeFirstOrThrow();
}

/** The newest row that is not the log's own upkeep: what an anchor taken now must cover. */
async function lastBusinessSeq(db: Db): Promise<number> {
  const row = await db
    .selectFrom("audit_log")
    .select((eb) => eb.fn.max("seq").as("seq"))
    .where("entity", "<>", "audit")
    .executeTakeFirstOrThrow();
  return Number(row.seq);
}

/**
 * What an owner can do once the triggers are off, in one transaction: rewrite rows and recompute every link from
 * `fromSeq` on, exactly as the seal would have, so the chain is internally consistent again.
 */
async function rewriteChain(db: Db, input: { fromSeq: number; assignment: string; whereSeq: number }) {
  await db.transaction().execute(async (trx) => {
    await sql`alter table audit_log disable trigger user`.execute(trx);
    await sql`update audit_log set ${sql.raw(input.assignment)} where seq = ${input.whereSeq}`.execute(trx);
    await sql`
      do $$
      declare
        r record;
        link_prev text;
      begin
        select hash into link_prev from audit_log where seq = ${sql.lit(input.fromSeq - 1)};
        link_prev := coalesce(link_prev, repeat('0', 64));
        for r in select id from audit_log where seq >= ${sql.lit(input.fromSeq)} order by seq loop
          update audit_log set prev_hash = link_prev, hash = encode(sha256(convert_to(link_prev || jsonb_build_array(seq, id, entity, entity_id, action,
              actor, outcome, origin, data, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text, 'UTF8')), 'hex')
            where id = r.id returning hash into link_prev;
        end loop;
      end $$`.execute(trx);
    await sql`alter table audit_log enable trigger user`.execute(trx);
  });
}

describe("the running service", () => {
  let t: TestApp;
  let store: AnchorStore;
  let isAppClosed = false;

  beforeAll(async () => {
    t = await startTestApp({
      JOBS: "on",
      MAIL_DIR: mailDir,
      AUDIT_ANCHOR_BUCKET: BUCKET,
      AUDIT_ANCHOR_ENDPOINT: s3.endpoint,
      AWS_REGION: "us-east-1",
      AUDIT_ANCHOR_INTERVAL_MS: String(INTERVAL_MS),
    });
    store = storeFor(BUCKET);
  });

  afterAll(async () => {
    store?.close();
    if (isAppClosed) await t.database.drop();
    else await t?.close();
  });

  it("anchors the chain's head to the bucket after each order, as a small JSON object sent with a SHA-256 checksum", async () => {
    for (let i = 0; i < 3; i++) {
      const cartId = await readyCart(t.client);
      const quote = await t.client.checkout.quote.mutate({ cartId });
      await t.client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await t.tokenize(CARDS.success) });
      const covered = await lastBusinessSeq(t.database.db);
      await waitUntil(`an anchor at or past seq ${covered}`, async () => (await store.list()).anchors.some((stored) => stored.anchor.seq >= covered));
    }
    const { anchors, invalid } = await store.list();
    expect(invalid).toEqual([]);
    expect(anchors.length).toBeGreaterThanOrEqual(3);
    for (const { key, anchor } of anchors) {
      expect(key).toMatch(/^audit-anchors\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z-\d{12}\.json$/);
      const link = await linkAt(t.database.db, anchor.seq);
      expect({ id: anchor.id, hash: anchor.hash }).toEqual({ id: Number(link.id), hash: link.hash });
      expect(anchor.anchoredAt >= anchor.headCreatedAt).toBe(true);
    }
    // S3 refuses a PutObject into an Object Lock bucket without an integrity checksum.
    const puts = s3.requests.filter((request) => request.method === "PUT" && request.url.startsWith(`/${BUCKET}/audit-anchors/`));
    expect(puts.length).toBe(anchors.length);
    for (const put of puts) {
      expect(put.headers["x-amz-checksum-sha256"]).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(Number(put.headers["content-length"])).toBeLessThan(512);
    }
    // Each anchor leaves its row in the chain, naming the object.
    const recorded = await t.database.db.selectFrom("audit_log").select(sql<string>`data->>'key'`.as("key")).where("action", "=", AuditAnchor.ANCHORED_ACTION).execute();
    expect(recorded.map((row) => row.key).sort()).toEqual(anchors.map((stored) => stored.key));
    expect(await Audit.verifyChain(t.database.db, { anchors })).toMatchObject({ ok: true, anchors: { checked: anchors.length } });
  });

  it("writes nothing more while the head does not move", async () => {
    // Settled: the head is the last anchor's own row, right after the link it anchored.
    const settled = await waitUntil("the head to be the last anchor's row", async () => {
      const head = await Audit.readHead(t.database.db);
      const row =
        head &&
        (await t.database.db
          .selectFrom("audit_log")
          .select(["action", sql<string>`data->>'seq'`.as("anchored")])
          .where("seq", "=", head.seq)
          .executeTakeFirst());
      return row?.action === AuditAnchor.ANCHORED_ACTION && Number(row.anchored) === head!.seq - 1 ? head : null;
    });
    const before = (await store.list()).anchors.length;
    // Four whole intervals with the head still.
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 4));
    expect((await store.list()).anchors.length).toBe(before);
    expect((await Audit.readHead(t.database.db))?.seq).toBe(settled.seq);
  });

  describe("pnpm audit:verify with the anchor bucket", () => {
    let anchors: Audit.StoredAnchor[];

    beforeAll(async () => {
      // The service stops, its database stays: what an operator checks.
      await t.app.close();
      isAppClosed = true;
      anchors = (await store.list()).anchors;
    });

    it("passes on the service's chain, naming how many anchors it matched", { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
      // --anchors-since: only anchors taken from that time on (here: the last two of at least three).
      expect(anchors.length).toBeGreaterThan(2);
      const since = anchors.at(-2)!.anchor.anchoredAt.replace(/(\.\d{3})\d{3}Z$/, "$1Z");
      // Both runs read only: they run side by side.
      const [result, recent] = await Promise.all([
        auditVerify({ databaseUrl: t.database.url, bucket: BUCKET }),
        auditVerify({ databaseUrl: t.database.url, bucket: BUCKET, args: ["--anchors-since", since] }),
      ]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/audit chain intact: \d+ rows verified/);
      expect(result.stdout).toMatch(new RegExp(`matches ${anchors.length} anchors in bucket ${BUCKET}; the latest, ${anchors.at(-1)!.key.replace(/\./g, "\\.")}`));

      expect(recent.code, recent.stdout + recent.stderr).toBe(0);
      expect(recent.stdout).toContain(`matches 2 anchors in bucket ${BUCKET}`);
    });

    it("catches the owner rewriting a row and recomputing the whole chain, naming the row at the first anchor it no longer matches", { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
      expect(anchors.length).toBeGreaterThanOrEqual(2);
      const [earlier, later] = [anchors[anchors.length - 2]!.anchor, anchors[anchors.length - 1]!.anchor];
      expect(later.seq).toBeGreaterThan(earlier.seq);
      const target = earlier.seq + 1;
      await rewriteChain(t.database.db, { fromSeq: target, whereSeq: target, assignment: `data = data || '{"amount": 0}'` });

      // Internally the rewritten chain is consistent: only the anchors can tell.
      expect(await Audit.verifyChain(t.database.db)).toMatchObject({ ok: true });
      // The CLI without the bucket passes it; with the bucket it does not (both only read: side by side).
      const [withoutBucket, result] = await Promise.all([auditVerify({ databaseUrl: t.database.url }), auditVerify({ databaseUrl: t.database.url, bucket: BUCKET })]);
      expect(withoutBucket.code, withoutBucket.stdout + withoutBucket.stderr).toBe(0);
      expect(result.code).toBe(1);
      const anchoredRow = await linkAt(t.database.db, later.seq);
      expect(Number(anchoredRow.id)).toBe(later.id);
      expect(result.stdout).toContain(`audit chain BROKEN at audit_log id ${later.id} (anchor ${anchors.at(-1)!.key} in bucket ${BUCKET})`);
      expect(result.stdout).toContain(`row ${later.id} (seq ${later.seq}) does not match anchor`);
      expect(result.stdout).toContain(`rewritten after seq ${earlier.seq} (the last anchored link that still matches) and at or before seq ${later.seq}`);
    });
  });
});

describe("one writer per interval", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ seed: false });
    for (let i = 0; i < 3; i++) await Audit.record(database.db, { entity: "order", entityId: `o${i}`, action: "test.recorded" });
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("lets one of many processes write an interval's anchor, and writes none while the head stays", async () => {
    const store = storeFor(FLEET_BUCKET);
    const pools = Array.from({ length: 6 }, (_, i) => createDb({ connectionString: database.url, max: 1, applicationName: `anchor-process-${i}` }));
    try {
      const hour = 3_600_000;
      const outcomes = await Promise.all(pools.map((db) => AuditAnchor.anchorHead({ db, intervalMs: hour, put: (stored) => store.put(stored) })));
      expect(outcomes.filter((outcome) => outcome.status === "written")).toHaveLength(1);
      // The others found the lock taken, or (starting after the writer committed) the head already anchored.
      for (const outcome of outcomes) if (outcome.status === "skipped") expect(["busy", "unchanged", "done"]).toContain(outcome.reason);
      expect((await store.list()).anchors.map((stored) => stored.anchor.seq)).toEqual([3]);

      // New rows in the same interval: still that interval's one anchor.
      await Audit.record(database.db, { entity: "order", entityId: "o3", action: "test.recorded" });
      expect(await AuditAnchor.anchorHead({ db: pools[0]!, intervalMs: hour, put: (stored) => store.put(stored) })).toMatchObject({ status: "skipped", reason: "done" });

      // A short interval: the moved head is anchored in the next one, then nothing while the head is that anchor's row.
      const short = 100;
      await new Promise((resolve) => setTimeout(resolve, short));
      expect(await AuditAnchor.anchorHead({ db: pools[1]!, intervalMs: short, put: (stored) => store.put(stored) })).toMatchObject({ status: "written" });
      await new Promise((resolve) => setTimeout(resolve, short));
      expect(await AuditAnchor.anchorHead({ db: pools[2]!, intervalMs: short, put: (stored) => store.put(stored) })).toMatchObject({ status: "skipped", reason: "unchanged" });
      const { anchors } = await store.list();
      expect(anchors).toHaveLength(2);
      expect(await Audit.verifyChain(database.db, { anchors })).toMatchObject({ ok: true, anchors: { checked: 2 } });
    } finally {
      store.close();
      await Promise.all(pools.map((db) => db.destroy()));
    }
  });

  it("needs only the service role's rights on audit_log (SELECT, INSERT)", async () => {
    const role = `anchor_service_${randomBytes(4).toString("hex")}`;
    const password = `svc-${randomBytes(18).toString("base64url")}`;
    const grant = await grantServiceRole({ db: database.db, role, password });
    expect(grant.tables.audit_log).toBe("select, insert");
    const url = new URL(database.url);
    url.username = role;
    url.password = password;
    const asService = createDb({ connectionString: url.toString(), max: 1, applicationName: "anchor-as-service" });
    const store = storeFor(FLEET_BUCKET);
    try {
      await Audit.record(database.db, { entity: "order", entityId: "o-service", action: "test.recorded" });
      const outcome = await AuditAnchor.anchorHead({ db: asService, intervalMs: 50, put: (stored) => store.put(stored) });
      expect(outcome).toMatchObject({ status: "written" });
      expect(await Audit.verifyChain(database.db, { anchors: (await store.list()).anchors })).toMatchObject({ ok: true });
    } finally {
      store.close();
      await asService.destroy();
      // Roles are the server's, not the database's: its grants go first, then the role.
      await sql`drop owned by ${sql.id(role)}`.execute(database.db);
      const admin = new pg.Client({ connectionString: inject("pgAdminUrl") });
      await admin.connect();
      await admin.query(`drop role if exists ${pg.escapeIdentifier(role)}`);
      await admin.end();
    }
  });
});

describe("a failed anchor", () => {
  let t: TestApp;
  afterAll(async () => {
    await t?.close();
  });

  it("is logged and retried on later runs while the service keeps serving, and written once the bucket answers", async () => {
    t = await startTestApp({
      JOBS: "on",
      MAIL_DIR: mailDir,
      AUDIT_ANCHOR_BUCKET: LATE_BUCKET,
      AUDIT_ANCHOR_ENDPOINT: s3.endpoint,
      AWS_REGION: "us-east-1",
      AUDIT_ANCHOR_INTERVAL_MS: "100",
    });
    await Audit.record(t.database.db, { entity: "order", entityId: "o1", action: "test.recorded" });
    const failures = () => t.logs.filter((line) => line.includes('"job":"audit-anchor"') && line.includes("background job failed")).length;
    await waitUntil("two failed anchor runs", async () => failures() >= 2);
    expect((await fetch(`${t.app.url}/health`)).status).toBe(200);
    const anchoredRows = () => t.database.db.selectFrom("audit_log").select("id").where("action", "=", AuditAnchor.ANCHORED_ACTION).execute();
    expect(await anchoredRows()).toEqual([]);

    const client = new S3Client({ region: "us-east-1", endpoint: s3.endpoint, forcePathStyle: true });
    await client.send(new CreateBucketCommand({ Bucket: LATE_BUCKET }));
    client.destroy();
    await waitUntil("the anchor written on a later run", async () => (await anchoredRows()).length > 0);
    const store = storeFor(LATE_BUCKET);
    try {
      expect((await store.list()).anchors).toHaveLength(1);
    } finally {
      store.close();
    }
  });
});

describe("time in the chain", () => {
  it("audit:verify refuses a chain whose time runs backwards, naming the row, even with every hash recomputed", { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
    const database = await createTestDatabase({ seed: false });
    try {
      for (let i = 0; i < 5; i++) await Audit.record(database.db, { entity: "order", entityId: `o${i}`, action: "test.recorded" });
      // Intact before the rewrite (the CLI's pass on an intact chain is shown above; here the library's own check).
      expect(await Audit.verifyChain(database.db)).toMatchObject({ ok: true });
      const third = await linkAt(database.db, 3);
      const secondTime = await database.db.selectFrom("audit_log").select("created_at").where("seq", "=", 2).executeTakeFirstOrThrow();
      const backdated = new Date(secondTime.created_at.getTime() - 1000).toISOString();
      await rewriteChain(database.db, { fromSeq: 3, whereSeq: 3, assignment: `created_at = '${backdated}'::timestamptz` });

      const result = await auditVerify({ databaseUrl: database.url });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(
        new RegExp(`audit chain BROKEN at audit_log id ${third.id}: row ${third.id} \\(seq 3\\) is dated .* before the link before it .*time runs backwards`),
      );
    } finally {
      await database.drop();
    }
  });
});

describe("configuration", () => {
  const base = { NODE_ENV: "test", DATABASE_URL: "postgres://localhost/x" };

  it("anchors nowhere by default, and every minute with a bucket", () => {
    expect(loadEnv(base).AUDIT_ANCHOR_BUCKET).toBeUndefined();
    expect(loadEnv({ ...base, AUDIT_ANCHOR_BUCKET: "shop-audit-anchors", AWS_REGION: "eu-west-1" })).toMatchObject({ AUDIT_ANCHOR_INTERVAL_MS: 60_000 });
  });

  it("refuses a bucket without a region (or an endpoint), a bucket name S3 would refuse and a bad endpoint, by name", () => {
    expect(() => loadEnv({ ...base, AUDIT_ANCHOR_BUCKET: "shop-audit-anchors" })).toThrow(/AWS_REGION is required when AUDIT_ANCHOR_BUCKET is set/);
    expect(() => loadEnv({ ...base, AUDIT_ANCHOR_BUCKET: "Shop_Anchors", AWS_REGION: "eu-west-1" })).toThrow(/AUDIT_ANCHOR_BUCKET: must be an S3 bucket name/);
    expect(() => loadEnv({ ...base, AUDIT_ANCHOR_BUCKET: "shop-audit-anchors", AUDIT_ANCHOR_ENDPOINT: "ftp://x" })).toThrow(/AUDIT_ANCHOR_ENDPOINT/);
    expect(() => loadEnv({ ...base, AWS_REGION: "Europe" })).toThrow(/AWS_REGION: must be an AWS region/);
  });
});
