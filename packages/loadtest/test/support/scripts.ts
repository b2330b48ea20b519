// Scripts for tests: a minimal one built in code around a target, and the shipped ones with what each should do in
// one of its environments, worked out from the script itself.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
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

export function loadScript(name: string, environment: string): Script {
  const file = path.join(scriptsDir, name);
  return parseScript(readFileSync(file, "utf8"), { path: file, baseDir: scriptsDir, environment });
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
