// Reading a YAML script: typed values out of YAML nodes, each error a ScriptError at the key path and line it is about.
import { isAlias, isMap, isScalar, isSeq } from "yaml";
import type { Document, LineCounter, Node, YAMLMap } from "yaml";
import { ScriptError } from "./script-types.ts";
import { compileTemplate, listTemplateVariables, TemplateSyntaxError, variableNamePattern } from "./template.ts";

export interface TemplateUse {
  path: string;
  line: number | null;
  variables: string[];
}

export interface Context {
  doc: Document;
  lines: LineCounter;
  templateUses: TemplateUse[];
  captureNames: Set<string>;
  /** The environment chosen with --environment, whose nodes are reported at their own key path. */
  environment: { name: string; node: Node } | null;
  /** Maps and lists built by merging the environment into config. */
  mergedNodes: WeakSet<Node>;
  /** Nodes made from --overrides' JSON, reported at their key path under --overrides. */
  overrideNodes: WeakSet<Node>;
  /** checkout-invariants' acknowledgedOrders, checked against the captures once the scenarios are read. */
  acknowledgedOrdersField?: Field;
}

export interface Field {
  keyNode: Node;
  value: Node | null;
  path: string;
}

export function lineOf(ctx: Context, node: Node | null | undefined): number | null {
  const offset = node?.range?.[0];
  return offset === undefined ? null : ctx.lines.linePos(offset).line;
}

export function isInEnvironment(ctx: Context, node: Node | null | undefined): boolean {
  const offset = node?.range?.[0];
  const range = ctx.environment?.node.range;
  return offset !== undefined && range !== undefined && range !== null && offset >= range[0] && offset < range[2];
}

/** A key path, under --overrides when the node came from there, or under config.environments.NAME when it was written there. */
function locate(ctx: Context, path: string, node: Node | null | undefined): string {
  if (node && ctx.overrideNodes.has(node)) return `--overrides.${path}`;
  if (!ctx.environment || !isInEnvironment(ctx, node) || !/^config(\.|$)/.test(path)) return path;
  return `config.environments.${ctx.environment.name}${path.slice("config".length)}`;
}

export function fail(ctx: Context, path: string, node: Node | null | undefined, message: string): never {
  const merged = node && ctx.mergedNodes.has(node) ? ` (after merging it into ${path} key by key and list item by position, as Artillery's -e does)` : "";
  throw new ScriptError(`${message}${merged}`, locate(ctx, path, node), lineOf(ctx, node));
}

export function deref(ctx: Context, node: unknown): Node | null {
  if (isAlias(node)) return (node.resolve(ctx.doc) as Node | undefined) ?? null;
  return (node as Node | null | undefined) ?? null;
}

export function joinPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

export function isNullNode(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

export function describe(node: Node | null): string {
  if (isNullNode(node)) return "nothing";
  if (isMap(node)) return "a map";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) return typeof node.value === "string" ? `the string "${node.value}"` : `${String(node.value)}`;
  return "something else";
}

/** The map's entries by key; unknown keys are errors, and `unsupported` keys are errors with a reason. */
export function readMap(ctx: Context, node: Node | null, path: string, known: readonly string[], unsupported: Record<string, string> = {}): Map<string, Field> {
  if (!isMap(node)) fail(ctx, path, node, `expected a map, got ${describe(node)}`);
  const fields = new Map<string, Field>();
  for (const pair of (node as YAMLMap).items) {
    const keyNode = deref(ctx, pair.key);
    const key = isScalar(keyNode) ? String(keyNode.value) : null;
    if (key === null || keyNode === null) fail(ctx, path, keyNode ?? node, "keys must be plain strings");
    const keyPath = joinPath(path, key);
    const reason = unsupported[key];
    if (reason !== undefined) fail(ctx, keyPath, keyNode, `not supported: ${reason}`);
    if (!known.includes(key)) {
      fail(ctx, keyPath, keyNode, `unknown key "${key}"; expected one of: ${known.join(", ")}`);
    }
    fields.set(key, { keyNode, value: deref(ctx, pair.value), path: keyPath });
  }
  return fields;
}

export function requireField(ctx: Context, fields: Map<string, Field>, key: string, parentPath: string, parent: Node | null): Field {
  const field = fields.get(key);
  if (!field) fail(ctx, joinPath(parentPath, key), parent, `"${key}" is required`);
  return field;
}

export function readNumber(ctx: Context, field: Field, rule: { min?: number; isMinExclusive?: boolean; isInteger?: boolean } = {}): number {
  const { value, path } = field;
  if (!isScalar(value) || typeof value.value !== "number" || !Number.isFinite(value.value)) {
    fail(ctx, path, value ?? field.keyNode, `expected a number, got ${describe(value)}`);
  }
  const number = value.value as number;
  if (rule.isInteger && !Number.isInteger(number)) fail(ctx, path, value, `expected a whole number, got ${number}`);
  if (rule.min !== undefined) {
    const isTooSmall = rule.isMinExclusive ? number <= rule.min : number < rule.min;
    if (isTooSmall) fail(ctx, path, value, `must be ${rule.isMinExclusive ? "greater than" : "at least"} ${rule.min}, got ${number}`);
  }
  return number;
}

export function readString(ctx: Context, field: Field): string {
  const { value, path } = field;
  if (!isScalar(value) || typeof value.value !== "string") fail(ctx, path, value ?? field.keyNode, `expected a string, got ${describe(value)}`);
  return value.value as string;
}

export function readBoolean(ctx: Context, field: Field): boolean {
  const { value, path } = field;
  if (!isScalar(value) || typeof value.value !== "boolean") fail(ctx, path, value ?? field.keyNode, `expected true or false, got ${describe(value)}`);
  return value.value as boolean;
}

export function readList(ctx: Context, field: Field, rule: { isNonEmpty?: boolean } = {}): Field[] {
  const { value, path } = field;
  if (!isSeq(value)) fail(ctx, path, value ?? field.keyNode, `expected a list, got ${describe(value)}`);
  const items = value.items.map((item, index): Field => {
    const node = deref(ctx, item);
    return { keyNode: node ?? value, value: node, path: `${path}[${index}]` };
  });
  if (rule.isNonEmpty && items.length === 0) fail(ctx, path, value, "must not be empty");
  return items;
}

/** A value that may be given as one item or a list of them. */
export function readOneOrList(ctx: Context, field: Field): Field[] {
  return isSeq(field.value) ? readList(ctx, field, { isNonEmpty: true }) : [field];
}

export function readName(ctx: Context, field: Field, what: string): string {
  const name = readString(ctx, field);
  if (!variableNamePattern.test(name)) fail(ctx, field.path, field.value, `${what} "${name}" must be letters, digits, _ or -, not starting with a digit`);
  return name;
}

/** Compiles every string under the node as a template, remembering the variables for the check after parsing. */
export function checkTemplates(ctx: Context, field: Field): void {
  const { value, path } = field;
  if (isScalar(value)) {
    if (typeof value.value !== "string") return;
    try {
      const variables = listTemplateVariables(compileTemplate(value.value));
      if (variables.length > 0) ctx.templateUses.push({ path: locate(ctx, path, value), line: lineOf(ctx, value), variables });
    } catch (error) {
      if (error instanceof TemplateSyntaxError) fail(ctx, path, value, error.message);
      throw error;
    }
  } else if (isSeq(value)) {
    for (const item of readList(ctx, field)) checkTemplates(ctx, item);
  } else if (isMap(value)) {
    for (const pair of value.items) {
      const key = deref(ctx, pair.key);
      checkTemplates(ctx, { keyNode: key ?? value, value: deref(ctx, pair.value), path: joinPath(path, String(isScalar(key) ? key.value : "?")) });
    }
  }
}

export function toPlain(ctx: Context, node: Node | null): unknown {
  return node === null ? null : node.toJSON(ctx.doc);
}

export function parseStringMap(ctx: Context, field: Field): Record<string, string> {
  if (!isMap(field.value)) fail(ctx, field.path, field.value ?? field.keyNode, `expected a map, got ${describe(field.value)}`);
  const result: Record<string, string> = {};
  for (const pair of field.value.items) {
    const key = deref(ctx, pair.key);
    const value = deref(ctx, pair.value);
    const path = joinPath(field.path, String(isScalar(key) ? key.value : "?"));
    if (!isScalar(key) || typeof key.value !== "string") fail(ctx, path, key ?? field.value, "keys must be plain strings");
    if (!isScalar(value) || value.value === null || typeof value.value === "object") {
      fail(ctx, path, value ?? key, `expected a string, number or boolean, got ${describe(value)}`);
    }
    result[key.value] = String(value.value);
  }
  return result;
}

export function keyText(ctx: Context, key: unknown): string {
  const node = deref(ctx, key);
  return isScalar(node) ? String(node.value) : "?";
}
