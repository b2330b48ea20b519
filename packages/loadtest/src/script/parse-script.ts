// Reads an Artillery-v2-style YAML script into a checked Script; anything unsupported or malformed is a ScriptError.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { isAlias, isMap, isScalar, isSeq, LineCounter, Pair, parseDocument, YAMLMap, YAMLSeq } from "yaml";
import type { Document, Node, ParsedNode } from "yaml";
import { compileCondition, ExpressionError } from "../engine/ensure-expression.ts";
import { compileJsonPath, JsonPathSyntaxError } from "./json-path.ts";
import { CsvSyntaxError, parseCsv } from "./parse-csv.ts";
import { ScriptError } from "./script-types.ts";
import type { Capture, Condition, Ensure, InvariantsPlugin, Payload, Phase, Scenario, Script, Step, Threshold } from "./script-types.ts";
import { compileTemplate, listTemplateVariables, TemplateSyntaxError, variableNamePattern } from "./template.ts";

export interface ParseScriptOptions {
  /** The script's file name, used in YAML syntax errors. */
  path: string;
  /** Payload paths are resolved against it (the script's directory). */
  baseDir: string;
  /** Replaces config.target, like Artillery's --target (after the environment is merged in). */
  targetOverride?: string;
  /** Merges config.environments[NAME] into config first, like Artillery's -e/--environment. */
  environment?: string;
  /** Artillery's -v/--variables: a JSON object whose entries replace config.variables entries. */
  variablesJson?: string;
  /** Artillery's --scenario-name: run only the scenario with this name (or the one it matches as a regular expression). */
  scenarioName?: string;
}

type RequestStep = Extract<Step, { kind: "request" }>;
type Method = RequestStep["method"];

const methods: Record<string, Method> = { get: "GET", post: "POST", put: "PUT", patch: "PATCH", delete: "DELETE" };

const hookReason = "hooks run JavaScript from a processor, which this load tester does not support";

const unsupportedStepKinds: Record<string, string> = {
  function: hookReason,
  log: "log steps are not supported",
  parallel: "parallel requests are not supported",
  emit: "Socket.IO steps are not supported",
  send: "WebSocket steps are not supported",
  connect: "WebSocket steps are not supported",
};

interface TemplateUse {
  path: string;
  line: number | null;
  variables: string[];
}

interface Context {
  doc: Document;
  lines: LineCounter;
  templateUses: TemplateUse[];
  captureNames: Set<string>;
  /** The environment chosen with --environment, whose nodes are reported at their own key path. */
  environment: { name: string; node: Node } | null;
  /** Maps and lists built by merging the environment into config. */
  mergedNodes: WeakSet<Node>;
  /** checkout-invariants' acknowledgedOrders, checked against the captures once the scenarios are read. */
  acknowledgedOrdersField?: Field;
}

interface Field {
  keyNode: Node;
  value: Node | null;
  path: string;
}

function lineOf(ctx: Context, node: Node | null | undefined): number | null {
  const offset = node?.range?.[0];
  return offset === undefined ? null : ctx.lines.linePos(offset).line;
}

function isInEnvironment(ctx: Context, node: Node | null | undefined): boolean {
  const offset = node?.range?.[0];
  const range = ctx.environment?.node.range;
  return offset !== undefined && range !== undefined && range !== null && offset >= range[0] && offset < range[2];
}

/** A config key path, moved under config.environments.NAME when the node was written there. */
function locate(ctx: Context, path: string, node: Node | null | undefined): string {
  if (!ctx.environment || !isInEnvironment(ctx, node) || !/^config(\.|$)/.test(path)) return path;
  return `config.environments.${ctx.environment.name}${path.slice("config".length)}`;
}

function fail(ctx: Context, path: string, node: Node | null | undefined, message: string): never {
  const merged = node && ctx.mergedNodes.has(node) ? ` (after merging it into ${path} key by key and list item by position, as Artillery's -e does)` : "";
  throw new ScriptError(`${message}${merged}`, locate(ctx, path, node), lineOf(ctx, node));
}

function deref(ctx: Context, node: unknown): Node | null {
  if (isAlias(node)) return (node.resolve(ctx.doc) as Node | undefined) ?? null;
  return (node as Node | null | undefined) ?? null;
}

function joinPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function isNullNode(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function describe(node: Node | null): string {
  if (isNullNode(node)) return "nothing";
  if (isMap(node)) return "a map";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) return typeof node.value === "string" ? `the string "${node.value}"` : `${String(node.value)}`;
  return "something else";
}

/** The map's entries by key; unknown keys are errors, and `unsupported` keys are errors with a reason. */
function readMap(
  ctx: Context,
  node: Node | null,
  path: string,
  known: readonly string[],
  unsupported: Record<string, string> = {},
): Map<string, Field> {
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

function requireField(ctx: Context, fields: Map<string, Field>, key: string, parentPath: string, parent: Node | null): Field {
  const field = fields.get(key);
  if (!field) fail(ctx, joinPath(parentPath, key), parent, `"${key}" is required`);
  return field;
}

function readNumber(
  ctx: Context,
  field: Field,
  rule: { min?: number; isMinExclusive?: boolean; isInteger?: boolean } = {},
): number {
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

function readString(ctx: Context, field: Field): string {
  const { value, path } = field;
  if (!isScalar(value) || typeof value.value !== "string") fail(ctx, path, value ?? field.keyNode, `expected a string, got ${describe(value)}`);
  return value.value as string;
}

function readBoolean(ctx: Context, field: Field): boolean {
  const { value, path } = field;
  if (!isScalar(value) || typeof value.value !== "boolean") fail(ctx, path, value ?? field.keyNode, `expected true or false, got ${describe(value)}`);
  return value.value as boolean;
}

function readList(ctx: Context, field: Field, rule: { isNonEmpty?: boolean } = {}): Field[] {
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
function readOneOrList(ctx: Context, field: Field): Field[] {
  return isSeq(field.value) ? readList(ctx, field, { isNonEmpty: true }) : [field];
}

function readName(ctx: Context, field: Field, what: string): string {
  const name = readString(ctx, field);
  if (!variableNamePattern.test(name)) fail(ctx, field.path, field.value, `${what} "${name}" must be letters, digits, _ or -, not starting with a digit`);
  return name;
}

/** Compiles every string under the node as a template, remembering the variables for the check after parsing. */
function checkTemplates(ctx: Context, field: Field): void {
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

function toPlain(ctx: Context, node: Node | null): unknown {
  return node === null ? null : node.toJSON(ctx.doc);
}

function readTarget(ctx: Context, target: string, field: Field | undefined, path: string): string {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    fail(ctx, path, field?.value, `"${target}" is not an absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail(ctx, path, field?.value, `"${target}" must be an http or https URL`);
  return target;
}

function parsePhase(ctx: Context, item: Field): Phase {
  const fields = readMap(ctx, item.value, item.path, ["name", "duration", "arrivalRate", "rampTo", "arrivalCount", "maxVusers"], {
    pause: "pause phases are not supported; use a phase with a low arrivalRate",
  });
  const phase: Phase = { duration: readNumber(ctx, requireField(ctx, fields, "duration", item.path, item.value), { min: 0, isMinExclusive: true }) };
  const name = fields.get("name");
  if (name) phase.name = readString(ctx, name);
  const arrivalRate = fields.get("arrivalRate");
  const rampTo = fields.get("rampTo");
  const arrivalCount = fields.get("arrivalCount");
  const maxVusers = fields.get("maxVusers");
  if (arrivalRate) phase.arrivalRate = readNumber(ctx, arrivalRate, { min: 0 });
  if (rampTo) {
    if (!arrivalRate) fail(ctx, rampTo.path, rampTo.keyNode, "rampTo needs an arrivalRate to ramp from");
    phase.rampTo = readNumber(ctx, rampTo, { min: 0 });
  }
  if (arrivalCount) {
    if (arrivalRate) {
      const isMerged = isInEnvironment(ctx, arrivalRate.keyNode) !== isInEnvironment(ctx, arrivalCount.keyNode);
      const why = isMerged
        ? ": the environment's phase merges into config's phase at the same position (as Artillery's -e does), which would give it both, and Artillery would then send arrivalCount from every worker; give the environment's phase the kind of arrivals config's phase has"
        : "";
      fail(ctx, arrivalCount.path, arrivalCount.keyNode, `give either arrivalRate or arrivalCount, not both${why}`);
    }
    phase.arrivalCount = readNumber(ctx, arrivalCount, { min: 0, isInteger: true });
  }
  if (!arrivalRate && !arrivalCount) fail(ctx, item.path, item.value, "a phase needs arrivalRate or arrivalCount");
  if (maxVusers) phase.maxVusers = readNumber(ctx, maxVusers, { min: 1, isInteger: true });
  return phase;
}

function parseStringMap(ctx: Context, field: Field): Record<string, string> {
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

function parseVariables(ctx: Context, field: Field): Record<string, unknown[]> {
  if (!isMap(field.value)) fail(ctx, field.path, field.value ?? field.keyNode, `expected a map, got ${describe(field.value)}`);
  const variables: Record<string, unknown[]> = {};
  for (const pair of field.value.items) {
    const keyNode = deref(ctx, pair.key);
    const key = isScalar(keyNode) ? String(keyNode.value) : "?";
    const entry: Field = { keyNode: keyNode ?? field.value, value: deref(ctx, pair.value), path: joinPath(field.path, key) };
    readName(ctx, { ...entry, value: keyNode }, "a variable name");
    // As in Artillery: a list gives each virtual user one of its values, a single value is used as it is.
    const values = isSeq(entry.value) ? readList(ctx, entry, { isNonEmpty: true }) : [entry];
    variables[key] = values.map((value) => {
      if (!isScalar(value.value) || value.value.value === null) fail(ctx, value.path, value.value, `expected a string, number or boolean, got ${describe(value.value)}`);
      return value.value.value;
    });
  }
  return variables;
}

function parsePayload(ctx: Context, item: Field, baseDir: string): Payload {
  const fields = readMap(ctx, item.value, item.path, ["path", "fields", "order", "skipHeader"], {
    delimiter: "only comma-separated files are supported",
    cast: "payload values are always strings",
    loadAll: "loadAll needs a processor to use the rows",
    name: "loadAll needs a processor to use the rows",
  });
  const pathField = requireField(ctx, fields, "path", item.path, item.value);
  const path = resolve(baseDir, readString(ctx, pathField));
  if (!existsSync(path)) fail(ctx, pathField.path, pathField.value, `payload file ${path} does not exist`);
  const names = readList(ctx, requireField(ctx, fields, "fields", item.path, item.value), { isNonEmpty: true }).map((name) => readName(ctx, name, "a field name"));
  const orderField = fields.get("order");
  const order = orderField ? readString(ctx, orderField) : "random";
  if (order !== "random" && order !== "sequence") fail(ctx, orderField?.path ?? item.path, orderField?.value, `expected random or sequence, got "${order}"`);
  const skipHeaderField = fields.get("skipHeader");
  const skipHeader = skipHeaderField ? readBoolean(ctx, skipHeaderField) : false;
  let rows: string[][];
  try {
    rows = parseCsv(readFileSync(path, "utf8"));
  } catch (error) {
    if (error instanceof CsvSyntaxError) fail(ctx, pathField.path, pathField.value, `${path} ${error.message}`);
    throw error;
  }
  if (skipHeader) rows = rows.slice(1);
  if (rows.length === 0) fail(ctx, pathField.path, pathField.value, `payload file ${path} has no rows`);
  const shortRow = rows.findIndex((row) => row.length < names.length);
  if (shortRow !== -1) {
    fail(ctx, pathField.path, pathField.value, `row ${shortRow + 1 + (skipHeader ? 1 : 0)} of ${path} has ${rows[shortRow]?.length} columns but ${names.length} fields are named`);
  }
  return { path, fields: names, order, skipHeader, rows };
}

function parseEnsure(ctx: Context, field: Field, ensure: Ensure): void {
  const fields = readMap(ctx, field.value, field.path, ["thresholds", "conditions", "maxErrorRate"], {
    p50: "use thresholds: [{ http.response_time.p50: <ms> }]",
    p95: "use thresholds: [{ http.response_time.p95: <ms> }]",
    p99: "use thresholds: [{ http.response_time.p99: <ms> }]",
    max: "use thresholds: [{ http.response_time.max: <ms> }]",
    median: "use thresholds: [{ http.response_time.median: <ms> }]",
  });
  const thresholds = fields.get("thresholds");
  if (thresholds) {
    for (const item of readList(ctx, thresholds)) {
      const pair = isMap(item.value) && item.value.items.length === 1 ? item.value.items[0] : undefined;
      const keyNode = deref(ctx, pair?.key);
      if (!pair || !isScalar(keyNode) || typeof keyNode.value !== "string") {
        fail(ctx, item.path, item.value, `expected a single-key map such as { "http.response_time.p95": 300 }, got ${describe(item.value)}`);
      }
      const metric = keyNode.value;
      const max = readNumber(ctx, { keyNode, value: deref(ctx, pair.value), path: `${item.path}["${metric}"]` }, { min: 0 });
      ensure.thresholds.push({ metric, max } satisfies Threshold);
    }
  }
  const conditions = fields.get("conditions");
  if (conditions) {
    for (const item of readList(ctx, conditions)) {
      const conditionFields = readMap(ctx, item.value, item.path, ["expression", "strict"]);
      const expressionField = requireField(ctx, conditionFields, "expression", item.path, item.value);
      const condition: Condition = { expression: readString(ctx, expressionField), strict: true };
      try {
        compileCondition(condition.expression);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        fail(ctx, expressionField.path, expressionField.value, `the condition "${condition.expression}" is not a valid expression: ${error.message}`);
      }
      const strict = conditionFields.get("strict");
      if (strict) condition.strict = readBoolean(ctx, strict);
      ensure.conditions.push(condition);
    }
  }
  const maxErrorRate = fields.get("maxErrorRate");
  if (maxErrorRate) {
    if (ensure.maxErrorRate !== undefined) fail(ctx, maxErrorRate.path, maxErrorRate.keyNode, "maxErrorRate is given in both config.ensure and config.plugins.ensure");
    ensure.maxErrorRate = readNumber(ctx, maxErrorRate, { min: 0 });
  }
}

const tokenInScript = "an admin token never goes in a script: name the environment variable that holds it with adminTokenEnv";

/**
 * config.plugins.checkout-invariants: the variable holding the admin token (default CHECKOUT_ADMIN_TOKEN), and the
 * captured variable holding acknowledged order numbers.
 */
function parseInvariantsPlugin(ctx: Context, field: Field): InvariantsPlugin {
  const plugin: InvariantsPlugin = { adminTokenEnv: "CHECKOUT_ADMIN_TOKEN" };
  if (isNullNode(field.value)) return plugin;
  const fields = readMap(ctx, field.value, field.path, ["adminTokenEnv", "acknowledgedOrders"], {
    token: tokenInScript,
    adminToken: tokenInScript,
    authorization: tokenInScript,
  });
  const envField = fields.get("adminTokenEnv");
  if (envField) {
    const name = readString(ctx, envField);
    // The value is not echoed: it may be a token pasted by mistake.
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) fail(ctx, envField.path, envField.value, "expected an environment variable name such as CHECKOUT_ADMIN_TOKEN (letters, digits, _)");
    plugin.adminTokenEnv = name;
  }
  const ordersField = fields.get("acknowledgedOrders");
  if (ordersField) {
    const name = readString(ctx, ordersField);
    if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) fail(ctx, ordersField.path, ordersField.value, "expected the name of a variable a step captures, such as orderNumber");
    plugin.acknowledgedOrders = name;
    ctx.acknowledgedOrdersField = ordersField;
  }
  return plugin;
}

function parsePlugins(ctx: Context, field: Field, ensure: Ensure): InvariantsPlugin | undefined {
  const fields = readMap(ctx, field.value, field.path, ["ensure", "expect", "checkout-invariants"], {
    "metrics-by-endpoint": "per-endpoint metrics are always reported",
    publish: "publishing metrics is not supported",
    apdex: "the apdex plugin is not supported",
  });
  const ensureField = fields.get("ensure");
  if (ensureField && !isNullNode(ensureField.value)) parseEnsure(ctx, ensureField, ensure);
  const expect = fields.get("expect");
  if (expect && !isNullNode(expect.value)) readMap(ctx, expect.value, expect.path, []);
  const invariants = fields.get("checkout-invariants");
  return invariants ? parseInvariantsPlugin(ctx, invariants) : undefined;
}

function parseStatusCodes(ctx: Context, field: Field): number[] {
  return readOneOrList(ctx, field).map((code) => {
    const status = readNumber(ctx, code, { isInteger: true });
    if (status < 100 || status > 599) fail(ctx, code.path, code.value, `expected an HTTP status code, got ${status}`);
    return status;
  });
}

const unsupportedExpectations = "only statusCode expectations are supported";

function parseExpect(ctx: Context, field: Field): number[] {
  const items = isSeq(field.value) ? readList(ctx, field, { isNonEmpty: true }) : [field];
  let statuses: number[] | undefined;
  for (const item of items) {
    const fields = readMap(ctx, item.value, item.path, ["statusCode"], {
      contentType: unsupportedExpectations,
      hasProperty: unsupportedExpectations,
      hasHeader: unsupportedExpectations,
      headerEquals: unsupportedExpectations,
      equals: unsupportedExpectations,
      matchesRegexp: unsupportedExpectations,
      notHasProperty: unsupportedExpectations,
      cdnHit: unsupportedExpectations,
    });
    const statusCode = requireField(ctx, fields, "statusCode", item.path, item.value);
    if (statuses) fail(ctx, statusCode.path, statusCode.keyNode, "statusCode is expected twice; list the acceptable codes once, e.g. statusCode: [200, 201]");
    statuses = parseStatusCodes(ctx, statusCode);
  }
  return statuses ?? [];
}

function parseCapture(ctx: Context, field: Field): Capture[] {
  const unsupported = "only json captures are supported";
  return readOneOrList(ctx, field).map((item) => {
    const fields = readMap(ctx, item.value, item.path, ["json", "as"], {
      xpath: unsupported,
      regexp: unsupported,
      header: unsupported,
      selector: unsupported,
      transform: hookReason,
    });
    const jsonField = requireField(ctx, fields, "json", item.path, item.value);
    const json = readString(ctx, jsonField);
    try {
      compileJsonPath(json);
    } catch (error) {
      if (error instanceof JsonPathSyntaxError) fail(ctx, jsonField.path, jsonField.value, error.message);
      throw error;
    }
    const as = readName(ctx, requireField(ctx, fields, "as", item.path, item.value), "a capture name");
    ctx.captureNames.add(as);
    return { json, as };
  });
}

function parseRequest(ctx: Context, method: Method, field: Field): RequestStep {
  const fields = readMap(ctx, field.value, field.path, ["url", "json", "qs", "headers", "capture", "expect"], {
    beforeRequest: hookReason,
    afterResponse: hookReason,
    body: "only json bodies are supported",
    form: "only json bodies are supported",
    formData: "only json bodies are supported",
  });
  const urlField = requireField(ctx, fields, "url", field.path, field.keyNode);
  const step: RequestStep = { kind: "request", method, url: readString(ctx, urlField) };
  checkTemplates(ctx, urlField);
  const json = fields.get("json");
  if (json) {
    checkTemplates(ctx, json);
    step.json = toPlain(ctx, json.value);
  }
  const qs = fields.get("qs");
  if (qs) {
    if (!isMap(qs.value)) fail(ctx, qs.path, qs.value ?? qs.keyNode, `expected a map, got ${describe(qs.value)}`);
    checkTemplates(ctx, qs);
    step.qs = toPlain(ctx, qs.value) as Record<string, unknown>;
  }
  const headers = fields.get("headers");
  if (headers) {
    step.headers = parseStringMap(ctx, headers);
    checkTemplates(ctx, headers);
  }
  const capture = fields.get("capture");
  if (capture) step.capture = parseCapture(ctx, capture);
  const expect = fields.get("expect");
  if (expect) step.expectStatus = parseExpect(ctx, expect);
  return step;
}

function parseStep(ctx: Context, item: Field): Step {
  if (!isMap(item.value)) fail(ctx, item.path, item.value, `expected a step such as { get: { url: "/" } }, got ${describe(item.value)}`);
  const keys = item.value.items.map((pair) => {
    const key = deref(ctx, pair.key);
    return { key: isScalar(key) ? String(key.value) : "?", node: key ?? item.value };
  });
  const kinds = keys.filter(({ key }) => key in methods || key === "think" || key === "loop" || key in unsupportedStepKinds);
  const first = kinds[0] ?? keys[0];
  if (!first) fail(ctx, item.path, item.value, "an empty step");
  const kindPath = joinPath(item.path, first.key);
  const reason = unsupportedStepKinds[first.key];
  if (reason !== undefined) fail(ctx, kindPath, first.node, `${first.key} steps are not supported: ${reason}`);
  if (kinds.length === 0) fail(ctx, kindPath, first.node, `unknown step kind "${first.key}"; expected get, post, put, patch, delete, think or loop`);
  if (kinds.length > 1) fail(ctx, joinPath(item.path, kinds[1]?.key ?? "?"), kinds[1]?.node, "a step has exactly one kind");

  const method = methods[first.key];
  if (method) {
    const fields = readMap(ctx, item.value, item.path, [first.key]);
    return parseRequest(ctx, method, requireField(ctx, fields, first.key, item.path, item.value));
  }
  if (first.key === "think") {
    const fields = readMap(ctx, item.value, item.path, ["think"]);
    return { kind: "think", seconds: readNumber(ctx, requireField(ctx, fields, "think", item.path, item.value), { min: 0 }) };
  }
  const fields = readMap(ctx, item.value, item.path, ["loop", "count"], {
    over: "looping over values is not supported; use count",
    whileTrue: hookReason,
  });
  const count = readNumber(ctx, requireField(ctx, fields, "count", item.path, item.value), { min: 1, isInteger: true });
  const steps = readList(ctx, requireField(ctx, fields, "loop", item.path, item.value), { isNonEmpty: true }).map((step) => parseStep(ctx, step));
  return { kind: "loop", count, steps };
}

function parseScenario(ctx: Context, item: Field): Scenario {
  const fields = readMap(ctx, item.value, item.path, ["name", "weight", "flow"], {
    beforeScenario: hookReason,
    afterScenario: hookReason,
    beforeRequest: hookReason,
    afterResponse: hookReason,
    engine: "only the HTTP engine is supported (leave engine out)",
  });
  const weight = fields.get("weight");
  const scenario: Scenario = {
    weight: weight ? readNumber(ctx, weight, { min: 0, isMinExclusive: true }) : 1,
    flow: readList(ctx, requireField(ctx, fields, "flow", item.path, item.value), { isNonEmpty: true }).map((step) => parseStep(ctx, step)),
  };
  const name = fields.get("name");
  if (name) scenario.name = readString(ctx, name);
  return scenario;
}

const configKeys = ["target", "phases", "http", "defaults", "variables", "payload", "plugins", "ensure"];

const unsupportedConfigKeys: Record<string, string> = {
  processor: "a processor runs JavaScript hooks, which this load tester does not support",
  engines: "only the HTTP engine is supported",
  tls: "TLS options are not supported",
};

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

function keyText(ctx: Context, key: unknown): string {
  const node = deref(ctx, key);
  return isScalar(node) ? String(node.value) : "?";
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
function applyEnvironment(ctx: Context, configField: Field, name: string | undefined): Node | null {
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

const scalarVariableExample = `e.g. '{"paymentUrl": "http://localhost:3001"}'`;

/** Artillery's --variables JSON: each entry replaces that config variable (a list gives each virtual user one value). */
function parseVariablesOption(json: string): Record<string, unknown[]> {
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
function selectScenario(scenarios: Scenario[], wanted: string): Scenario[] {
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

export function parseScript(text: string, options: ParseScriptOptions): Script {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const [syntaxError] = doc.errors;
  if (syntaxError) {
    const line = lines.linePos(syntaxError.pos[0]).line;
    throw new ScriptError(`${options.path} is not valid YAML: ${syntaxError.message}`, "(root)", line);
  }
  const ctx: Context = { doc, lines, templateUses: [], captureNames: new Set(), environment: null, mergedNodes: new WeakSet() };
  const rootNode = deref(ctx, doc.contents as ParsedNode | null);
  const root = readMap(ctx, rootNode, "", ["config", "scenarios"], {
    before: "before/after flows are not supported",
    after: "before/after flows are not supported",
  });
  const configField = requireField(ctx, root, "config", "", rootNode);
  const configNode = applyEnvironment(ctx, configField, options.environment);
  const config = readMap(ctx, configNode, "config", [...configKeys, "environments"], unsupportedConfigKeys);

  const targetField = config.get("target");
  const scriptTarget = targetField ? readTarget(ctx, readString(ctx, targetField), targetField, "config.target") : undefined;
  const target =
    options.targetOverride !== undefined
      ? readTarget(ctx, options.targetOverride, undefined, "--target")
      : (scriptTarget ?? fail(ctx, "config.target", configNode, `"target" is required (or pass --target)`));

  const phases = readList(ctx, requireField(ctx, config, "phases", "config", configNode), { isNonEmpty: true }).map((item) => parsePhase(ctx, item));

  const http = { timeoutSeconds: 10 };
  const httpField = config.get("http");
  if (httpField) {
    const fields = readMap(ctx, httpField.value, "config.http", ["timeout"], {
      pool: "connection pool size is chosen by the engine",
      maxSockets: "connection pool size is chosen by the engine",
      extendedMetrics: "extended metrics are not supported",
    });
    const timeout = fields.get("timeout");
    if (timeout) http.timeoutSeconds = readNumber(ctx, timeout, { min: 0, isMinExclusive: true });
  }

  const defaults = { headers: {} as Record<string, string> };
  const defaultsField = config.get("defaults");
  if (defaultsField) {
    const fields = readMap(ctx, defaultsField.value, "config.defaults", ["headers"], { think: "default think times are not supported" });
    const headers = fields.get("headers");
    if (headers) {
      defaults.headers = parseStringMap(ctx, headers);
      checkTemplates(ctx, headers);
    }
  }

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

  const allScenarios = readList(ctx, requireField(ctx, root, "scenarios", "", rootNode), { isNonEmpty: true }).map((item) => parseScenario(ctx, item));
  const scenarios = options.scenarioName === undefined ? allScenarios : selectScenario(allScenarios, options.scenarioName);

  const ordersField = ctx.acknowledgedOrdersField;
  if (invariants?.acknowledgedOrders && ordersField && !ctx.captureNames.has(invariants.acknowledgedOrders)) {
    fail(ctx, ordersField.path, ordersField.value, `no step captures "${invariants.acknowledgedOrders}": capture the order number as ${invariants.acknowledgedOrders} (e.g. json "$.result.data.number" on checkout.placeOrder)`);
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
