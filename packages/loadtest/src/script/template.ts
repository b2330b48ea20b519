// `{{ var }}` templates: compiled once per script, rendered per request with a virtual user's variable bag.
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import type { Step } from "./script-types.ts";

/** What a virtual user knows: its picked variables, its payload row's fields and its captures so far. */
export type VariableBag = Readonly<Record<string, unknown>>;

type HelperName = "randomString" | "uuid" | "randomNumber" | "timestamp";

type Expression = { kind: "variable"; name: string } | { kind: "helper"; name: HelperName; args: number[] };

type TemplatePart = { kind: "text"; text: string } | Expression;

export interface Template {
  source: string;
  parts: TemplatePart[];
}

/** A JSON-like value with each string compiled; values without templates are kept as they are. */
export type CompiledValue =
  | { kind: "constant"; value: unknown }
  | { kind: "template"; template: Template }
  | { kind: "array"; items: CompiledValue[] }
  | { kind: "object"; entries: [string, CompiledValue][] };

/** A template that cannot be compiled: bad syntax or an unknown helper. */
export class TemplateSyntaxError extends Error {
  override readonly name = "TemplateSyntaxError";
}

/** A render that would send something wrong, e.g. a capture that never happened; the engine counts it as a VU error. */
export class TemplateRenderError extends Error {
  override readonly name = "TemplateRenderError";
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super(message);
  }
}

export const variableNamePattern = /^[A-Za-z_][A-Za-z0-9_-]*$/;

const helperArity: Record<HelperName, { min: number; max: number }> = {
  randomString: { min: 0, max: 1 },
  uuid: { min: 0, max: 0 },
  randomNumber: { min: 2, max: 2 },
  timestamp: { min: 0, max: 0 },
};

function isHelperName(name: string): name is HelperName {
  return Object.hasOwn(helperArity, name);
}

function compileExpression(raw: string, source: string): Expression {
  const text = raw.trim();
  if (variableNamePattern.test(text)) return { kind: "variable", name: text };
  const call = /^\$([A-Za-z]+)\s*\(([^()]*)\)$/.exec(text);
  if (!call) throw new TemplateSyntaxError(`"{{ ${text} }}" in "${source}" is neither a variable name nor a $helper() call`);
  const name = call[1] ?? "";
  if (!isHelperName(name)) {
    throw new TemplateSyntaxError(`unknown helper $${name}() in "${source}"; known: $randomString(), $uuid(), $randomNumber(min, max), $timestamp()`);
  }
  const argText = (call[2] ?? "").trim();
  const args = argText === "" ? [] : argText.split(",").map((arg) => Number(arg.trim()));
  const arity = helperArity[name];
  if (args.length < arity.min || args.length > arity.max) {
    throw new TemplateSyntaxError(`$${name}() takes ${arity.min === arity.max ? arity.min : `${arity.min} to ${arity.max}`} arguments, got ${args.length}`);
  }
  if (args.some((arg) => !Number.isInteger(arg))) throw new TemplateSyntaxError(`$${name}() takes integer arguments, got (${argText})`);
  if (name === "randomString" && (args[0] ?? 1) < 1) throw new TemplateSyntaxError("$randomString(length) needs a length of at least 1");
  if (name === "randomNumber" && (args[0] ?? 0) > (args[1] ?? 0)) throw new TemplateSyntaxError("$randomNumber(min, max) needs min <= max");
  return { kind: "helper", name, args };
}

export function compileTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf("{{", i);
    if (open === -1) {
      parts.push({ kind: "text", text: source.slice(i) });
      break;
    }
    if (open > i) parts.push({ kind: "text", text: source.slice(i, open) });
    const close = source.indexOf("}}", open + 2);
    if (close === -1) throw new TemplateSyntaxError(`unclosed "{{" in "${source}"`);
    parts.push(compileExpression(source.slice(open + 2, close), source));
    i = close + 2;
  }
  return { source, parts };
}

export function hasPlaceholders(template: Template): boolean {
  return template.parts.some((part) => part.kind !== "text");
}

export function compileValue(value: unknown): CompiledValue {
  if (typeof value === "string") {
    const template = compileTemplate(value);
    return hasPlaceholders(template) ? { kind: "template", template } : { kind: "constant", value };
  }
  if (Array.isArray(value)) {
    const items = value.map(compileValue);
    return items.every((item) => item.kind === "constant") ? { kind: "constant", value } : { kind: "array", items };
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([key, item]): [string, CompiledValue] => [key, compileValue(item)]);
    return entries.every(([, item]) => item.kind === "constant") ? { kind: "constant", value } : { kind: "object", entries };
  }
  return { kind: "constant", value };
}

/** The variable names a template refers to (helpers excluded). */
export function listTemplateVariables(template: Template): string[] {
  return template.parts.flatMap((part) => (part.kind === "variable" ? [part.name] : []));
}

const alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomString(length: number): string {
  const bytes = randomBytes(length);
  let text = "";
  for (const byte of bytes) text += alphanumerics[byte % alphanumerics.length];
  return text;
}

function evaluate(expression: Expression, bag: VariableBag): unknown {
  if (expression.kind === "variable") {
    if (!Object.hasOwn(bag, expression.name) || bag[expression.name] === undefined) {
      throw new TemplateRenderError(`"{{ ${expression.name} }}" has no value for this virtual user (not captured yet?)`, expression.name);
    }
    return bag[expression.name];
  }
  switch (expression.name) {
    case "randomString":
      return randomString(expression.args[0] ?? 10);
    case "uuid":
      return randomUUID();
    case "randomNumber":
      return randomInt(expression.args[0] ?? 0, (expression.args[1] ?? 0) + 1);
    case "timestamp":
      return Date.now();
  }
}

function stringify(value: unknown): string {
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}

/** The rendered text; every placeholder must have a value. */
export function renderTemplate(template: Template, bag: VariableBag): string {
  let text = "";
  for (const part of template.parts) text += part.kind === "text" ? part.text : stringify(evaluate(part, bag));
  return text;
}

/** Like Artillery, a string that is exactly one placeholder keeps the value's type (a captured number stays a number). */
export function renderValue(compiled: CompiledValue, bag: VariableBag): unknown {
  switch (compiled.kind) {
    case "constant":
      return compiled.value;
    case "template": {
      const [only, ...rest] = compiled.template.parts;
      if (only && only.kind !== "text" && rest.length === 0) return evaluate(only, bag);
      return renderTemplate(compiled.template, bag);
    }
    case "array":
      return compiled.items.map((item) => renderValue(item, bag));
    case "object":
      return Object.fromEntries(compiled.entries.map(([key, item]) => [key, renderValue(item, bag)]));
  }
}

type RequestStep = Extract<Step, { kind: "request" }>;

export interface CompiledRequest {
  url: Template;
  json?: CompiledValue;
  qs?: CompiledValue;
  headers: [string, Template][];
}

export interface RenderedRequest {
  url: string;
  json?: unknown;
  qs?: Record<string, unknown>;
  headers: Record<string, string>;
}

export function compileRequestStep(step: RequestStep): CompiledRequest {
  const compiled: CompiledRequest = {
    url: compileTemplate(step.url),
    headers: Object.entries(step.headers ?? {}).map(([name, value]): [string, Template] => [name, compileTemplate(value)]),
  };
  if (step.json !== undefined) compiled.json = compileValue(step.json);
  if (step.qs !== undefined) compiled.qs = compileValue(step.qs);
  return compiled;
}

const compiledRequests = new WeakMap<RequestStep, CompiledRequest>();

/** Renders a request step's url, json, qs and headers; each step is compiled on first use and cached. */
export function renderRequestStep(step: RequestStep, bag: VariableBag): RenderedRequest {
  let compiled = compiledRequests.get(step);
  if (!compiled) {
    compiled = compileRequestStep(step);
    compiledRequests.set(step, compiled);
  }
  const rendered: RenderedRequest = {
    url: renderTemplate(compiled.url, bag),
    headers: Object.fromEntries(compiled.headers.map(([name, template]) => [name, renderTemplate(template, bag)])),
  };
  if (compiled.json) rendered.json = renderValue(compiled.json, bag);
  if (compiled.qs) rendered.qs = renderValue(compiled.qs, bag) as Record<string, unknown>;
  return rendered;
}
