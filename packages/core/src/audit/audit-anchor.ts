// Anchors of the audit chain: the head's position, hash and time written outside the database (an S3 bucket with
// Object Lock), and the pure rules that hold a chain to them. The database's owner can rewrite the chain and recompute
// every hash so it is internally consistent again; it cannot rewrite an anchor, so an anchored link that changed is found.
import { z } from "zod";
import type { TimedLink } from "./audit-chain.ts";

/** Where anchors live in the bucket; the rest of the key sorts by the time the anchor was taken. */
export const ANCHOR_PREFIX = "audit-anchors/";

/** The chain's own time format (to_char ... 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'): fixed width, so text order is time order. */
const chainTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/, "must be YYYY-MM-DDTHH:MM:SS.ffffffZ");

export const AuditAnchorSchema = z.strictObject({
  version: z.literal(1),
  /** The head's place in the chain and its audit_log id. */
  seq: z.number().int().positive(),
  id: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits"),
  /** The head row's created_at (its sealing time), as the chain hashes it. */
  headCreatedAt: chainTime,
  /** The database clock when the head was read: every link up to seq was sealed no later. */
  anchoredAt: chainTime,
});

export type AuditAnchor = z.infer<typeof AuditAnchorSchema>;

export interface StoredAnchor {
  key: string;
  anchor: AuditAnchor;
}

/** A chain link as the anchors are compared with it. */
export interface AnchoredLink extends TimedLink {
  hash: string;
}

export interface AnchorBreak {
  /** The audit_log row the break is reported at: the chain's row at the anchored position, or the id the anchor recorded. */
  firstBrokenId: number;
  anchorKey: string;
  reason: string;
}

/** `audit-anchors/<anchoredAt>-<seq>.json`: keys list in the order the anchors were taken. */
export function anchorKey(anchor: Pick<AuditAnchor, "anchoredAt" | "seq">): string {
  return `${ANCHOR_PREFIX}${anchor.anchoredAt}-${String(anchor.seq).padStart(12, "0")}.json`;
}

/** The anchor stored under `key`, or why its body is not one. */
export function parseAnchor(input: { key: string; body: string }): { ok: true; anchor: StoredAnchor } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(input.body);
  } catch {
    return { ok: false, reason: `anchor ${input.key} is not JSON` };
  }
  const parsed = AuditAnchorSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ");
    return { ok: false, reason: `anchor ${input.key} is not a valid anchor (${problems})` };
  }
  return { ok: true, anchor: { key: input.key, anchor: parsed.data } };
}

/**
 * The first anchor, in key order, that breaks the anchors' own order: a key that does not name its content, a time
 * earlier than the anchor before it, or a chain position behind it (the chain only grows).
 */
export function findAnchorOrderBreak(anchors: readonly StoredAnchor[]): AnchorBreak | null {
  let previous: StoredAnchor | null = null;
  for (const stored of anchors) {
    const { key, anchor } = stored;
    const at = (reason: string): AnchorBreak => ({ firstBrokenId: anchor.id, anchorKey: key, reason });
    if (key !== anchorKey(anchor)) return at(`anchor ${key} does not carry the time and position its name gives (${anchorKey(anchor)})`);
    if (anchor.headCreatedAt > anchor.anchoredAt) {
      return at(`anchor ${key} was taken at ${anchor.anchoredAt}, before its head row ${anchor.id} was sealed (${anchor.headCreatedAt}): time runs backwards`);
    }
    if (previous) {
      if (key <= previous.key) return at(`anchor ${key} is listed after ${previous.key}: the anchors are not in key order`);
      if (anchor.anchoredAt < previous.anchor.anchoredAt) {
        return at(`anchor ${key} was taken at ${anchor.anchoredAt}, before the anchor before it (${previous.key}): time runs backwards`);
      }
      if (anchor.seq < previous.anchor.seq) {
        return at(`anchor ${key} records seq ${anchor.seq}, behind seq ${previous.anchor.seq} of the anchor before it (${previous.key}): the chain went backwards`);
      }
    }
    previous = stored;
  }
  return null;
}

/** Why the chain's link at the anchored position disagrees with the anchor (null when it agrees); `link` is absent when the chain has no such position. */
export function compareWithAnchor(input: { stored: StoredAnchor; link: AnchoredLink | undefined; head: { seq: number } | null; lastMatchingSeq: number }): string | null {
  const { key, anchor } = input.stored;
  const since = input.lastMatchingSeq > 0 ? `after seq ${input.lastMatchingSeq} (the last anchored link that still matches)` : "from its start";
  if (!input.link) {
    const ends = input.head ? `the chain ends at seq ${input.head.seq}` : "the chain is empty";
    return `${ends}, but anchor ${key} (taken ${anchor.anchoredAt}) recorded row ${anchor.id} at seq ${anchor.seq}: rows were removed from the chain`;
  }
  const { link } = input;
  if (link.id !== anchor.id) {
    return `row ${link.id} holds seq ${anchor.seq}, which anchor ${key} (taken ${anchor.anchoredAt}) recorded for row ${anchor.id}: the chain was rewritten ${since}`;
  }
  if (link.hash !== anchor.hash) {
    return `row ${link.id} (seq ${link.seq}) does not match anchor ${key} (taken ${anchor.anchoredAt}): its hash is ${link.hash}, the anchor recorded ${anchor.hash}; the chain was rewritten ${since} and at or before seq ${link.seq}`;
  }
  if (link.createdAt !== anchor.headCreatedAt) {
    return `row ${link.id} (seq ${link.seq}) is dated ${link.createdAt}, but anchor ${key} recorded ${anchor.headCreatedAt}`;
  }
  return null;
}

/**
 * Holds the chain to its anchors: the anchors' own order first, then, in chain order, each anchored position must
 * hold the same row with the same hash and time. `linksAt` is the chain's link at each anchored seq (absent when the
 * chain has none); `head` its last link. Reports the first break, naming the row at the earliest anchor that no longer matches.
 */
export function checkAnchors(input: { anchors: readonly StoredAnchor[]; linksAt: ReadonlyMap<number, AnchoredLink>; head: { seq: number } | null }): AnchorBreak | null {
  const orderBreak = findAnchorOrderBreak(input.anchors);
  if (orderBreak) return orderBreak;
  let lastMatchingSeq = 0;
  for (const stored of input.anchors) {
    const link = input.linksAt.get(stored.anchor.seq);
    const reason = compareWithAnchor({ stored, link, head: input.head, lastMatchingSeq });
    if (reason) return { firstBrokenId: link?.id ?? stored.anchor.id, anchorKey: stored.key, reason };
    lastMatchingSeq = stored.anchor.seq;
  }
  return null;
}
