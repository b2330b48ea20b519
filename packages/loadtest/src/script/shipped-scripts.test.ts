// Every script shipped in tests/performance parses into a runnable script.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseScript } from "./parse-script.ts";

const folder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../tests/performance");
const scripts = readdirSync(folder).filter((name) => name.endsWith(".yml"));

describe("tests/performance", () => {
  it("ships the basic, stress, endurance, spike and checkout-journey scripts", () => {
    expect(scripts.sort()).toEqual(["checkout-journey.yml", "load-test-basic.yml", "load-test-endurance.yml", "load-test-spike.yml", "load-test-stress.yml"]);
  });

  it.each(scripts)("parses %s with at least one phase and scenario", (name) => {
    const file = path.join(folder, name);
    const script = parseScript(readFileSync(file, "utf8"), { path: file, baseDir: folder });
    expect(script.phases.length).toBeGreaterThan(0);
    expect(script.scenarios.length).toBeGreaterThan(0);
    expect(script.target).toBe("http://localhost:3000");
  });

  it.each(scripts)("%s has a short ci environment and a parity environment with a fixed number of arrivals", (name) => {
    const file = path.join(folder, name);
    const text = readFileSync(file, "utf8");
    const full = parseScript(text, { path: file, baseDir: folder });
    const ci = parseScript(text, { path: file, baseDir: folder, environment: "ci" });
    const parity = parseScript(text, { path: file, baseDir: folder, environment: "parity" });
    const seconds = (phases: typeof full.phases) => phases.reduce((sum, phase) => sum + phase.duration, 0);
    expect(seconds(ci.phases)).toBeLessThanOrEqual(40);
    expect(seconds(ci.phases)).toBeLessThan(seconds(full.phases));
    expect(ci.ensure).toEqual(full.ensure);
    // Constant rates (a ramp to the same rate counts): Artillery and this tool then launch the same number of arrivals.
    for (const phase of parity.phases) expect(phase.rampTo ?? phase.arrivalRate).toBe(phase.arrivalRate);
  });
});
