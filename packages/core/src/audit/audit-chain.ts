// The audit log's hash chain as pure functions: how a link's hash is made and how a link is checked against the one before it.
import { createHash } from "node:crypto";

/** prev_hash of the first link. */
export const GENESIS_HASH = "0".repeat(64);

/** A link as the verifier reads it: `canonical` is the row's content serialised as the chain defines it. */
export interface ChainLink {
  id: number;
  seq: number | null;
  prevHash: string | null;
  hash: string | null;
  canonical: string;
}

/** A link's sealing time as the chain hashes it (UTC, microseconds, fixed width), so text order is time order. */
export interface TimedLink {
  id: number;
  seq: number;
  createdAt: string;
}

export type ChainVerdict =
  | {
      ok: true;
      rows: number;
      head: { seq: number; hash: string } | null;
      /** With anchors given: how many were checked and the newest (by key, i.e. by the time it was written). */
      anchors?: { checked: number; latest: { key: string; seq: number; anchoredAt: string } | null };
    }
  | { ok: false; firstBrokenId: number; reason: string; anchorKey?: string };

/** sha256(prev_hash || canonical), hex: the same bytes the database hashes when it seals a link. */
export function linkHash(prevHash: string, canonical: string): string {
  return createHash("sha256")
    .update(prevHash + canonical, "utf8")
    .digest("hex");
}

/** Why `link` does not follow `previous` (null for the first link), or null when it does. */
export function findBreak(previous: { seq: number; hash: string } | null, link: ChainLink): string | null {
  if (link.seq === null || link.hash === null || link.prevHash === null) {
    return `row ${link.id} is not linked into the chain (it was written with the chain trigger disabled)`;
  }
  const expectedSeq = (previous?.seq ?? 0) + 1;
  if (link.seq > expectedSeq) {
    const missing = link.seq === expectedSeq + 1 ? `link ${expectedSeq} is` : `links ${expectedSeq}–${link.seq - 1} are`;
    return `${missing} missing before row ${link.id} (seq ${link.seq}): rows were deleted`;
  }
  if (link.seq < expectedSeq) return `row ${link.id} repeats chain position ${link.seq}: a row was inserted into the chain`;
  const expectedPrev = previous?.hash ?? GENESIS_HASH;
  if (link.prevHash !== expectedPrev) {
    const target = expectedSeq === 1 ? "the genesis value" : `the hash of link ${expectedSeq - 1}`;
    return `row ${link.id} (seq ${link.seq}) does not point at ${target}: the chain was rewritten before it`;
  }
  if (linkHash(link.prevHash, link.canonical) !== link.hash) {
    return `row ${link.id} (seq ${link.seq}) does not match its hash: its content was changed`;
  }
  return null;
}

/**
 * Why `link` breaks the chain's time (null when it does not): a link is sealed under the chain lock with the
 * database clock read after the previous holder let go, so along seq the time never decreases.
 */
export function findTimeBreak(previous: TimedLink | null, link: TimedLink): string | null {
  if (previous === null || link.createdAt >= previous.createdAt) return null;
  return `row ${link.id} (seq ${link.seq}) is dated ${link.createdAt}, before the link before it (row ${previous.id}, ${previous.createdAt}): time runs backwards in the chain`;
}
