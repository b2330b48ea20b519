// Artillery's `run --overrides JSON`: a JSON object deep-merged into the script once -e's environment and --target are
// applied, before -v's variables, as Artillery 2.0.21 does it (lib/util.js addOverrides: lodash's mergeWith, where a
// list in the overrides replaces the script's list whole, a map merges key by key, and anything else replaces).
// What comes from the overrides is reported at its key path under `--overrides`.
import { isMap, isSeq, Pair, Scalar, YAMLMap, YAMLSeq } from "yaml";
import type { Node } from "yaml";
import { ScriptError } from "./script-types.ts";
import { deref, joinPath, keyText, type Context } from "./yaml-nodes.ts";

const example = `e.g. '{"config": {"phases": [{"duration": 30, "arrivalRate": 5}]}}'`;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isJsonObject(value: Json): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The --overrides option's JSON: an object, or a ScriptError naming what is wrong with it. */
export function parseOverridesOption(json: string): { [key: string]: Json } {
  let parsed: Json;
  try {
    parsed = JSON.parse(json) as Json;
  } catch (error) {
    throw new ScriptError(`not valid JSON (${error instanceof Error ? error.message : String(error)}); expected an object, ${example}`, "--overrides", null);
  }
  if (!isJsonObject(parsed)) throw new ScriptError(`expected a JSON object, ${example}`, "--overrides", null);
  return parsed;
}

/** A YAML node for an overrides value; it and everything in it is reported under --overrides. */
function toNode(ctx: Context, value: Json): Node {
  let node: Node;
  if (Array.isArray(value)) {
    const seq = new YAMLSeq<Node>();
    seq.items = value.map((item) => toNode(ctx, item));
    node = seq;
  } else if (isJsonObject(value)) {
    const map = new YAMLMap<Node, Node>();
    map.items = Object.entries(value).map(([key, item]) => new Pair(toNode(ctx, key), toNode(ctx, item)));
    node = map;
  } else {
    node = new Scalar(value);
  }
  ctx.overrideNodes.add(node);
  return node;
}

const indexPattern = /^(0|[1-9][0-9]{0,8})$/;

/** `base` with `over` merged in as lodash's mergeWith does with a customizer that returns source arrays. */
function mergeOverride(ctx: Context, base: Node | null, over: Json, path: string): Node {
  if (!isJsonObject(over)) return toNode(ctx, over);
  if (isMap(base)) {
    const merged = new YAMLMap<unknown, unknown>();
    merged.range = base.range;
    const pending = new Map(Object.entries(over));
    for (const pair of base.items) {
      const key = keyText(ctx, pair.key);
      if (!pending.has(key)) {
        merged.items.push(pair);
        continue;
      }
      merged.items.push(new Pair(pair.key, mergeOverride(ctx, deref(ctx, pair.value), pending.get(key) as Json, joinPath(path, key))));
      pending.delete(key);
    }
    for (const [key, value] of pending) merged.items.push(new Pair(toNode(ctx, key), toNode(ctx, value)));
    return merged;
  }
  if (isSeq(base)) {
    // lodash merges a map into a list by index; a list in the overrides replaces the list instead.
    const merged = new YAMLSeq<unknown>();
    merged.range = base.range;
    merged.items = [...base.items];
    for (const [key, value] of Object.entries(over)) {
      const at = indexPattern.test(key) ? Number(key) : Number.NaN;
      if (!(at <= merged.items.length)) {
        const reason = Number.isNaN(at) ? `"${key}" is not an index` : `index ${key} is past its end (${merged.items.length} items)`;
        throw new ScriptError(
          `${path} is a list and ${reason}; give the whole list (a list in --overrides replaces it) or its items by index, e.g. {"0": {…}}`,
          `--overrides.${joinPath(path, key)}`,
          null,
        );
      }
      merged.items[at] = at < base.items.length ? mergeOverride(ctx, deref(ctx, base.items[at]), value, `${path}[${key}]`) : toNode(ctx, value);
    }
    return merged;
  }
  return toNode(ctx, over);
}

/**
 * The script's root with the overrides merged in: `config` (its environment already merged) and `scenarios` as the
 * script has them. The result is read like any script, so an override that makes it invalid is a ScriptError at its
 * key path under --overrides (or at the script's key path when the script's own part is what is wrong).
 */
export function applyOverrides(ctx: Context, root: { config: Node | null; scenarios: Node | null }, overrides: { [key: string]: Json }): Node {
  const base = new YAMLMap<unknown, unknown>();
  base.items = [new Pair(new Scalar("config"), root.config), ...(root.scenarios ? [new Pair(new Scalar("scenarios"), root.scenarios)] : [])];
  return mergeOverride(ctx, base, overrides, "");
}
