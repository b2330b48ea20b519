// `pnpm audit:verify` against real PostgreSQL: exit 0 on an intact chain, 1 naming the first broken row once someone
// tampers. The chain itself (linking, append-only, concurrent writers, every kind of tampering) is core's, tested
// directly in packages/core/test/audit-chain.test.ts.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { Audit, type Db } from "@checkout/core";
import { createTestDatabase } from "./support/database.ts";

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);

/** What an attacker with table-owner rights does first: switch the append-only and chain triggers off. */
const disableTriggers = (db: Db) => sql`alter table audit_log disable trigger user`.execute(db);

async function linkAt(db: Db, seq: number) {
  return db.selectFrom("audit_log").select(["id", "seq", "prev_hash", "hash"]).where("seq", "=", seq).executeTakeFirstOrThrow();
}

describe("pnpm audit:verify", () => {
  it("exits 0 on an intact chain and 1 with the first broken row once someone tampers", async () => {
    const database = await createTestDatabase({ seed: false });
    try {
      for (let i = 0; i < 5; i++) await Audit.record(database.db, { entity: "order", entityId: `o${i}`, action: "test.recorded" });
      const cli = () =>
        run(process.execPath, ["--import", "tsx", "src/cli/audit-verify.ts"], {
          cwd: apiDir,
          env: { ...process.env, NODE_ENV: "test", DATABASE_URL: database.url },
        });
      const intact = await cli();
      expect(intact.stdout).toMatch(/audit chain intact: 5 rows verified/);

      const third = await linkAt(database.db, 3);
      await disableTriggers(database.db);
      await sql`update audit_log set data = '{"amount": 0}' where id = ${third.id}`.execute(database.db);
      const broken = await cli().then(
        () => {
          throw new Error("expected exit code 1");
        },
        (error: { code: number; stdout: string }) => error,
      );
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(new RegExp(`audit chain BROKEN at audit_log id ${third.id}: .*does not match its hash`));
    } finally {
      await database.drop();
    }
  }, 90_000);
});
