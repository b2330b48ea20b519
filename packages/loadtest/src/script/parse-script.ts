// Reads an Artillery-v2-style YAML script into a checked Script; anything unsupported or malformed is a ScriptError.
import { LineCounter, parseDocument } from "yaml";
import type { ParsedNode } from "yaml";
import { parseVariablesOption, selectScenario, type ParseScriptOptions } from "./cli-options.ts";
import { applyEnvironment } from "./config-environments.ts";
import { configKeys, parseDefaults, parseEnsure, parseHttp, parsePhase, parsePlugins, parseVariables, readTarget, unsupportedConfigKeys } from "./config-schema.ts";
import { parsePayload } from "./payload-file.ts";
import { applyOverrides, parseOverridesOption } from "./script-overrides.ts";
import { parseScenario } from "./scenario-schema.ts";
import { ScriptError } from "./script-types.ts";
import type { Ensure, Script } from "./script-types.ts";
import { deref, fail, readList, readMap, readOneOrList, readString, requireField, type Context } from "./yaml-nodes.ts";

export type { ParseScriptOptions } from "./cli-options.ts";

export function parseScript(text: string, options: ParseScriptOptions): Script {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const [syntaxError] = doc.errors;
  if (syntaxError) {
    const line = lines.linePos(syntaxError.pos[0]).line;
    throw new ScriptError(`${options.path} is not valid YAML: ${syntaxError.message}`, "(root)", line);
  }
  const ctx: Context = {
    doc,
    lines,
    templateUses: [],
    captureNames: new Set(),
    environment: null,
    mergedNodes: new WeakSet(),
    overrideNodes: new WeakSet(),
  };
  // Read before the script's keys, so malformed overrides are refused whatever the script holds.
  const overrides = options.overridesJson === undefined ? undefined : parseOverridesOption(options.overridesJson);
  const rootNode = deref(ctx, doc.contents as ParsedNode | null);
  const root = readMap(ctx, rootNode, "", ["config", "scenarios"], {
    before: "before/after flows are not supported",
    after: "before/after flows are not supported",
  });
  const configField = requireField(ctx, root, "config", "", rootNode);
  const environmentConfigNode = applyEnvironment(ctx, configField, options.environment);
  // --overrides merge into the script as the environment left it; Artillery sets --target before them.
  const overriddenRoot = overrides
    ? readMap(ctx, applyOverrides(ctx, { config: environmentConfigNode, scenarios: root.get("scenarios")?.value ?? null }, overrides), "", ["config", "scenarios"], {
        before: "before/after flows are not supported",
        after: "before/after flows are not supported",
      })
    : undefined;
  const configNode = overriddenRoot?.get("config")?.value ?? environmentConfigNode;
  const config = readMap(ctx, configNode, "config", [...configKeys, "environments"], unsupportedConfigKeys);

  const targetField = config.get("target");
  const isTargetOverridden = targetField !== undefined && targetField.value !== null && ctx.overrideNodes.has(targetField.value);
  const scriptTarget = targetField ? readTarget(ctx, readString(ctx, targetField), targetField, "config.target") : undefined;
  const target =
    options.targetOverride !== undefined && !isTargetOverridden
      ? readTarget(ctx, options.targetOverride, undefined, "--target")
      : (scriptTarget ?? fail(ctx, "config.target", configNode, `"target" is required (or pass --target)`));

  const phases = readList(ctx, requireField(ctx, config, "phases", "config", configNode), { isNonEmpty: true }).map((item) => parsePhase(ctx, item));

  const http = parseHttp(ctx, config.get("http"));
  const defaults = parseDefaults(ctx, config.get("defaults"));

  const variablesField = config.get("variables");
  const variables = variablesField ? parseVariables(ctx, variablesField) : {};
  if (options.variablesJson !== undefined) Object.assign(variables, parseVariablesOption(options.variablesJson));

  const payloadField = config.get("payload");
  const payloads = payloadField ? readOneOrList(ctx, payloadField).map((item) => parsePayload(ctx, item, options.baseDir)) : [];

  const ensure: Ensure = { thresholds: [], conditions: [] };
  const pluginsField = config.get("plugins");
  const invariants = pluginsField ? parsePlugins(ctx, pluginsField, ensure) : undefined;
  const ensureField = config.get("ensure");
  if (ensureField) parseEnsure(ctx, ensureField, ensure);

  const scenariosField = requireField(ctx, overriddenRoot ?? root, "scenarios", "", rootNode);
  const allScenarios = readList(ctx, scenariosField, { isNonEmpty: true }).map((item) => parseScenario(ctx, item));
  const scenarios = options.scenarioName === undefined ? allScenarios : selectScenario(allScenarios, options.scenarioName);

  const ordersField = ctx.acknowledgedOrdersField;
  if (invariants?.acknowledgedOrders && ordersField && !ctx.captureNames.has(invariants.acknowledgedOrders)) {
    fail(
      ctx,
      ordersField.path,
      ordersField.value,
      `no step captures "${invariants.acknowledgedOrders}": capture the order number as ${invariants.acknowledgedOrders} (e.g. json "$.result.data.number" on checkout.placeOrder)`,
    );
  }
  const knownNames = new Set([...Object.keys(variables), ...payloads.flatMap((payload) => payload.fields), ...ctx.captureNames]);
  for (const use of ctx.templateUses) {
    const unknown = use.variables.find((name) => !knownNames.has(name));
    if (unknown !== undefined) {
      throw new ScriptError(`"{{ ${unknown} }}" is never defined: it is not in config.variables, a payload field or a capture`, use.path, use.line);
    }
  }

  return { target, phases, http, defaults, variables, payloads, ensure, scenarios, ...(invariants ? { invariants } : {}) };
}
