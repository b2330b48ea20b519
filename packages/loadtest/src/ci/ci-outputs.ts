// What `run` and `quick` hand to CI besides their exit code: the summary JSON (--summary), JUnit XML (--junit) and,
// inside GitHub Actions, an annotation per failed check, one for the verdict, and a table in the job summary.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { SavedRun } from "../report/saved-run.ts";
import { type Annotation, formatAnnotation, markdownTable } from "./github-actions.ts";
import { renderJunit, type JunitSuite } from "./junit.ts";
import { buildSummary, type CheckKind, type LoadTestSummary, type SummaryCheck, type SummaryMeta } from "./summary.ts";

/** The flags `run` and `quick` take for CI, as node:util parseArgs options. */
export const CI_OPTIONS = {
  summary: { type: "string" },
  junit: { type: "string" },
} as const;

/** Their lines in a command's help. */
export const CI_OPTIONS_HELP = `  --summary FILE          write the run's summary as JSON (schema: packages/loadtest/schema/summary.v1.schema.json)
  --junit FILE            write JUnit XML: a test case per threshold, condition, invariant and schedule check
  Inside GitHub Actions (GITHUB_ACTIONS=true) each failed check is also an ::error annotation, the verdict a ::notice,
  and the checks a table in the job summary (GITHUB_STEP_SUMMARY).`;

/** In the order the run judges them. */
const SUITE_TITLES: Record<CheckKind, string> = {
  threshold: "thresholds",
  condition: "conditions",
  schedule: "schedule",
  invariant: "invariants",
  generator: "generators",
};
const KINDS = Object.keys(SUITE_TITLES) as CheckKind[];

function detailsOf(check: SummaryCheck): string {
  return [check.actual === null ? "" : `actual: ${check.actual}`, check.limit === null ? "" : `limit: below ${check.limit}`, check.strict ? "" : "optional (strict: false)"]
    .filter(Boolean)
    .join("\n");
}

/** What the run was, in a few words: the script (or quick) and the target. */
function runLabel(summary: LoadTestSummary): string {
  const script = summary.script.path ?? "quick";
  const environment = summary.script.environment ? ` -e ${summary.script.environment}` : "";
  return `${script}${environment} against ${summary.target}`;
}

/** The summary's checks as JUnit: a suite per kind that has checks. */
export function summaryToJunit(summary: LoadTestSummary): string {
  const time = summary.durationMs / 1000;
  const suites: JunitSuite[] = KINDS.flatMap((kind) => {
    const checks = summary.checks.filter((c) => c.kind === kind);
    if (checks.length === 0) return [];
    return [
      {
        name: `${summary.tool.name} ${SUITE_TITLES[kind]}: ${runLabel(summary)}`,
        time,
        timestamp: summary.startedAt,
        properties: { target: summary.target, script: summary.script.path ?? "quick", verdict: summary.verdict },
        cases: checks.map((check) => ({
          name: check.name,
          classname: `${summary.tool.name}.${kind}`,
          outcome: check.passed ? "passed" : check.strict ? "failed" : "skipped",
          message: check.message,
          type: kind,
          details: detailsOf(check),
        })),
      },
    ];
  });
  return renderJunit({ name: summary.tool.name, suites, time });
}

/** An ::error per strict check that did not hold, a ::warning per optional one, and the verdict as a ::notice. */
export function summaryAnnotations(summary: LoadTestSummary): Annotation[] {
  const failed = summary.checks.filter((c) => !c.passed);
  const annotations: Annotation[] = failed.map((check) => ({
    level: check.strict ? "error" : "warning",
    title: `Load test ${check.kind}: ${check.name}`,
    message: check.message,
  }));
  const strictFailures = failed.filter((c) => c.strict).length;
  annotations.push({
    level: "notice",
    title: `Load test verdict: ${summary.verdict.toUpperCase()}`,
    message:
      `${runLabel(summary)}: ${summary.checks.length - failed.length} of ${summary.checks.length} checks held` +
      `${strictFailures > 0 ? `, ${strictFailures} failed the run` : ""}; p95 ${summary.latency.p95} ms, ` +
      `${summary.counters.requests} requests, ${(summary.rates.requestErrorRate * 100).toFixed(3)} % errors`,
  });
  return annotations;
}

/** The job summary's section: the verdict and a row per check. */
export function summaryMarkdown(summary: LoadTestSummary): string {
  const rows = summary.checks.map((c) => [c.passed ? "pass" : c.strict ? "**FAIL**" : "warn", c.kind, c.name, c.message]);
  return [
    `### Load test: ${summary.verdict === "pass" ? "PASS" : "FAIL"}`,
    "",
    `${runLabel(summary)}, started ${summary.startedAt}, ${(summary.durationMs / 1000).toFixed(1)} s: ${summary.counters.requests} requests, ` +
      `p50 ${summary.latency.p50} ms, p95 ${summary.latency.p95} ms, p99 ${summary.latency.p99} ms.`,
    "",
    rows.length > 0 ? markdownTable(["result", "kind", "check", "detail"], rows) : "No checks were made.",
    "",
  ].join("\n");
}

function writeFile(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, text);
}

export interface CiOutputOptions {
  /** `--summary FILE`: where to write the summary JSON. */
  summary?: string;
  /** `--junit FILE`: where to write JUnit XML. */
  junit?: string;
  /** Print workflow commands (annotations): pass `isGithubActions()`. */
  githubActions: boolean;
  /** GitHub's job-summary file (GITHUB_STEP_SUMMARY), appended to when githubActions is true. */
  stepSummary?: string;
  meta: SummaryMeta;
  /** Where annotations go: standard output, where the runner reads workflow commands. */
  print?: (line: string) => void;
}

/**
 * Writes what CI asked for and returns the summary; its verdict is the run's (a strict check that did not hold fails
 * both), so a caller can take the exit code from it.
 */
export function writeCiOutputs(saved: SavedRun, options: CiOutputOptions): LoadTestSummary {
  const summary = buildSummary(saved, options.meta);
  if (options.summary) writeFile(options.summary, `${JSON.stringify(summary, null, 2)}\n`);
  if (options.junit) writeFile(options.junit, summaryToJunit(summary));
  if (options.githubActions) {
    const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
    for (const annotation of summaryAnnotations(summary)) print(formatAnnotation(annotation));
    if (options.stepSummary) appendFileSync(options.stepSummary, summaryMarkdown(summary));
  }
  return summary;
}
