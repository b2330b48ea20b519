// The config section of an Artillery script: target, phases, http, defaults, variables, plugins and ensure.
import { isMap, isScalar, isSeq } from "yaml";
import { compileCondition, ExpressionError } from "../engine/ensure-expression.ts";
import type { Condition, Ensure, InvariantsPlugin, Phase, Script, Threshold } from "./script-types.ts";
import {
  checkTemplates,
  deref,
  describe,
  fail,
  isInEnvironment,
  isNullNode,
  joinPath,
  parseStringMap,
  readBoolean,
  readList,
  readMap,
  readName,
  readNumber,
  readString,
  requireField,
  type Context,
  type Field,
} from "./yaml-nodes.ts";

export const configKeys = ["target", "phases", "http", "defaults", "variables", "payload", "plugins", "ensure"];

export const unsupportedConfigKeys: Record<string, string> = {
  processor: "a processor runs JavaScript hooks, which this load tester does not support",
  engines: "only the HTTP engine is supported",
  tls: "TLS options are not supported",
};

export function readTarget(ctx: Context, target: string, field: Field | undefined, path: string): string {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    fail(ctx, path, field?.value, `"${target}" is not an absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail(ctx, path, field?.value, `"${target}" must be an http or https URL`);
  return target;
}

export function parsePhase(ctx: Context, item: Field): Phase {
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

/** config.http: the request timeout (10 s unless given); the pool size is the engine's. */
export function parseHttp(ctx: Context, field: Field | undefined): Script["http"] {
  const http = { timeoutSeconds: 10 };
  if (field) {
    const fields = readMap(ctx, field.value, "config.http", ["timeout"], {
      pool: "connection pool size is chosen by the engine",
      maxSockets: "connection pool size is chosen by the engine",
      extendedMetrics: "extended metrics are not supported",
    });
    const timeout = fields.get("timeout");
    if (timeout) http.timeoutSeconds = readNumber(ctx, timeout, { min: 0, isMinExclusive: true });
  }
  return http;
}

/** config.defaults: headers every request sends (templates allowed). */
export function parseDefaults(ctx: Context, field: Field | undefined): Script["defaults"] {
  const defaults = { headers: {} as Record<string, string> };
  if (field) {
    const fields = readMap(ctx, field.value, "config.defaults", ["headers"], { think: "default think times are not supported" });
    const headers = fields.get("headers");
    if (headers) {
      defaults.headers = parseStringMap(ctx, headers);
      checkTemplates(ctx, headers);
    }
  }
  return defaults;
}

export function parseVariables(ctx: Context, field: Field): Record<string, unknown[]> {
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

export function parseEnsure(ctx: Context, field: Field, ensure: Ensure): void {
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
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name))
      fail(ctx, envField.path, envField.value, "expected an environment variable name such as CHECKOUT_ADMIN_TOKEN (letters, digits, _)");
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

export function parsePlugins(ctx: Context, field: Field, ensure: Ensure): InvariantsPlugin | undefined {
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
