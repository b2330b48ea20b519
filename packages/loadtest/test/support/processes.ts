// Child processes for tests: the repository they run in, their output collected, and a run to its exit.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

/** Everything the child writes to stdout and stderr, as it comes. */
export function collectOutput(child: ChildProcess): { stdout(): string; stderr(): string; all(): string } {
  let stdout = "";
  let stderr = "";
  let all = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    all += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    all += chunk.toString();
  });
  return { stdout: () => stdout, stderr: () => stderr, all: () => all };
}

/** Runs a command in the repository to its end and returns its exit code and output. */
export function runToExit(command: string, argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    const output = collectOutput(child);
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout: output.stdout(), stderr: output.stderr() }));
  });
}
