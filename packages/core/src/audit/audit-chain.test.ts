// The hash chain's pure rules: how a link is hashed and what counts as a break.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { findBreak, findTimeBreak, GENESIS_HASH, linkHash, type ChainLink } from "./audit-chain.ts";

function chain(contents: string[]): ChainLink[] {
  const links: ChainLink[] = [];
  let prev = GENESIS_HASH;
  contents.forEach((canonical, i) => {
    const hash = linkHash(prev, canonical);
    links.push({ id: 100 + i, seq: i + 1, prevHash: prev, hash, canonical });
    prev = hash;
  });
  return links;
}

function firstBreak(links: ChainLink[]): string | null {
  let previous: { seq: number; hash: string } | null = null;
  for (const link of links) {
    const reason = findBreak(previous, link);
    if (reason) return reason;
    previous = { seq: link.seq!, hash: link.hash! };
  }
  return null;
}

describe("linkHash", () => {
  it("is the hex sha256 of the previous hash followed by the canonical text", () => {
    const expected = createHash("sha256").update(`${GENESIS_HASH}[1, 1, "order"]`).digest("hex");
    expect(linkHash(GENESIS_HASH, '[1, 1, "order"]')).toBe(expected);
  });

  it("hashes text as UTF-8", () => {
    expect(linkHash("", "é")).toBe(
      createHash("sha256")
        .update(Buffer.from([0xc3, 0xa9]))
        .digest("hex"),
    );
  });
});

describe("findBreak", () => {
  const links = chain(['[1, "a"]', '[2, "b"]', '[3, "c"]', '[4, "d"]']);

  it("accepts an intact chain starting at the genesis value", () => {
    expect(firstBreak(links)).toBeNull();
  });

  it("points at a row whose content was changed", () => {
    const tampered = links.map((link, i) => (i === 2 ? { ...link, canonical: '[3, "C"]' } : link));
    expect(firstBreak(tampered)).toMatch(/row 102 \(seq 3\) does not match its hash/);
  });

  it("points at the row after a deleted one", () => {
    expect(firstBreak([links[0]!, links[2]!, links[3]!])).toMatch(/link 2 is missing before row 102/);
  });

  it("points at the row after a rewritten one whose hash was recomputed", () => {
    const canonical = '[2, "B"]';
    const rewritten = { ...links[1]!, canonical, hash: linkHash(links[1]!.prevHash!, canonical) };
    expect(firstBreak([links[0]!, rewritten, links[2]!, links[3]!])).toMatch(/row 102 \(seq 3\) does not point at the hash of link 2/);
  });

  it("rejects a first link that does not start from the genesis value", () => {
    const first = { ...links[0]!, prevHash: "f".repeat(64) };
    expect(firstBreak([first])).toMatch(/does not point at the genesis value/);
  });

  it("rejects a repeated chain position and a row that was never linked", () => {
    expect(firstBreak([links[0]!, links[1]!, { ...links[1]!, id: 999 }])).toMatch(/row 999 repeats chain position 2/);
    expect(findBreak(null, { id: 7, seq: null, prevHash: null, hash: null, canonical: "" })).toMatch(/row 7 is not linked/);
  });
});

describe("findTimeBreak", () => {
  const at = (seq: number, createdAt: string) => ({ id: 100 + seq, seq, createdAt });

  it("accepts a first link, and times that move forward or stay (two links sealed in the same microsecond)", () => {
    expect(findTimeBreak(null, at(1, "2026-12-02T09:00:00.000000Z"))).toBeNull();
    expect(findTimeBreak(at(1, "2026-12-02T09:00:00.000000Z"), at(2, "2026-12-02T09:00:00.000000Z"))).toBeNull();
    expect(findTimeBreak(at(1, "2026-12-02T09:00:00.000000Z"), at(2, "2026-12-02T09:00:00.000001Z"))).toBeNull();
  });

  it("names the row whose time runs backwards, by as little as a microsecond", () => {
    expect(findTimeBreak(at(1, "2026-12-02T09:00:00.000001Z"), at(2, "2026-12-02T09:00:00.000000Z"))).toMatch(
      /row 102 \(seq 2\) is dated 2026-12-02T09:00:00.000000Z, before the link before it \(row 101, 2026-12-02T09:00:00.000001Z\): time runs backwards/,
    );
  });
});
