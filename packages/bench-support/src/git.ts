// Which commit a benchmark measured, for its report.
import { execFileSync } from "node:child_process";

/** The commit being measured, marked when the tree has uncommitted changes; null outside a git checkout. */
export function gitCommit(cwd: string): string | null {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const isDirty = execFileSync("git", ["status", "--porcelain"], { cwd, encoding: "utf8" }).trim() !== "";
    return isDirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return null;
  }
}
