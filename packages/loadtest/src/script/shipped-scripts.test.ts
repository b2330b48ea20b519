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
});
