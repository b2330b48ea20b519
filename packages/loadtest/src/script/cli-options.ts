// The command-line options that change how a script is read, as Artillery's run command takes them.
import { ScriptError, type Scenario } from "./script-types.ts";
import { variableNamePattern } from "./template.ts";

export interface ParseScriptOptions {
  /** The script's file name, used in YAML syntax errors. */
  path: string;
  /** Payload paths are resolved against it (the script's directory). */
  baseDir: string;
  /** Replaces config.target, like Artillery's --target (after the environment is merged in). */
  targetOverride?: string;
  /** Merges config.environments[NAME] into config first, like Artillery's -e/--environment. */
  environment?: string;
  /**
   * Artillery's --overrides: a JSON object deep-merged into the script (a list replaces the script's list, a map merges
   * key by key), after the environment and --target and before --variables, as Artillery 2.0.21 applies them: an
   * override of config.target wins over --target.
   */
  overridesJson?: string;
  /** Artillery's -v/--variables: a JSON object whose entries replace config.variables entries. */
  variablesJson?: string;
  /** Artillery's --scenario-name: run only the scenario with this name (or the one it matches as a regular expression). */
  scenarioName?: string;
}

const scalarVariableExample = `e.g. '{"paymentUrl": "http://localhost:3001"}'`;

/** Artillery's --variables JSON: each entry replaces that config variable (a list gives each virtual user one value). */
export function parseVariablesOption(json: string): Record<string, unknown[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new ScriptError(`not valid JSON (${error instanceof Error ? error.message : String(error)}); expected an object, ${scalarVariableExample}`, "--variables", null);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ScriptError(`expected a JSON object, ${scalarVariableExample}`, "--variables", null);
  }
  const variables: Record<string, unknown[]> = {};
  for (const [name, value] of Object.entries(parsed)) {
    const path = `--variables.${name}`;
    if (!variableNamePattern.test(name)) throw new ScriptError(`a variable name "${name}" must be letters, digits, _ or -, not starting with a digit`, path, null);
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.length === 0) throw new ScriptError("must not be an empty list", path, null);
    const bad = values.find((item) => typeof item !== "string" && typeof item !== "number" && typeof item !== "boolean");
    if (bad !== undefined) throw new ScriptError(`expected a string, number or boolean (or a list of them), got ${JSON.stringify(bad)}`, path, null);
    variables[name] = values;
  }
  return variables;
}

/** Artillery's --scenario-name: the one scenario with that name or whose name it matches as a regular expression. */
export function selectScenario(scenarios: Scenario[], wanted: string): Scenario[] {
  let pattern: RegExp | null;
  try {
    pattern = new RegExp(wanted);
  } catch {
    pattern = null;
  }
  const matches = scenarios.filter(({ name }) => name !== undefined && (name === wanted || (pattern?.test(name) ?? false)));
  const named = scenarios.flatMap(({ name }) => (name === undefined ? [] : [`"${name}"`]));
  if (matches.length === 0) {
    throw new ScriptError(`no scenario is named "${wanted}" or matches it; named scenarios: ${named.join(", ") || "none"}`, "--scenario-name", null);
  }
  if (matches.length > 1) {
    throw new ScriptError(`"${wanted}" matches ${matches.map(({ name }) => `"${name}"`).join(", ")}; give a name that picks one scenario`, "--scenario-name", null);
  }
  return matches;
}
