// The anchors' pure rules: how an anchor is named and parsed, and how a chain is held to its anchors.
import { describe, expect, it } from "vitest";
import { anchorKey, checkAnchors, findAnchorOrderBreak, parseAnchor, type AnchoredLink, type AuditAnchor, type StoredAnchor } from "./audit-anchor.ts";
import { intervalStart } from "./anchor-head.ts";

const hashOf = (seq: number) => seq.toString(16).padStart(64, "0");
const timeOf = (seq: number) => `2026-12-02T09:${String(seq).padStart(2, "0")}:00.000000Z`;

/** A chain of `length` links, row id = 100 + seq, one a minute. */
function chain(length: number): Map<number, AnchoredLink> {
  return new Map(Array.from({ length }, (_, i) => [i + 1, { id: 101 + i, seq: i + 1, hash: hashOf(i + 1), createdAt: timeOf(i + 1) }]));
}

function anchorAt(seq: number, overrides: Partial<AuditAnchor> = {}): StoredAnchor {
  const anchor: AuditAnchor = {
    version: 1,
    seq,
    id: 100 + seq,
    hash: hashOf(seq),
    headCreatedAt: timeOf(seq),
    anchoredAt: timeOf(seq).replace(":00.000000Z", ":30.000000Z"),
    ...overrides,
  };
  return { key: anchorKey(anchor), anchor };
}

describe("anchorKey", () => {
  it("names an anchor by the time it was taken, then its seq, so keys list in time order", () => {
    const early = anchorKey({ anchoredAt: "2026-12-02T09:00:59.999999Z", seq: 900 });
    const late = anchorKey({ anchoredAt: "2026-12-02T09:01:00.000000Z", seq: 12 });
    expect(early).toBe("audit-anchors/2026-12-02T09:00:59.999999Z-000000000900.json");
    expect([late, early].sort()).toEqual([early, late]);
  });
});

describe("parseAnchor", () => {
  it("reads back what an anchor is written as", () => {
    const { key, anchor } = anchorAt(3);
    expect(parseAnchor({ key, body: JSON.stringify(anchor) })).toEqual({ ok: true, anchor: { key, anchor } });
  });

  it("refuses a body that is not JSON, or not an anchor, naming the key and the field", () => {
    expect(parseAnchor({ key: "k", body: "{" })).toEqual({ ok: false, reason: "anchor k is not JSON" });
    const { anchor } = anchorAt(3);
    expect(parseAnchor({ key: "k", body: JSON.stringify({ ...anchor, hash: "XYZ" }) })).toMatchObject({ ok: false, reason: expect.stringMatching(/anchor k .*hash/) });
    expect(parseAnchor({ key: "k", body: JSON.stringify({ ...anchor, extra: 1 }) })).toMatchObject({ ok: false });
  });
});

describe("findAnchorOrderBreak", () => {
  it("accepts anchors whose times and positions move forward or stay", () => {
    expect(findAnchorOrderBreak([anchorAt(1), anchorAt(3), anchorAt(3, { anchoredAt: "2026-12-02T10:00:00.000000Z" })])).toBeNull();
  });

  it("refuses an anchor taken before the anchor before it, whatever its name says", () => {
    const first = anchorAt(3);
    const renamed = anchorAt(5, { anchoredAt: "2026-12-02T08:00:00.000000Z" });
    // Listed after `first` only because its key was forged to sort later.
    const forged = { key: "audit-anchors/2026-12-02T23:59:59.000000Z-000000000005.json", anchor: renamed.anchor };
    expect(findAnchorOrderBreak([first, forged])).toMatchObject({ firstBrokenId: 105, reason: expect.stringMatching(/does not carry the time/) });
    // Listed in key order, its own time runs backwards against its head.
    const backwards = anchorAt(5, { anchoredAt: "2026-12-02T09:04:00.000000Z" });
    expect(findAnchorOrderBreak([first, backwards])).toMatchObject({ reason: expect.stringMatching(/before its head row 105 was sealed/) });
  });

  it("refuses a later anchor that records an earlier position", () => {
    const later = anchorAt(2, { anchoredAt: "2026-12-02T10:00:00.000000Z", headCreatedAt: timeOf(2) });
    expect(findAnchorOrderBreak([anchorAt(4), later])).toMatchObject({ firstBrokenId: 102, reason: expect.stringMatching(/seq 2, behind seq 4/) });
  });
});

describe("checkAnchors", () => {
  const links = chain(10);
  const head = { seq: 10 };

  it("accepts a chain that holds every anchored row with its hash and time", () => {
    expect(checkAnchors({ anchors: [anchorAt(2), anchorAt(5), anchorAt(9)], linksAt: links, head })).toBeNull();
    expect(checkAnchors({ anchors: [], linksAt: links, head })).toBeNull();
  });

  it("names the row at the first anchor a rewritten chain no longer matches, and the range it was rewritten in", () => {
    const rewritten = new Map(links);
    for (let seq = 4; seq <= 10; seq++) rewritten.set(seq, { ...links.get(seq)!, hash: "f".repeat(64) });
    const found = checkAnchors({ anchors: [anchorAt(2), anchorAt(5), anchorAt(9)], linksAt: rewritten, head });
    expect(found).toMatchObject({ firstBrokenId: 105, anchorKey: anchorAt(5).key });
    expect(found?.reason).toMatch(/row 105 \(seq 5\) does not match anchor .* rewritten after seq 2 .* at or before seq 5/);
  });

  it("finds rows removed from the end of the chain, which leave no gap", () => {
    const truncated = new Map([...links].filter(([seq]) => seq <= 6));
    expect(checkAnchors({ anchors: [anchorAt(5), anchorAt(9)], linksAt: truncated, head: { seq: 6 } })).toMatchObject({
      firstBrokenId: 109,
      reason: expect.stringMatching(/the chain ends at seq 6, but anchor .* recorded row 109 at seq 9: rows were removed/),
    });
  });

  it("finds an anchored position now held by another row", () => {
    const renumbered = new Map(links).set(5, { ...links.get(5)!, id: 999 });
    expect(checkAnchors({ anchors: [anchorAt(5)], linksAt: renumbered, head })).toMatchObject({ firstBrokenId: 999, reason: expect.stringMatching(/from its start/) });
  });

  it("finds an anchored row whose time changed", () => {
    const redated = new Map(links).set(5, { ...links.get(5)!, createdAt: "2026-12-02T09:04:59.000000Z" });
    expect(checkAnchors({ anchors: [anchorAt(5)], linksAt: redated, head })).toMatchObject({ firstBrokenId: 105, reason: expect.stringMatching(/is dated/) });
  });
});

describe("intervalStart", () => {
  it("puts every time in one interval on the same boundary, counted from the epoch", () => {
    expect(intervalStart({ time: "2026-12-02T09:01:59.999999Z", intervalMs: 60_000 })).toBe("2026-12-02T09:01:00.000Z");
    expect(intervalStart({ time: "2026-12-02T09:01:00.000001Z", intervalMs: 60_000 })).toBe("2026-12-02T09:01:00.000Z");
    expect(intervalStart({ time: "2026-12-02T09:02:00.000000Z", intervalMs: 60_000 })).toBe("2026-12-02T09:02:00.000Z");
    expect(intervalStart({ time: "2026-12-02T09:02:00.400000Z", intervalMs: 250 })).toBe("2026-12-02T09:02:00.250Z");
  });
});
