// config.environments and Artillery's -e/--environment: the chosen environment merged into config as lodash's merge does.
import { isMap, isScalar, isSeq, Pair, YAMLMap, YAMLSeq } from "yaml";
import type { Node } from "yaml";
import { configKeys, unsupportedConfigKeys } from "./config-schema.ts";
import { ScriptError } from "./script-types.ts";
import { deref, describe, fail, joinPath, keyText, readMap, readName, type Context, type Field } from "./yaml-nodes.ts";

/** config.environments: each a map of config keys, checked whether or not it is chosen. */
function readEnvironments(ctx: Context, field: Field): Map<string, Field> {
  if (!isMap(field.value)) fail(ctx, field.path, field.value ?? field.keyNode, `expected a map of environment names to config keys, got ${describe(field.value)}`);
  const environments = new Map<string, Field>();
  for (const pair of field.value.items) {
    const keyNode = deref(ctx, pair.key);
    const name = isScalar(keyNode) ? String(keyNode.value) : "?";
    const entry: Field = { keyNode: keyNode ?? field.value, value: deref(ctx, pair.value), path: joinPath(field.path, name) };
    readName(ctx, { ...entry, value: keyNode }, "an environment name");
    readMap(ctx, entry.value, entry.path, configKeys, { ...unsupportedConfigKeys, environments: "environments do not nest" });
    environments.set(name, entry);
  }
  return environments;
}

/**
 * Artillery's `_.merge(config, environment)`: maps merge key by key, lists item by item at the same
 * position (a shorter list keeps the rest of config's items), anything else is replaced.
 */
function mergeNodes(ctx: Context, base: Node | null, over: Node | null): Node | null {
  if (isMap(base) && isMap(over)) {
    const merged = new YAMLMap<unknown, unknown>();
    merged.range = over.range;
    const overrides = new Map(over.items.map((pair) => [keyText(ctx, pair.key), pair]));
    for (const pair of base.items) {
      const key = keyText(ctx, pair.key);
      const override = overrides.get(key);
      if (!override) {
        merged.items.push(pair);
        continue;
      }
      overrides.delete(key);
      merged.items.push(new Pair(override.key, mergeNodes(ctx, deref(ctx, pair.value), deref(ctx, override.value))));
    }
    merged.items.push(...overrides.values());
    ctx.mergedNodes.add(merged);
    return merged;
  }
  if (isSeq(base) && isSeq(over)) {
    const merged = new YAMLSeq<unknown>();
    merged.range = over.range;
    for (let i = 0; i < Math.max(base.items.length, over.items.length); i++) {
      merged.items.push(i < over.items.length ? mergeNodes(ctx, deref(ctx, base.items[i]), deref(ctx, over.items[i])) : base.items[i]);
    }
    ctx.mergedNodes.add(merged);
    return merged;
  }
  return over;
}

/** config with the chosen environment merged in, or config itself. */
export function applyEnvironment(ctx: Context, configField: Field, name: string | undefined): Node | null {
  const fields = readMap(ctx, configField.value, "config", [...configKeys, "environments"], unsupportedConfigKeys);
  const environmentsField = fields.get("environments");
  const environments = environmentsField ? readEnvironments(ctx, environmentsField) : new Map<string, Field>();
  if (name === undefined) return configField.value;
  const chosen = environments.get(name);
  if (!environmentsField) throw new ScriptError(`there is no environment "${name}": the script has no config.environments`, "--environment", null);
  if (!chosen?.value) {
    fail(ctx, "config.environments", environmentsField.keyNode, `there is no environment "${name}" (from --environment); known: ${[...environments.keys()].join(", ") || "none"}`);
  }
  ctx.environment = { name, node: chosen.value };
  const merged = mergeNodes(ctx, configField.value, chosen.value);
  if (merged) {
    // config itself stays where it is written; only what the environment changes moves.
    merged.range = configField.value?.range;
    ctx.mergedNodes.delete(merged);
  }
  return merged;
}
