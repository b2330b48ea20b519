// What the benchmarks of the API and of the load tester share (neither imports the other's package).
export { percentile, mean, median } from "./stats.ts";
export { FRESH_NOTES, NOTES_MARKER, findSection, sectionMarkers, spliceSection, type NewSectionPlacement, type SectionMarkers } from "./doc-section.ts";
export { isSmokeRun, smokeReportPath } from "./smoke.ts";
export { childrenCpuSeconds, machineBusyCpuSeconds, ownCpuSeconds, processCpuSeconds, processTreeCpuSeconds, sampleProcessTreeCpu } from "./cpu.ts";
export { gitCommit } from "./git.ts";
