// Where the admin token for the invariant check comes from: the variable the script names, or, for a
// shop on this machine started with `pnpm start` in development, the token file that shop wrote.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ScriptError } from "../script/script-types.ts";

/** What `pnpm start` (NODE_ENV=development, no ADMIN_API_TOKENS) writes: its generated token, mode 0600. */
export const DEFAULT_DEV_TOKEN_FILE = fileURLToPath(new URL("../../../../.data/admin-token", import.meta.url));

/** Overrides DEFAULT_DEV_TOKEN_FILE, for a shop started with another DATA_DIR. */
export const DEV_TOKEN_FILE_ENV = "CHECKOUT_ADMIN_TOKEN_FILE";

/**
 * The admin API cannot be used as configured, found before any load is applied. A ScriptError
 * naming the plugin's key, so the CLI exits 2 as for any script that cannot be run.
 */
export class InvariantsSetupError extends ScriptError {
  constructor(message: string) {
    super(message, "config.plugins.checkout-invariants", null);
  }
}

export interface AdminToken {
  token: string;
  /** For messages: "CHECKOUT_ADMIN_TOKEN" or the file it was read from. */
  source: string;
  isDevFile: boolean;
}

export function isLoopback(target: string): boolean {
  const host = new URL(target).hostname;
  return host === "localhost" || host === "[::1]" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function resolveAdminToken(input: { target: string; adminTokenEnv: string; env?: NodeJS.ProcessEnv }): AdminToken {
  const env = input.env ?? process.env;
  const fromEnv = env[input.adminTokenEnv]?.trim();
  if (fromEnv) return { token: fromEnv, source: input.adminTokenEnv, isDevFile: false };
  const setIt = `set ${input.adminTokenEnv} to an admin token of the service at ${input.target} (one from its ADMIN_API_TOKENS)`;
  // A development token is only ever sent to this machine.
  if (!isLoopback(input.target)) {
    throw new InvariantsSetupError(`${setIt}. The run was not started.`);
  }
  const file = env[DEV_TOKEN_FILE_ENV]?.trim() || DEFAULT_DEV_TOKEN_FILE;
  let token: string;
  try {
    token = readFileSync(file, "utf8").trim();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read (${(error as Error).message})`;
    throw new InvariantsSetupError(
      `${setIt}, or start the shop with \`pnpm start\` (development, no ADMIN_API_TOKENS), which writes its token to ${file}; ` +
        `that file ${reason}${file === DEFAULT_DEV_TOKEN_FILE ? ` (a shop with another DATA_DIR: set ${DEV_TOKEN_FILE_ENV})` : ""}. The run was not started.`,
    );
  }
  if (!token) throw new InvariantsSetupError(`${file} is empty; ${setIt}. The run was not started.`);
  return { token, source: file, isDevFile: true };
}
