// Scripts for tests: a minimal one built in code around a target, and the shipped ones with what each should do in
// one of its environments, worked out from the script itself.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isSeq, parseDocument } from "yaml";
import { parseScript } from "../../src/script/parse-script.ts";
import type { Phase, Scenario, Script, Step } from "../../src/script/script-types.ts";
import { scriptsDir } from "./load-tools.ts";

/** A minimal valid script: the given target, phases and scenarios, everything else at its default. */
export function buildScript({ target, phases, scenarios, timeoutSeconds = 10 }: { target: string; phases: Phase[]; scenarios: Scenario[]; timeoutSeconds?: number }): Script {
  return {
    target,
    phases,
    http: { timeoutSeconds },
    defaults: { headers: {} },
    variables: {},
    payloads: [],
    ensure: { thresholds: [], conditions: [] },
    scenarios,
  };
}

export const shippedScripts = readdirSync(scriptsDir)
  .filter((name) => name.endsWith(".yml"))
  .sort();

/** A shipped script by file name, or any script by absolute path, read in one of its environments. */
export function loadScript(name: string, environment: string): Script {
  const file = path.resolve(scriptsDir, name);
  return parseScript(readFileSync(file, "utf8"), { path: file, baseDir: path.dirname(file), environment });
}

/**
 * A copy of a shipped script, in a fresh temporary folder, whose environment `environment` gives its phases these
 * durations (seconds, one per phase of that environment); every rate, scenario and threshold stays the shipped one.
 * Returns the copy's absolute path; the caller removes its folder.
 */
export function withPhaseDurations(name: string, environment: string, seconds: number[]): string {
  const document = parseDocument(readFileSync(path.join(scriptsDir, name), "utf8"));
  const phasesPath = ["config", "environments", environment, "phases"];
  const phases = document.getIn(phasesPath);
  const count = isSeq(phases) ? phases.items.length : 0;
  if (count !== seconds.length) throw new Error(`${name} -e ${environment} has ${count} phases, not ${seconds.length}`);
  for (const [index, duration] of seconds.entries()) document.setIn([...phasesPath, index, "duration"], duration);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "loadtest-script-")), name);
  writeFileSync(file, document.toString());
  return file;
}

/** Requests one virtual user sends on a flow that succeeds throughout. */
export function requestsPerFlow(steps: Step[]): number {
  return steps.reduce((sum, step) => sum + (step.kind === "request" ? 1 : step.kind === "loop" ? step.count * requestsPerFlow(step.steps) : 0), 0);
}

/** Arrivals the phases plan: a constant rate or a linear ramp times the duration, or the fixed count. */
export function plannedArrivals(script: Script): number {
  return script.phases.reduce((sum, phase) => {
    if (phase.arrivalCount !== undefined) return sum + phase.arrivalCount;
    const from = phase.arrivalRate ?? 0;
    return sum + ((from + (phase.rampTo ?? from)) / 2) * phase.duration;
  }, 0);
}
