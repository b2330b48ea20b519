// Admin tokens: parsing ADMIN_API_TOKENS, constant-time checks, defaults per mode, failure throttling.
import crypto from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadEnv } from "../env.ts";
import { AdminTokensSchema, createAdminAuth, FAILURES_AUDITED_PER_MINUTE, resolveAdminTokens } from "./admin-auth.ts";

const ALICE = "a".repeat(32);
const BOB = "b-token-that-is-long-enough-000000";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("AdminTokensSchema", () => {
  it("parses name:token pairs", () => {
    expect(AdminTokensSchema.parse(` alice:${ALICE} , bob:${BOB}`)).toEqual([
      { name: "alice", token: ALICE },
      { name: "bob", token: BOB },
    ]);
  });

  it("refuses short tokens, malformed pairs and repeats, naming the problem at start-up", () => {
    expect(() => loadEnv({ ADMIN_API_TOKENS: "alice:short" })).toThrow(/ADMIN_API_TOKENS: the token for "alice" must be at least 32 characters/);
    expect(() => loadEnv({ ADMIN_API_TOKENS: ALICE })).toThrow(/name:token pairs/);
    expect(() => loadEnv({ ADMIN_API_TOKENS: `alice:${ALICE},alice:${BOB}` })).toThrow(/repeats a name or a token/);
  });

  it("reads TRUST_PROXY as a number of proxies", () => {
    expect(loadEnv({}).TRUST_PROXY).toBe(0);
    expect(loadEnv({ TRUST_PROXY: "true" }).TRUST_PROXY).toBe(1);
    expect(loadEnv({ TRUST_PROXY: "2" }).TRUST_PROXY).toBe(2);
    expect(() => loadEnv({ TRUST_PROXY: "yes" })).toThrow(/TRUST_PROXY/);
  });
});

describe("resolveAdminTokens", () => {
  it("uses the configured tokens", () => {
    expect(resolveAdminTokens({ configured: [{ name: "alice", token: ALICE }], nodeEnv: "production" })).toEqual({
      tokens: [{ name: "alice", token: ALICE }],
      generated: null,
    });
  });

  it("has no default in production: the admin API is disabled", () => {
    const resolved = resolveAdminTokens({ configured: undefined, nodeEnv: "production" });
    expect(resolved.tokens).toEqual([]);
    expect(createAdminAuth(resolved.tokens).authenticate(`Bearer ${ALICE}`)).toEqual({ ok: false, reason: "disabled" });
  });

  it("generates a random development token to log once", () => {
    const a = resolveAdminTokens({ configured: [], nodeEnv: "development" });
    const b = resolveAdminTokens({ configured: undefined, nodeEnv: "development" });
    expect(a.generated?.name).toBe("dev");
    expect(a.generated!.token.length).toBeGreaterThanOrEqual(32);
    expect(a.generated!.token).not.toBe(b.generated!.token);
  });
});

describe("createAdminAuth", () => {
  const auth = createAdminAuth([
    { name: "alice", token: ALICE },
    { name: "bob", token: BOB },
  ]);

  it("names the admin whose token was presented", () => {
    expect(auth.authenticate(`Bearer ${BOB}`)).toEqual({ ok: true, name: "bob" });
    expect(auth.authenticate(`Bearer ${ALICE}`)).toEqual({ ok: true, name: "alice" });
  });

  it("refuses a missing, malformed or unknown token", () => {
    expect(auth.authenticate(null)).toEqual({ ok: false, reason: "missing" });
    expect(auth.authenticate(`Basic ${ALICE}`)).toEqual({ ok: false, reason: "malformed" });
    expect(auth.authenticate(`Bearer ${ALICE}x`)).toEqual({ ok: false, reason: "unknown_token" });
    expect(auth.authenticate(`Bearer ${ALICE.slice(1)}`)).toEqual({ ok: false, reason: "unknown_token" });
  });

  it("compares equal-length digests with crypto.timingSafeEqual against every token", () => {
    const spy = vi.spyOn(crypto, "timingSafeEqual");
    auth.authenticate(`Bearer ${ALICE}`);
    auth.authenticate("Bearer x");
    expect(spy).toHaveBeenCalledTimes(4);
    for (const [a, b] of spy.mock.calls) expect((a as Buffer).length).toBe((b as Buffer).length);
  });

  it("audits at most a fixed number of failures per source a minute, then reports how many it skipped", () => {
    let now = 0;
    const throttled = createAdminAuth([{ name: "alice", token: ALICE }], () => now);
    for (let i = 0; i < FAILURES_AUDITED_PER_MINUTE; i++) expect(throttled.admitFailure("10.0.0.1")).toEqual({ suppressedBefore: 0 });
    expect(throttled.admitFailure("10.0.0.1")).toBeNull();
    expect(throttled.admitFailure("10.0.0.1")).toBeNull();
    expect(throttled.admitFailure("10.0.0.2")).toEqual({ suppressedBefore: 0 });
    now = 60_000;
    expect(throttled.admitFailure("10.0.0.1")).toEqual({ suppressedBefore: 2 });
  });
});
