// Payment velocity: how many declined payment attempts a cart, a client address, an email and a card may have in a
// window before they are locked for a cool-down, so the checkout cannot be used to test stolen cards. Counted in
// PostgreSQL (every process and task sees the same counts) with conditional upserts that hold under concurrency.
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database, PaymentVelocityRow } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as PaymentVelocityRepository from "./payment-velocity.repository.ts";
import type { VelocityKey } from "./payment-velocity.repository.ts";

export type { VelocityKey } from "./payment-velocity.repository.ts";

export const scopes = ["cart", "address", "email", "card"] as const;
export type Scope = (typeof scopes)[number];

export interface Limit {
  /** Declines allowed in a window; the one that reaches it locks the key. 0 turns this limit off. */
  maxDeclines: number;
  /** How long declines count. */
  windowMs: number;
  /** How long the key stays locked once it reaches maxDeclines; afterwards it starts afresh. */
  lockMs: number;
}

export interface Limits {
  cart: Limit;
  address: Limit;
  email: Limit;
  card: Limit;
  /**
   * Attempts at the processor at once per key. Declines are counted exactly whatever the concurrency, so no key ever
   * gets more than maxDeclines - 1 decline reasons; this bounds how many declines a concurrent burst can still put
   * through to the processor before the lock: at most maxDeclines - 1 + maxInFlight per window.
   */
  maxInFlight: number;
  /** Client addresses the limit per address does not apply to (an operator's own load generator); the others still do. */
  exemptAddresses?: readonly string[];
}

const HOUR_MS = 60 * 60 * 1000;

export const DEFAULT_LIMITS: Limits = {
  cart: { maxDeclines: 3, windowMs: HOUR_MS, lockMs: 15 * 60 * 1000 },
  address: { maxDeclines: 10, windowMs: HOUR_MS, lockMs: HOUR_MS },
  email: { maxDeclines: 5, windowMs: HOUR_MS, lockMs: HOUR_MS },
  card: { maxDeclines: 3, windowMs: HOUR_MS, lockMs: HOUR_MS },
  maxInFlight: 16,
};

/** How long a shopper is asked to wait when a key's attempts at the processor are at maxInFlight. */
export const BUSY_RETRY_MS = 5_000;

/** A key over its limit, and until when. */
export interface Lock {
  scope: Scope;
  declines: number;
  lockedUntil: Date;
}

export interface Refusal {
  locks: Lock[];
  /** The latest of the locks: when every limit that refused will let the shopper try again. */
  lockedUntil: Date;
  retryAfterSeconds: number;
}

/** What identifies an attempt to each limit; absent values (no address, no fingerprint) are simply not limited. */
export interface Subject {
  cartId: string;
  address?: string | null;
  email?: string | null;
  cardFingerprint?: string | null;
}

/** One mailbox, however it is spelled: case, surrounding space, a +tag, and dots in a Gmail local part do not make a new one. */
export function normalizeEmail(email: string): string {
  const trimmed = email.trim().toLowerCase();
  const at = trimmed.lastIndexOf("@");
  if (at <= 0) return trimmed;
  let local = trimmed.slice(0, at);
  const domain = trimmed.slice(at + 1);
  local = local.split("+")[0] ?? local;
  if (domain === "gmail.com" || domain === "googlemail.com") local = local.replaceAll(".", "");
  return `${local}@${domain === "googlemail.com" ? "gmail.com" : domain}`;
}

/**
 * One client, however its address is written: an IPv4-mapped IPv6 address is its IPv4 address, and an IPv6 address
 * stands for its /64 (one subscriber usually holds a whole /64, so counting single addresses would be no limit).
 */
export function normalizeAddress(ip: string): string {
  const address = ip.trim().toLowerCase().split("%")[0] ?? "";
  const mapped = /^(?:(?:0{1,4}:){5}|::(?:0{1,4}:){0,4})ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(":")) return address;
  const halves = address.split("::");
  if (halves.length > 2) return address;
  const groupsOf = (part: string | undefined) => (part ? part.split(":").flatMap((group) => (group.includes(".") ? ["0", "0"] : [group])) : []);
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return address;
  const groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  if (groups.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return address;
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(":")}::/64`;
}

function isExempt(address: string, limits: Limits): boolean {
  const exempt = limits.exemptAddresses ?? [];
  return exempt.includes(address) || exempt.some((other) => normalizeAddress(other) === normalizeAddress(address) && !normalizeAddress(address).endsWith("/64"));
}

/** A key as stored: the SHA-256 of scope and value, so the table holds no address, email or cart id. */
export function keyOf(scope: Scope, value: string): VelocityKey {
  return { scope, keyHash: createHash("sha256").update(`${scope}\n${value}`, "utf8").digest("hex") };
}

/** The keys an attempt counts against: one per limit that is on and has a value. */
export function keysOf(subject: Subject, limits: Limits): VelocityKey[] {
  const values: [Scope, string | null | undefined][] = [
    ["cart", subject.cartId],
    ["address", subject.address && !isExempt(subject.address, limits) ? normalizeAddress(subject.address) : null],
    ["email", subject.email ? normalizeEmail(subject.email) : null],
    ["card", subject.cardFingerprint],
  ];
  return values.filter(([scope, value]) => value && limits[scope].maxDeclines > 0).map(([scope, value]) => keyOf(scope, value!));
}

function sameKey(a: VelocityKey, b: VelocityKey): boolean {
  return a.scope === b.scope && a.keyHash === b.keyHash;
}

/** One global order (scope, then hash) for taking row locks, so two attempts over overlapping keys never deadlock. */
function inLockOrder(keys: readonly VelocityKey[]): VelocityKey[] {
  const unique = keys.filter((key, index) => keys.findIndex((other) => sameKey(other, key)) === index);
  return unique.sort((a, b) => scopes.indexOf(a.scope) - scopes.indexOf(b.scope) || (a.keyHash < b.keyHash ? -1 : a.keyHash > b.keyHash ? 1 : 0));
}

function lockOf(row: PaymentVelocityRow, now: Date): Lock | null {
  if (!row.locked_until || row.locked_until.getTime() <= now.getTime()) return null;
  return { scope: row.scope, declines: row.declines, lockedUntil: row.locked_until };
}

/** The rest of a refusal from its locks: the latest lock decides when the shopper may try again. */
export function refusalOf(locks: readonly Lock[], now: Date): Refusal {
  const lockedUntil = new Date(Math.max(now.getTime() + 1000, ...locks.map((lock) => lock.lockedUntil.getTime())));
  return { locks: [...locks], lockedUntil, retryAfterSeconds: Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000)) };
}

/** What the shopper is told: no decline reason, and not which limit refused (that only goes to the audit trail). */
export function lockedError(refusal: Refusal): AppError {
  return new AppError(
    "PAYMENT_ATTEMPTS_LOCKED",
    "Your payment was not accepted. For your security, payments for this checkout are paused for a while; try again later or contact your bank.",
    { retryAfterSeconds: refusal.retryAfterSeconds, lockedUntil: refusal.lockedUntil.toISOString() },
  );
}

/**
 * The keys that are locked now (read only, one query): the check before anything is written or any stock is held.
 * With `anyOfScope`, also whether any key of that scope is locked at all (`isAnyLocked`): while none is, a lookup
 * that would only add such a key (the card's fingerprint) cannot refuse anything and may be skipped.
 */
export async function findLocks(input: { db: Kysely<Database>; keys: readonly VelocityKey[]; now: Date; anyOfScope?: Scope }): Promise<{ locks: Lock[]; isAnyLocked: boolean }> {
  const rows = await PaymentVelocityRepository.findLocked(input.db, { keys: input.keys, now: input.now, anyOfScope: input.anyOfScope });
  const ofKeys = rows.filter((row) => input.keys.some((key) => key.scope === row.scope && key.keyHash === row.key_hash));
  return {
    locks: ofKeys.map((row) => lockOf(row, input.now)).filter((lock): lock is Lock => lock !== null),
    isAnyLocked: input.anyOfScope !== undefined && rows.some((row) => row.scope === input.anyOfScope),
  };
}

/**
 * Takes one attempt on every key, all or none, right before the processor is called: one multi-row conditional
 * upsert in lock order; if any key refused, the attempts taken on the others are given back at once. Returns the
 * keys taken, or the locks that refused (a key that is not locked but has maxInFlight attempts at the processor
 * answers with a short wait).
 */
export async function reserve(input: { db: Kysely<Database>; keys: readonly VelocityKey[]; limits: Limits; now: Date }): Promise<{ reserved: VelocityKey[]; refused: Lock[] }> {
  const { limits, now } = input;
  const keys = inLockOrder(input.keys);
  if (keys.length === 0) return { reserved: [], refused: [] };
  const taken = await PaymentVelocityRepository.reserveEach(input.db, {
    keys: keys.map((key) => ({ ...key, windowEndsAt: new Date(now.getTime() + limits[key.scope].windowMs) })),
    maxDeclines: { cart: limits.cart.maxDeclines, address: limits.address.maxDeclines, email: limits.email.maxDeclines, card: limits.card.maxDeclines },
    maxInFlight: limits.maxInFlight,
    now,
  });
  const isTaken = (key: VelocityKey) => taken.some((row) => row.scope === key.scope && row.key_hash === key.keyHash);
  const refusedKeys = keys.filter((key) => !isTaken(key));
  if (refusedKeys.length === 0) return { reserved: keys, refused: [] };
  await PaymentVelocityRepository.release(input.db, { keys: keys.filter(isTaken), now });
  const rows = await PaymentVelocityRepository.findKeys(input.db, refusedKeys);
  const refused = refusedKeys.map((key) => {
    const row = rows.find((candidate) => candidate.scope === key.scope && candidate.key_hash === key.keyHash);
    const lock = row ? lockOf(row, now) : null;
    return lock ?? { scope: key.scope, declines: row?.declines ?? 0, lockedUntil: new Date(now.getTime() + BUSY_RETRY_MS) };
  });
  return { reserved: [], refused };
}

/**
 * Ends an attempt: gives back what `reserve` took and, for a decline, counts it on those keys and on any key learnt
 * only from the processor's answer (a card fingerprint that was not looked up). Returns the locks in force on these
 * keys afterwards: any at all, and the shopper is told only that payments are paused.
 */
export async function settle(input: {
  db: Kysely<Database>;
  reserved: readonly VelocityKey[];
  learnt?: readonly VelocityKey[];
  isDecline: boolean;
  limits: Limits;
  now: Date;
}): Promise<Lock[]> {
  const { limits, now } = input;
  if (!input.isDecline) {
    await PaymentVelocityRepository.release(input.db, { keys: inLockOrder(input.reserved), now });
    return [];
  }
  const learnt = (input.learnt ?? []).filter((key) => !input.reserved.some((other) => sameKey(other, key)));
  const locks: Lock[] = [];
  // One statement per key, each its own transaction: one row lock at a time, so no ordering can deadlock.
  for (const key of inLockOrder([...input.reserved, ...learnt])) {
    const limit = limits[key.scope];
    const row = await PaymentVelocityRepository.recordDecline(input.db, {
      ...key,
      release: input.reserved.some((other) => sameKey(other, key)) ? 1 : 0,
      maxDeclines: limit.maxDeclines,
      windowEndsAt: new Date(now.getTime() + limit.windowMs),
      lockUntil: new Date(now.getTime() + limit.lockMs),
      now,
    });
    const lock = lockOf(row, now);
    if (lock) locks.push(lock);
  }
  return locks;
}

/** Forgets keys whose window ended more than `graceMs` ago, `limit` rows at a time; returns how many. */
export function purgeEnded(input: { db: Kysely<Database>; now: Date; graceMs?: number; limit?: number }): Promise<number> {
  return PaymentVelocityRepository.purgeEnded(input.db, { before: new Date(input.now.getTime() - (input.graceMs ?? 0)), limit: input.limit ?? 1000 });
}
