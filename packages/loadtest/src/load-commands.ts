// The commands that run load, loaded only when one is asked for: the engine, the distributed launchers and their AWS
// SDKs cost about 0.8 s of CPU to load, which `--help`, `report`, `plan` and `compare` never need.
import type { executeRun } from "./run-command.ts";
import type { executeGenerator } from "./distributed/generator-command.ts";

export async function runLoad(...args: Parameters<typeof executeRun>): ReturnType<typeof executeRun> {
  const runCommand = await import("./run-command.ts");
  return runCommand.executeRun(...args);
}

export async function runGenerator(...args: Parameters<typeof executeGenerator>): ReturnType<typeof executeGenerator> {
  const generatorCommand = await import("./distributed/generator-command.ts");
  return generatorCommand.executeGenerator(...args);
}
