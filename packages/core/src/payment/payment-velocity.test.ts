// The pure half of the payment velocity limits: which keys an attempt counts against, how an address or email is
// folded so a trivial respelling is not a new key, and what a refusal tells the shopper. (The database half, with
// real PostgreSQL and concurrency, is packages/core/test/payment-velocity.test.ts.)
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, keyOf, keysOf, lockedError, normalizeAddress, normalizeEmail, refusalOf, type Limits } from "./payment-velocity.ts";

describe("normalizeEmail", () => {
  it("folds case, surrounding space and a +tag into one mailbox", () => {
    expect(normalizeEmail("  Ada.Lovelace+shop1@Example.COM ")).toBe("ada.lovelace@example.com");
    expect(normalizeEmail("ada.lovelace+2@example.com")).toBe("ada.lovelace@example.com");
  });

  it("ignores dots in a Gmail local part, and treats googlemail.com as gmail.com", () => {
    expect(normalizeEmail("a.d.a@gmail.com")).toBe("ada@gmail.com");
    expect(normalizeEmail("ada+x@googlemail.com")).toBe("ada@gmail.com");
  });

  it("keeps dots elsewhere, and leaves something that is not an address alone", () => {
    expect(normalizeEmail("a.d.a@example.com")).toBe("a.d.a@example.com");
    expect(normalizeEmail("not-an-address")).toBe("not-an-address");
  });
});

describe("normalizeAddress", () => {
  it("keeps an IPv4 address and unwraps an IPv4-mapped IPv6 one", () => {
    expect(normalizeAddress("203.0.113.7")).toBe("203.0.113.7");
    expect(normalizeAddress("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(normalizeAddress("0:0:0:0:0:ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("counts an IPv6 address as its /64, however it is written", () => {
    const prefix = "2001:db8:1:2::/64";
    expect(normalizeAddress("2001:db8:1:2::1")).toBe(prefix);
    expect(normalizeAddress("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff")).toBe(prefix);
    expect(normalizeAddress("2001:db8:1:2:a:b:c:d%eth0")).toBe(prefix);
    expect(normalizeAddress("2001:db8:1:3::1")).not.toBe(prefix);
    expect(normalizeAddress("::1")).toBe("0:0:0:0::/64");
  });

  it("leaves a malformed address as it is rather than folding it into someone else's", () => {
    expect(normalizeAddress("2001:db8::1::2")).toBe("2001:db8::1::2");
    expect(normalizeAddress("unknown")).toBe("unknown");
  });
});

describe("keysOf", () => {
  const subject = { cartId: "cart-1", address: "203.0.113.7", email: "Ada@Example.com", cardFingerprint: "fp_1" };

  it("gives one hashed key per limit, never the cart id, address, email or fingerprint itself", () => {
    const keys = keysOf(subject, DEFAULT_LIMITS);
    expect(keys.map((key) => key.scope)).toEqual(["cart", "address", "email", "card"]);
    for (const key of keys) expect(key.keyHash).toMatch(/^[0-9a-f]{64}$/);
    const serialized = JSON.stringify(keys);
    for (const value of ["cart-1", "203.0.113.7", "example.com", "fp_1"]) expect(serialized).not.toContain(value);
  });

  it("gives the same key for a respelt email or an address in another notation", () => {
    const respelt = keysOf({ ...subject, address: "::ffff:203.0.113.7", email: " ada+again@example.COM" }, DEFAULT_LIMITS);
    expect(respelt).toEqual(keysOf(subject, DEFAULT_LIMITS));
  });

  it("keeps scopes apart: the same value under two limits is two keys", () => {
    expect(keyOf("cart", "x").keyHash).not.toBe(keyOf("email", "x").keyHash);
  });

  it("leaves out the limit per address for an exempt address (an operator's load generator), and only that limit", () => {
    const limits: Limits = { ...DEFAULT_LIMITS, exemptAddresses: ["127.0.0.1", "::1"] };
    expect(keysOf({ ...subject, address: "127.0.0.1" }, limits).map((key) => key.scope)).toEqual(["cart", "email", "card"]);
    expect(keysOf({ ...subject, address: "::ffff:127.0.0.1" }, limits).map((key) => key.scope)).toEqual(["cart", "email", "card"]);
    expect(keysOf({ ...subject, address: "127.0.0.2" }, limits).map((key) => key.scope)).toEqual(["cart", "address", "email", "card"]);
    // An exempt IPv6 address does not exempt the rest of its /64.
    expect(keysOf({ ...subject, address: "::2" }, limits).map((key) => key.scope)).toContain("address");
  });

  it("leaves out a limit that is off (0) and a value the attempt does not have", () => {
    const limits: Limits = { ...DEFAULT_LIMITS, address: { ...DEFAULT_LIMITS.address, maxDeclines: 0 } };
    expect(keysOf({ ...subject, cardFingerprint: null, email: "" }, limits).map((key) => key.scope)).toEqual(["cart"]);
  });
});

describe("refusalOf and lockedError", () => {
  const now = new Date("2026-11-24T12:00:00Z");

  it("waits for the latest lock, in whole seconds", () => {
    const refusal = refusalOf(
      [
        { scope: "cart", declines: 3, lockedUntil: new Date(now.getTime() + 900_000) },
        { scope: "address", declines: 10, lockedUntil: new Date(now.getTime() + 3_600_500) },
      ],
      now,
    );
    expect(refusal.lockedUntil.toISOString()).toBe("2026-11-24T13:00:00.500Z");
    expect(refusal.retryAfterSeconds).toBe(3601);
  });

  it("tells the shopper when to try again but neither a decline reason nor which limit refused", () => {
    const error = lockedError(refusalOf([{ scope: "card", declines: 3, lockedUntil: new Date(now.getTime() + 60_000) }], now));
    expect(error.code).toBe("PAYMENT_ATTEMPTS_LOCKED");
    expect(error.details).toEqual({ retryAfterSeconds: 60, lockedUntil: "2026-11-24T12:01:00.000Z" });
    expect(error.message).not.toMatch(/insufficient|declined|address|email|limit|fingerprint/i);
  });
});
