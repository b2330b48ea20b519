// A bench's own section of docs/BENCHMARKS.md: between its comment markers, the rest of the file left as it is.

export interface SectionMarkers {
  start: string;
  end: string;
}

/** The comment markers that bound the section named `name` (e.g. "abuse-bench"). */
export function sectionMarkers(name: string): SectionMarkers {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

/** The document with this section replaced, or appended at the end (below the notes marker, which `pnpm bench` keeps); with no document yet, a new one that has the notes marker. */
export function spliceSection(existing: string | null, section: string, markers: SectionMarkers): string {
  if (existing === null) return `# Benchmarks\n\n<!-- notes -->\n## Notes\n\nHand-written; \`pnpm bench\` keeps everything below the marker above.\n\n${section}\n`;
  const start = existing.indexOf(markers.start);
  const end = existing.indexOf(markers.end, start);
  if (start !== -1 && end !== -1) return existing.slice(0, start) + section + existing.slice(end + markers.end.length);
  return `${existing.trimEnd()}\n\n${section}\n`;
}
