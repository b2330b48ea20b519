// Who may call admin.*: named bearer tokens from ADMIN_API_TOKENS, compared in constant time, and the request origin audit records carry.
import crypto from "node:crypto";
import { z } from "zod";

export const MIN_ADMIN_TOKEN_LENGTH = 32;

export interface AdminToken {
  name: string;
  token: string;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** ADMIN_API_TOKENS: comma-separated `name:token` pairs; blank means none configured. */
export const AdminTokensSchema = z.string().transform((value, ctx): AdminToken[] => {
  const tokens: AdminToken[] = [];
  for (const pair of value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)) {
    const at = pair.indexOf(":");
    const name = at === -1 ? "" : pair.slice(0, at);
    const token = at === -1 ? "" : pair.slice(at + 1);
    if (!NAME.test(name) || token === "") {
      ctx.addIssue({ code: "custom", message: "use comma-separated name:token pairs (name: letters, digits, . _ -)" });
    } else if (token.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(token)) {
      ctx.addIssue({ code: "custom", message: `the token for "${name}" must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters with no spaces` });
    } else if (tokens.some((other) => other.name === name || other.token === token)) {
      ctx.addIssue({ code: "custom", message: `"${name}" repeats a name or a token` });
    } else {
      tokens.push({ name, token });
    }
  }
  return tokens;
});

export interface AdminAuth {
  /** False when no token is configured (production without ADMIN_API_TOKENS): every admin call is refused. */
  readonly isEnabled: boolean;
  /** The admin's name for a valid `Authorization: Bearer <token>` header, or why it was refused. */
  authenticate(authorization: string | null): { ok: true; name: string } | { ok: false; reason: "missing" | "malformed" | "unknown_token" | "disabled" };
  /**
   * Whether to audit this failed attempt from `source`: at most FAILURES_AUDITED_PER_MINUTE per
   * source, so a flood of bad tokens cannot monopolise the audit chain's lock. The ones skipped
   * are counted and reported by the next one audited.
   */
  admitFailure(source: string): { suppressedBefore: number } | null;
}

export const FAILURES_AUDITED_PER_MINUTE = 20;
const MAX_TRACKED_SOURCES = 10_000;

const digest = (value: string) => crypto.createHash("sha256").update(value, "utf8").digest();

export function createAdminAuth(tokens: readonly AdminToken[], now: () => number = Date.now): AdminAuth {
  const known = tokens.map((entry) => ({ name: entry.name, digest: digest(entry.token) }));
  const failures = new Map<string, { windowStart: number; audited: number; suppressed: number }>();
  return {
    isEnabled: known.length > 0,
    admitFailure(source) {
      const at = now();
      let window = failures.get(source);
      if (!window || at - window.windowStart >= 60_000) {
        if (!window && failures.size >= MAX_TRACKED_SOURCES) failures.clear();
        window = { windowStart: at, audited: 0, suppressed: window?.suppressed ?? 0 };
        failures.set(source, window);
      }
      if (window.audited >= FAILURES_AUDITED_PER_MINUTE) {
        window.suppressed += 1;
        return null;
      }
      window.audited += 1;
      const suppressedBefore = window.suppressed;
      window.suppressed = 0;
      return { suppressedBefore };
    },
    authenticate(authorization) {
      if (known.length === 0) return { ok: false, reason: "disabled" };
      if (!authorization) return { ok: false, reason: "missing" };
      const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization.trim());
      if (!match) return { ok: false, reason: "malformed" };
      // Equal-length digests through timingSafeEqual, and every token checked: neither the
      // comparison nor the loop reveals how much of a token matched or which one did.
      const presented = digest(match[1]!);
      let name: string | null = null;
      for (const entry of known) if (crypto.timingSafeEqual(presented, entry.digest) && name === null) name = entry.name;
      return name === null ? { ok: false, reason: "unknown_token" } : { ok: true, name };
    },
  };
}

/**
 * The tokens to run with: those configured; none in production when unset (admin disabled); in
 * development and test a random one named "dev", returned so it can be logged once.
 */
export function resolveAdminTokens(input: { configured: readonly AdminToken[] | undefined; nodeEnv: string }): {
  tokens: readonly AdminToken[];
  generated: AdminToken | null;
} {
  if (input.configured && input.configured.length > 0) return { tokens: input.configured, generated: null };
  if (input.nodeEnv === "production") return { tokens: [], generated: null };
  const generated = { name: "dev", token: crypto.randomBytes(24).toString("base64url") };
  return { tokens: [generated], generated };
}

export type { RequestOrigin } from "../http/client-address.ts";
