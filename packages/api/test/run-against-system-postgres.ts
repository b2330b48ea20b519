// `pnpm --filter @checkout/api test:system-postgres`: only the API integration tests against the external PostgreSQL
// (the "api-system-postgres" project, which `pnpm test` runs beside the others), or a note that none answers.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { systemPostgresLabel, systemPostgresVersion } from "./system-postgres.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

if (!(await systemPostgresVersion())) {
  console.log(`[system-postgres] no PostgreSQL reachable at ${systemPostgresLabel}; skipped (set SYSTEM_DATABASE_URL to use another)`);
  process.exit(0);
}
const result = spawnSync("pnpm", ["exec", "vitest", "run", "--project", "api-system-postgres", ...process.argv.slice(2)], { cwd: repoRoot, stdio: "inherit" });
process.exit(result.status ?? 1);
