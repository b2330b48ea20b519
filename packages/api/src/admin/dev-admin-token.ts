// In development the generated admin token is also written to DATA_DIR/admin-token (mode 0600), so
// local tools on the same machine (the load tester's invariant check) can use it without copying it
// from the log. Never in production or test: production has no generated token, and tests must not
// overwrite the file of a developer's running shop.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

export const DEV_ADMIN_TOKEN_FILE_NAME = "admin-token";

export interface DevAdminTokenFile {
  path: string;
  /** Removes the file if it still holds this token (a newer process may have replaced it). */
  remove(): Promise<void>;
}

/** Writes the token atomically (a 0600 temporary file renamed over the old one), so no reader sees half a token or a wider mode. */
export async function writeDevAdminToken(input: { dataDir: string; token: string }): Promise<DevAdminTokenFile> {
  await mkdir(input.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(input.dataDir, DEV_ADMIN_TOKEN_FILE_NAME);
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, `${input.token}\n`, { mode: 0o600, flag: "wx" });
  await rename(temporary, file);
  return {
    path: file,
    async remove() {
      const current = await readFile(file, "utf8").catch(() => null);
      if (current?.trim() === input.token) await rm(file, { force: true });
    },
  };
}
