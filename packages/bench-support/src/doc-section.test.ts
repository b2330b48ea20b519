import { describe, expect, it } from "vitest";
import { FRESH_NOTES, NOTES_MARKER, findSection, sectionMarkers, spliceSection } from "./doc-section.ts";

const markers = sectionMarkers("demo-bench");
const section = (text: string) => `${markers.start}\n${text}\n${markers.end}`;

describe("sectionMarkers", () => {
  it("names the section in a start and an end comment", () => {
    expect(markers).toEqual({ start: "<!-- demo-bench:start -->", end: "<!-- demo-bench:end -->" });
  });
});

describe("findSection", () => {
  it("returns the section with its markers, or null when a marker is missing", () => {
    const document = `# Benchmarks\n\n${section("numbers")}\n\nafter\n`;
    expect(findSection(document, markers)).toBe(section("numbers"));
    expect(findSection(`# Benchmarks\n\n${markers.start}\nno end\n`, markers)).toBeNull();
    expect(findSection("# Benchmarks\n", markers)).toBeNull();
  });
});

describe("spliceSection", () => {
  it("replaces only what is between the section's markers, leaving the rest of the document byte for byte", () => {
    const before = `# Benchmarks\n\nintro\n\n${section("old numbers")}\n\n${NOTES_MARKER}\nhand-written\n`;
    const after = spliceSection(before, section("new numbers"), markers);
    expect(after).toBe(`# Benchmarks\n\nintro\n\n${section("new numbers")}\n\n${NOTES_MARKER}\nhand-written\n`);
    expect(spliceSection(before, section("new numbers"), markers, "before-notes")).toBe(after);
  });

  it("leaves another bench's section alone", () => {
    const other = sectionMarkers("other-bench");
    const before = `# Benchmarks\n\n${other.start}\nkeep\n${other.end}\n\n${section("old")}\n`;
    expect(spliceSection(before, section("new"), markers)).toBe(`# Benchmarks\n\n${other.start}\nkeep\n${other.end}\n\n${section("new")}\n`);
  });

  it("appends a section the document lacks at the end by default, below the notes", () => {
    const before = `# Benchmarks\n\n${NOTES_MARKER}\nhand-written\n`;
    expect(spliceSection(before, section("new"), markers)).toBe(`# Benchmarks\n\n${NOTES_MARKER}\nhand-written\n\n${section("new")}\n`);
  });

  it("inserts a section the document lacks just above the notes marker when asked, or at the end without one", () => {
    const before = `# Benchmarks\n\nintro\n${NOTES_MARKER}\nhand-written\n`;
    expect(spliceSection(before, section("new"), markers, "before-notes")).toBe(`# Benchmarks\n\nintro\n${section("new")}\n\n${NOTES_MARKER}\nhand-written\n`);
    expect(spliceSection("# Benchmarks\n", section("new"), markers, "before-notes")).toBe(`# Benchmarks\n\n${section("new")}\n`);
  });

  it("starts a new document with fresh notes, the section below or above them as placed", () => {
    expect(spliceSection(null, section("new"), markers)).toBe(`# Benchmarks\n\n${FRESH_NOTES}\n${section("new")}\n`);
    expect(spliceSection(null, section("new"), markers, "before-notes")).toBe(`# Benchmarks\n\n${section("new")}\n\n${FRESH_NOTES}`);
  });

  it("finds the end marker after the start marker, not an earlier stray one", () => {
    const before = `${markers.end}\n${section("old")}\n`;
    expect(spliceSection(before, section("new"), markers)).toBe(`${markers.end}\n${section("new")}\n`);
  });
});
