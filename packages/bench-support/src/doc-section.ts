// A bench's own section of docs/BENCHMARKS.md: found and replaced between its comment markers, the rest of the file
// (other benches' sections, the hand-written notes below the notes marker) left as it is.

/** The line below which docs/BENCHMARKS.md is hand-written; `pnpm bench` keeps everything after it. */
export const NOTES_MARKER = "<!-- notes -->";

/** The notes section of a document that has none yet. */
export const FRESH_NOTES = `${NOTES_MARKER}
## Notes

Hand-written; \`pnpm bench\` keeps everything below the marker above.
`;

export interface SectionMarkers {
  start: string;
  end: string;
}

/** The comment markers that bound the section named `name` (e.g. "abuse-bench"). */
export function sectionMarkers(name: string): SectionMarkers {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

/** The section in `document`, markers included, or null when either marker is missing. */
export function findSection(document: string, markers: SectionMarkers): string | null {
  const start = document.indexOf(markers.start);
  const end = document.indexOf(markers.end, start);
  return start === -1 || end === -1 ? null : document.slice(start, end + markers.end.length);
}

/**
 * Where a section the document does not have yet goes: at the end (below the notes marker, so the API bench's rewrite
 * of everything above it keeps the section), or just before the notes marker (at the end when there is none).
 */
export type NewSectionPlacement = "end" | "before-notes";

/**
 * The document with this section replaced between its markers, or placed as `placement` says; with no document yet
 * (`existing` null), a new one with the section and fresh notes, in that same order.
 */
export function spliceSection(existing: string | null, section: string, markers: SectionMarkers, placement: NewSectionPlacement = "end"): string {
  if (existing === null) {
    return placement === "end" ? `# Benchmarks\n\n${FRESH_NOTES}\n${section}\n` : `# Benchmarks\n\n${section}\n\n${FRESH_NOTES}`;
  }
  const start = existing.indexOf(markers.start);
  const end = existing.indexOf(markers.end, start);
  if (start !== -1 && end !== -1) return existing.slice(0, start) + section + existing.slice(end + markers.end.length);
  const lines = existing.split("\n");
  const notesAt = placement === "before-notes" ? lines.findIndex((line) => line.trim() === NOTES_MARKER) : -1;
  if (notesAt === -1) return `${existing.trimEnd()}\n\n${section}\n`;
  return [...lines.slice(0, notesAt), section, "", ...lines.slice(notesAt)].join("\n");
}
