// The scenarios of an Artillery script: weighted flows of requests, think times and loops.
import { isMap, isScalar, isSeq } from "yaml";
import { compileJsonPath, JsonPathSyntaxError } from "./json-path.ts";
import type { Capture, Scenario, Step } from "./script-types.ts";
import {
  checkTemplates,
  deref,
  describe,
  fail,
  joinPath,
  parseStringMap,
  readList,
  readMap,
  readName,
  readNumber,
  readOneOrList,
  readString,
  requireField,
  toPlain,
  type Context,
  type Field,
} from "./yaml-nodes.ts";

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

export function parseScenario(ctx: Context, item: Field): Scenario {
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
