// Artillery's --overrides: merged after -e and --target and before -v, lists replaced, maps merged key by key, checked
// against Artillery 2.0.21's own functions for the same script and flags; errors at their key path under --overrides.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseScript, type ParseScriptOptions } from "./parse-script.ts";
import { ScriptError, type Script } from "./script-types.ts";

const script = [
  "config:", //                                   1
  '  target: "http://script.example"', //         2
  "  http:", //                                   3
  "    timeout: 10", //                           4
  "  phases:", //                                 5
  "    - name: warm up", //                       6
  "      duration: 10", //                        7
  "      arrivalRate: 1", //                      8
  "    - name: peak", //                          9
  "      duration: 20", //                       10
  "      arrivalRate: 5", //                     11
  "      rampTo: 10", //                         12
  "  defaults:", //                              13
  "    headers:", //                             14
  "      accept: application/json", //           15
  "  variables:", //                             16
  "    currency: [EUR, USD]", //                 17
  "  environments:", //                          18
  "    ci:", //                                  19
  "      phases:", //                            20
  "        - duration: 2", //                    21
  "      defaults:", //                          22
  "        headers:", //                         23
  "          x-env: ci", //                      24
  "scenarios:", //                               25
  "  - name: browse", //                         26
  "    weight: 3", //                            27
  "    flow:", //                                28
  '      - get: { url: "/{{ currency }}" }', //  29
  "  - name: buy", //                            30
  "    flow:", //                                31
  '      - post: { url: "/buy" }', //            32
].join("\n");

type Options = Omit<ParseScriptOptions, "path" | "baseDir">;

function parse(options: Options, text = script): Script {
  return parseScript(text, { path: "script.yml", baseDir: "/tmp", ...options });
}

function errorOf(options: Options, text = script): ScriptError {
  try {
    parse(options, text);
  } catch (error) {
    if (error instanceof ScriptError) return error;
    throw error;
  }
  throw new Error("the script parsed");
}

const require = createRequire(import.meta.url);
/** Artillery 2.0.21's own steps, in the order its prepareTestExecutionPlan runs them. */
const artillery = require("artillery/lib/util.js") as {
  checkConfig(script: unknown, path: string, flags: Record<string, string | undefined>): Promise<ArtilleryScript>;
  addOverrides(script: unknown, flags: Record<string, string | undefined>): Promise<ArtilleryScript>;
  addVariables(script: unknown, flags: Record<string, string | undefined>): Promise<ArtilleryScript>;
};

interface ArtilleryScript {
  config: { target: string; phases: unknown[]; http?: { timeout?: number }; defaults?: { headers?: Record<string, unknown> }; variables?: Record<string, unknown> };
  scenarios: { name?: string; weight?: number; flow: Record<string, { url: string }>[] }[];
}

async function asArtilleryDoes(options: Options): Promise<ArtilleryScript> {
  const flags = { environment: options.environment, target: options.targetOverride, overrides: options.overridesJson, variables: options.variablesJson };
  const checked = await artillery.checkConfig(parseYaml(script), "script.yml", flags);
  return artillery.addVariables(await artillery.addOverrides(checked, flags), flags);
}

/** The parts of our Script that Artillery's merged script also holds, in Artillery's shape. */
function comparable(parsed: Script) {
  return {
    target: parsed.target,
    phases: parsed.phases,
    timeout: parsed.http.timeoutSeconds,
    headers: parsed.defaults.headers,
    variables: parsed.variables,
    scenarios: parsed.scenarios.map((scenario) => ({
      name: scenario.name,
      weight: scenario.weight,
      urls: scenario.flow.map((step) => (step.kind === "request" ? step.url : step.kind)),
    })),
  };
}

function comparableArtillery(merged: ArtilleryScript) {
  return {
    target: merged.config.target,
    phases: merged.config.phases,
    timeout: merged.config.http?.timeout,
    headers: Object.fromEntries(Object.entries(merged.config.defaults?.headers ?? {}).map(([name, value]) => [name, String(value)])),
    // -v gives a variable one value; a list gives each virtual user one of its values.
    variables: Object.fromEntries(Object.entries(merged.config.variables ?? {}).map(([name, value]) => [name, Array.isArray(value) ? value : [value]])),
    scenarios: merged.scenarios.map((scenario) => ({
      name: scenario.name,
      weight: scenario.weight ?? 1,
      urls: scenario.flow.map((step) => Object.values(step)[0]?.url),
    })),
  };
}

describe("--overrides", () => {
  it.each<[string, Options]>([
    [
      "lists replaced whole, maps merged key by key",
      { overridesJson: JSON.stringify({ config: { phases: [{ duration: 3, arrivalRate: 2 }], http: { timeout: 7 }, defaults: { headers: { "x-run": "ci" } } } }) },
    ],
    [
      "after -e: the environment's phases, then the overrides' phase",
      { environment: "ci", overridesJson: JSON.stringify({ config: { phases: [{ duration: 4, arrivalCount: 8 }] } }) },
    ],
    [
      "a map merged into a list by index, as lodash does",
      { environment: "ci", overridesJson: JSON.stringify({ config: { phases: { "1": { duration: 5 } } }, scenarios: { "0": { weight: 9 } } }) },
    ],
    [
      "before -v: the variable from -v wins, the override's others stay",
      { overridesJson: JSON.stringify({ config: { variables: { currency: ["GBP"], region: ["eu"] } } }), variablesJson: '{"currency": "CHF"}' },
    ],
    ["after --target: the override's target wins", { targetOverride: "http://flag.example", overridesJson: JSON.stringify({ config: { target: "http://override.example" } }) }],
    ["--target alone still wins over the script", { targetOverride: "http://flag.example", overridesJson: JSON.stringify({ config: { http: { timeout: 3 } } }) }],
    ["scenarios replaced", { overridesJson: JSON.stringify({ scenarios: [{ name: "only", flow: [{ get: { url: "/only" } }] }] }) }],
  ])("merges as Artillery 2.0.21 does: %s", async (_label, options) => {
    expect(comparable(parse(options))).toEqual(comparableArtillery(await asArtilleryDoes(options)));
  });

  it("changes what it names and nothing else", () => {
    const plain = parse({ environment: "ci" });
    const overridden = parse({ environment: "ci", overridesJson: JSON.stringify({ config: { phases: { "1": { duration: 5 } }, defaults: { headers: { "x-run": "ci" } } } }) });
    expect(overridden.phases).toEqual([plain.phases[0], { ...plain.phases[1], duration: 5 }]);
    expect(overridden.defaults.headers).toEqual({ ...plain.defaults.headers, "x-run": "ci" });
    expect({ ...overridden, phases: [], defaults: plain.defaults }).toEqual({ ...plain, phases: [] });
  });

  it.each<[string, string, string, RegExp]>([
    ["not JSON", "{config:", "--overrides", /not valid JSON.*expected an object/],
    ["not an object", "[1]", "--overrides", /expected a JSON object/],
    ["a wrong type deep inside", JSON.stringify({ config: { phases: [{ duration: "ten", arrivalRate: 1 }] } }), "--overrides.config.phases[0].duration", /expected a number/],
    ["an unsupported key", JSON.stringify({ config: { processor: "./hooks.js" } }), "--overrides.config.processor", /not supported/],
    ["a before flow", JSON.stringify({ before: { flow: [] } }), "--overrides.before", /before\/after flows are not supported/],
    ["a key that is not an index of a list", JSON.stringify({ config: { phases: { last: { duration: 1 } } } }), "--overrides.config.phases.last", /"last" is not an index/],
    ["an index past the end of a list", JSON.stringify({ config: { phases: { "5": { duration: 1 } } } }), "--overrides.config.phases.5", /index 5 is past its end \(2 items\)/],
    [
      "a template naming nothing",
      JSON.stringify({ scenarios: { "1": { flow: [{ get: { url: "/{{ nope }}" } }] } } }),
      "--overrides.scenarios[1].flow[0].get.url",
      /"\{\{ nope \}\}" is never defined/,
    ],
    ["a target that is not a URL", JSON.stringify({ config: { target: "shop" } }), "--overrides.config.target", /absolute URL/],
  ])("refuses %s, naming the key path", (_label, overridesJson, path, message) => {
    const error = errorOf({ overridesJson });
    expect(error.path).toBe(path);
    expect(error.line).toBeNull();
    expect(error.message).toMatch(message);
  });

  it("names the override that clashes with what the script has, and the script's own line for the script's own mistake", () => {
    const clash = errorOf({ overridesJson: JSON.stringify({ config: { phases: { "0": { arrivalCount: 5 } } } }) });
    expect([clash.path, clash.line, clash.message]).toEqual(["--overrides.config.phases[0].arrivalCount", null, expect.stringMatching(/either arrivalRate or arrivalCount/)]);
    const own = errorOf({ overridesJson: JSON.stringify({ config: { http: { timeout: 3 } } }) }, script.replace('      - post: { url: "/buy" }', "      - think: -1"));
    expect([own.path, own.line]).toEqual(["scenarios[1].flow[0].think", 32]);
  });
});
