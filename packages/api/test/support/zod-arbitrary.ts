// Fuzz inputs from zod 4 schemas: a fast-check arbitrary built by reading a schema's definition, and near-miss mutants of valid values.
import fc from "fast-check";
import { z } from "zod";

type Schema = z.core.$ZodType;
interface Def {
  type: string;
  [key: string]: unknown;
}
interface CheckDef {
  check: string;
  [key: string]: unknown;
}

export interface ArbitraryOptions {
  /** Arbitraries for object keys by name, used instead of that key's schema wherever it appears (real ids, known SKUs …). */
  fields?: Record<string, fc.Arbitrary<unknown>>;
  /** Most elements in an array or record whose schema sets no maximum (default 4). */
  maxItems?: number;
}

const defOf = (schema: Schema): Def => schema._zod.def as unknown as Def;
const checksOf = (schema: Schema): CheckDef[] => ((defOf(schema).checks as { _zod: { def: CheckDef } }[] | undefined) ?? []).map((check) => check._zod.def);
const isValid = (schema: Schema, value: unknown): boolean => z.safeParse(schema, value).success;

/** The wrappers whose value on the wire is their inner schema's. */
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional", "success"]);
/** Keys an object may leave out. */
const OMITTABLE = new Set(["optional", "default", "prefault"]);

interface Bounds {
  min: number;
  max: number;
  isInteger: boolean;
  minExcluded: boolean;
  maxExcluded: boolean;
}

function lengthBounds(schema: Schema): { min: number; max: number } {
  let min = 0;
  let max = Infinity;
  for (const check of checksOf(schema)) {
    if (check.check === "min_length") min = Math.max(min, check.minimum as number);
    if (check.check === "max_length") max = Math.min(max, check.maximum as number);
    if (check.check === "length_equals") min = max = check.length as number;
  }
  return { min, max };
}

function numberBounds(schema: Schema): Bounds {
  const def = defOf(schema);
  const bounds: Bounds = { min: -Number.MAX_VALUE, max: Number.MAX_VALUE, isInteger: false, minExcluded: false, maxExcluded: false };
  const formats = [
    def.format,
    ...checksOf(schema)
      .filter((check) => check.check === "number_format")
      .map((check) => check.format),
  ];
  for (const format of formats) {
    if (format === "safeint") Object.assign(bounds, { isInteger: true, min: Math.max(bounds.min, Number.MIN_SAFE_INTEGER), max: Math.min(bounds.max, Number.MAX_SAFE_INTEGER) });
    if (format === "int32") Object.assign(bounds, { isInteger: true, min: Math.max(bounds.min, -(2 ** 31)), max: Math.min(bounds.max, 2 ** 31 - 1) });
    if (format === "uint32") Object.assign(bounds, { isInteger: true, min: Math.max(bounds.min, 0), max: Math.min(bounds.max, 2 ** 32 - 1) });
  }
  for (const check of checksOf(schema)) {
    const value = check.value as number;
    if (check.check === "greater_than" && value >= bounds.min) Object.assign(bounds, { min: value, minExcluded: !check.inclusive });
    if (check.check === "less_than" && value <= bounds.max) Object.assign(bounds, { max: value, maxExcluded: !check.inclusive });
  }
  return bounds;
}

function patternsOf(schema: Schema): RegExp[] {
  const def = defOf(schema);
  const patterns = def.pattern instanceof RegExp ? [def.pattern] : [];
  for (const check of checksOf(schema)) if (check.check === "string_format" && check.pattern instanceof RegExp) patterns.push(check.pattern);
  return patterns;
}

/**
 * Any code point, control characters often and now and then half a surrogate pair: a JavaScript string
 * (and so a zod string) may hold one, JSON carries it as \ud800, and not every store takes it.
 * (fast-check's own "binary" unit costs seconds to set up.)
 */
const ANY_CODE_POINT = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 0xff }).map((point) => String.fromCodePoint(point)), weight: 4 },
  {
    arbitrary: fc
      .integer({ min: 0, max: 0x10ffff })
      .filter((point) => point < 0xd800 || point > 0xdfff)
      .map((point) => String.fromCodePoint(point)),
    weight: 4,
  },
  { arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)), weight: 1 },
);

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const { min, max } = lengthBounds(schema);
  const patterns = patternsOf(schema);
  const reach = Math.min(max, min + 24);
  const matching = patterns.map(stringMatching).find((arbitrary) => arbitrary !== undefined);
  const base = matching
    ? matching
    : fc.oneof(
        { arbitrary: fc.string({ minLength: min, maxLength: reach }), weight: 4 },
        // Accented letters, scripts, emoji: what shoppers type.
        { arbitrary: fc.string({ minLength: min, maxLength: reach, unit: "grapheme" }), weight: 2 },
        // Control characters and any code point: valid to the schema, and must not break what stores them.
        { arbitrary: fc.string({ minLength: min, maxLength: reach, unit: ANY_CODE_POINT }), weight: 1 },
      );
  // Lengths count UTF-16 units, and a grapheme may take several: shorten by whole code points, never leaving half a pair.
  const fitted = Number.isFinite(max) ? base.map((value) => fitLength(value, max)) : base;
  // The leaf's own schema has the last word (trim, several patterns).
  return fitted.filter((value) => isValid(schema, value));
}

/** fast-check's generator for a pattern, or undefined for one it cannot read (Unicode property classes such as \p{Cc}). */
function stringMatching(pattern: RegExp): fc.Arbitrary<string> | undefined {
  try {
    return fc.stringMatching(pattern, { size: "small" });
  } catch {
    return undefined;
  }
}

function fitLength(value: string, max: number): string {
  if (value.length <= max) return value;
  const points = Array.from(value);
  while (points.join("").length > max) points.pop();
  return points.join("");
}

function numberArbitrary(schema: Schema): fc.Arbitrary<number> {
  const bounds = numberBounds(schema);
  if (bounds.isInteger) {
    const min = Math.ceil(bounds.min) + (bounds.minExcluded && Number.isInteger(bounds.min) ? 1 : 0);
    const max = Math.floor(bounds.max) - (bounds.maxExcluded && Number.isInteger(bounds.max) ? 1 : 0);
    return fc.integer({ min, max }).filter((value) => isValid(schema, value));
  }
  return fc
    .double({ min: bounds.min, max: bounds.max, minExcluded: bounds.minExcluded, maxExcluded: bounds.maxExcluded, noNaN: true, noDefaultInfinity: true })
    .map((value) => (Object.is(value, -0) ? 0 : value))
    .filter((value) => isValid(schema, value));
}

function objectArbitrary(def: Def, options: ArbitraryOptions, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const shape = def.shape as Record<string, Schema>;
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredKeys: string[] = [];
  for (const [key, field] of Object.entries(shape)) {
    const fieldDef = defOf(field);
    const isOmittable = OMITTABLE.has(fieldDef.type);
    const valueSchema = isOmittable ? (fieldDef.innerType as Schema) : field;
    model[key] = options.fields?.[key] ?? arbitraryFrom(valueSchema, options, depth + 1);
    if (!isOmittable) requiredKeys.push(key);
  }
  return fc.record(model, { requiredKeys }) as fc.Arbitrary<Record<string, unknown>>;
}

/**
 * Values for `schema` as a client would send them (the input side of pipes and transforms). Leaves
 * (strings, numbers) always pass their own schema; refinements of whole objects (superRefine) are not
 * read, so a generated object may still be refused by one: send it anyway, it is a realistic input.
 */
export function arbitraryOf<S extends Schema>(schema: S, options: ArbitraryOptions = {}): fc.Arbitrary<z.input<S>> {
  return arbitraryFrom(schema, options, 0) as fc.Arbitrary<z.input<S>>;
}

function arbitraryFrom(schema: Schema, options: ArbitraryOptions, depth: number): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  const maxItems = options.maxItems ?? 4;
  switch (def.type) {
    case "string":
      return stringArbitrary(schema);
    case "number":
      return numberArbitrary(schema);
    case "int":
      return numberArbitrary(schema);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "undefined":
    case "void":
      return fc.constant(undefined);
    case "nan":
      return fc.constant(Number.NaN);
    case "literal":
      return fc.constantFrom(...(def.values as unknown[]));
    case "enum":
      return fc.constantFrom(...Object.values(def.entries as Record<string, string | number>));
    case "template_literal":
      return fc.stringMatching(schema._zod.pattern as RegExp);
    case "object":
      return objectArbitrary(def, options, depth);
    case "array": {
      const { min, max } = lengthBounds(schema);
      return fc.array(arbitraryFrom(def.element as Schema, options, depth + 1), { minLength: min, maxLength: Math.min(max, min + maxItems) });
    }
    case "tuple":
      return fc.tuple(...(def.items as Schema[]).map((item) => arbitraryFrom(item, options, depth + 1)));
    case "record": {
      const keys = arbitraryFrom(def.keyType as Schema, options, depth + 1).map(String);
      return fc.dictionary(keys, arbitraryFrom(def.valueType as Schema, options, depth + 1), { maxKeys: maxItems });
    }
    case "union":
      return fc.oneof(...(def.options as Schema[]).map((option) => arbitraryFrom(option, options, depth + 1)));
    case "intersection":
      return fc
        .tuple(arbitraryFrom(def.left as Schema, options, depth + 1), arbitraryFrom(def.right as Schema, options, depth + 1))
        .map(([left, right]) => (isPlainObject(left) && isPlainObject(right) ? { ...left, ...right } : left));
    case "optional":
    case "default":
    case "prefault":
      return fc.option(arbitraryFrom(def.innerType as Schema, options, depth + 1), { nil: undefined, freq: 3 });
    case "nullable":
      return fc.option(arbitraryFrom(def.innerType as Schema, options, depth + 1), { nil: null, freq: 3 });
    case "catch":
    case "readonly":
    case "nonoptional":
    case "success":
      return arbitraryFrom(def.innerType as Schema, options, depth + 1);
    case "pipe": {
      const [into, out] = [def.in as Schema, def.out as Schema];
      // z.preprocess is a pipe from a transform (its output says what the wire carries); .transform() a pipe into one.
      if (defOf(into).type === "transform") return arbitraryFrom(out, options, depth + 1);
      if (defOf(out).type === "transform") return arbitraryFrom(into, options, depth + 1);
      // A value must pass both sides (a trimmed string piped into z.email()): draw from either, keep what the pipe takes.
      return fc.oneof(arbitraryFrom(out, options, depth + 1), arbitraryFrom(into, options, depth + 1)).filter((value) => isValid(schema, value));
    }
    case "lazy":
      return depth > 6 ? fc.constant(null) : arbitraryFrom((def.getter as () => Schema)(), options, depth + 1);
    case "date":
      return fc.date({ noInvalidDate: true }).map((date) => date.toISOString());
    case "any":
    case "unknown":
    case "transform":
    case "custom":
      return fc.jsonValue({ maxDepth: 2 });
    default:
      throw new Error(`arbitraryOf: zod type "${def.type}" is not supported`);
  }
}

// ---- Near misses ----

export interface Mutant {
  /** What was changed and where, for a failure report: "drop key address.city". */
  mutation: string;
  /** The JSON text to send; undefined sends no input at all. */
  json: string | undefined;
}

export interface MutantOptions {
  /** The service's body limit: huge strings, deep nesting and long arrays are sized to land just under it (and some over). */
  maxBodyBytes?: number;
}

type Path = (string | number)[];

const PROTOTYPE_KEYS = ["__proto__", "constructor", "prototype"];
const UNKNOWN_KEYS = [...PROTOTYPE_KEYS, "price", "total", "amount", "isAdmin", "toString", "hasOwnProperty", "valueOf", "", " ", "k".repeat(300), "𝒳"];
/** Values of the wrong type, or of the right type in a form no schema should take. */
const WRONG_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0.5,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  Number.MIN_SAFE_INTEGER - 2,
  "",
  " ",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e309",
  "null",
  "undefined",
  "true",
  "0",
  "-1",
  "0x10",
  [],
  {},
  [[]],
  [null],
  { $gt: "" },
  { toString: "x" },
];
/** Number literals JSON.parse turns into Infinity, -0 or a lossy value. */
const RAW_NUMBERS = ["1e400", "-1e400", "-0", "1.0", "1E2", "0.1e1", "123456789012345678901234567890", "5e-324"];
const HOSTILE_STRINGS = [
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfff",
  "\u202eevil",
  "\ufeff",
  "ｔｅｅ",
  "İ",
  "ß",
  "e\u0301",
  "😀",
  "\u2028\u2029",
  "\u001b[31m",
  "𝓪𝓭𝓪",
  "١٢٣٤٥",
  "' OR '1'='1",
  "'; drop table cart; --",
  "%00",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: "${jndi:ldap://x}" is a deliberate hostile input, not a template.
  "${jndi:ldap://x}",
  "\\",
  '"',
  "\r\n",
  "\t",
];
/** Whole bodies: other types, invalid JSON, a byte-order mark, batch and transformer shapes. */
const RAW_ROOTS = ["null", "[]", "{}", '""', "0", "true", "[{}]", "{", '{"a":}', "\ufeff{}", "   ", "NaN", "undefined", "1e400", '"\\ud800"', '{"__proto__":{"polluted":true}}'];

const RAW = (index: number) => `@@fuzz-raw-${index}@@`;

/** JSON text for `value` with each `@@fuzz-raw-i@@` string (as a value or a key) replaced by raw JSON `raws[i]`. */
function render(value: unknown, raws: string[] = []): string | undefined {
  if (value === undefined) return undefined;
  let json = JSON.stringify(value);
  raws.forEach((raw, index) => {
    json = json.replace(JSON.stringify(RAW(index)), () => raw);
  });
  return json;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function getAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | null)?.[key], value);
}

/** A copy of `root` with the node at `path` replaced (or removed, for `remove`). */
function setAt(root: unknown, path: Path, replacement: unknown, remove = false): unknown {
  if (path.length === 0) return replacement;
  const [key, ...rest] = path as [string | number, ...Path];
  if (Array.isArray(root)) {
    const copy = [...(root as unknown[])];
    if (rest.length === 0 && remove) copy.splice(key as number, 1);
    else copy[key as number] = setAt(copy[key as number], rest, replacement, remove);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(root as Record<string, unknown>) };
  if (rest.length === 0 && remove) delete copy[key];
  else copy[key] = setAt(copy[key], rest, replacement, remove);
  return copy;
}

/** Every node of a JSON value (the root included), breadth-first, at most 200. */
function pathsOf(value: unknown): Path[] {
  const paths: Path[] = [];
  const queue: Path[] = [[]];
  while (queue.length > 0 && paths.length < 200) {
    const path = queue.shift()!;
    paths.push(path);
    const node = getAt(value, path);
    if (Array.isArray(node)) for (const index of node.keys()) queue.push([...path, index]);
    else if (isPlainObject(node)) for (const key of Object.keys(node)) queue.push([...path, key]);
  }
  return paths;
}

function mapStrings(value: unknown, change: (value: string) => string): unknown {
  if (typeof value === "string") return change(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, change));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, change)]));
  return value;
}

const named = (path: Path) => (path.length === 0 ? "(root)" : path.join("."));

/** The schema of the node at `path`, through wrappers, pipes, unions and arrays; undefined when it cannot be told. */
export function schemaAt(schema: Schema, path: Path): Schema | undefined {
  let node: Schema | undefined = schema;
  for (const key of path) {
    node = node && unwrap(node);
    if (!node) return undefined;
    const def = defOf(node);
    if (def.type === "object") node = (def.shape as Record<string, Schema>)[String(key)];
    else if (def.type === "array") node = def.element as Schema;
    else if (def.type === "tuple") node = (def.items as Schema[])[Number(key)];
    else if (def.type === "record") node = def.valueType as Schema;
    else if (def.type === "union") node = (def.options as Schema[]).map((option) => schemaAt(option, [key])).find(Boolean);
    else return undefined;
  }
  return node && unwrap(node);
}

function unwrap(schema: Schema): Schema {
  let node = schema;
  for (;;) {
    const def = defOf(node);
    if (WRAPPERS.has(def.type)) node = def.innerType as Schema;
    else if (def.type === "pipe") node = defOf(def.in as Schema).type === "transform" ? (def.out as Schema) : (def.in as Schema);
    else if (def.type === "lazy") node = (def.getter as () => Schema)();
    else return node;
  }
}

/** Values just inside and just outside the node schema's bounds, shaped like `current`. */
function boundaryValues(schema: Schema | undefined, current: unknown): unknown[] {
  if (!schema) return [];
  const def = defOf(schema);
  if (def.type === "string") {
    const { min, max } = lengthBounds(schema);
    const seed = typeof current === "string" && current.length > 0 ? current : "a";
    const ofLength = (length: number) => seed.repeat(Math.ceil(length / seed.length) + 1).slice(0, Math.max(0, length));
    const lengths = [min, min - 1, ...(Number.isFinite(max) ? [max, max + 1] : [])].filter((length) => length >= 0);
    return lengths.map(ofLength);
  }
  if (def.type === "number" || def.type === "int") {
    const { min, max, isInteger } = numberBounds(schema);
    const step = isInteger ? 1 : 1e-6;
    const values = [min, max, min - step, max + step, ...(isInteger ? [min + 0.5, max - 0.5] : [])];
    return values.filter((value) => Number.isFinite(value) && Math.abs(value) <= 1e300);
  }
  if (def.type === "array") {
    const { min, max } = lengthBounds(schema);
    const item = Array.isArray(current) && current.length > 0 ? current[0] : null;
    const lengths = [min - 1, ...(Number.isFinite(max) ? [max + 1] : [])].filter((length) => length >= 0 && length <= 100_000);
    return lengths.map((length) => Array.from({ length }, () => item));
  }
  if (def.type === "enum") {
    const first = String(Object.values(def.entries as Record<string, unknown>)[0]);
    return [first.toLowerCase(), first.toUpperCase(), ` ${first}`, `${first}\u0000`, first.slice(0, -1)];
  }
  return [];
}

/**
 * Near misses of the values `valid` generates: a key dropped or added (prototype keys, duplicates), a
 * value of the wrong type, just past a bound, huge, deeply nested, a long array, hostile unicode,
 * NaN or Infinity as strings and number literals, or a body that is not the right shape at all.
 */
export function mutantsOf(schema: Schema, valid: fc.Arbitrary<unknown>, options: MutantOptions = {}): fc.Arbitrary<Mutant> {
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  return valid.chain((value) => {
    const paths = pathsOf(value);
    const keyPaths = paths.filter((path) => typeof path.at(-1) === "string");
    const objectPaths = paths.filter((path) => isPlainObject(getAt(value, path)));
    const size = Buffer.byteLength(render(value) ?? "");
    const room = Math.max(64, maxBodyBytes - size - 256);
    const anyPath = fc.constantFrom(...paths);
    const stringPaths = paths.filter((path) => typeof getAt(value, path) === "string");
    const numberPaths = paths.filter((path) => typeof getAt(value, path) === "number");
    // Most tweaks aim at leaves of their own kind, where a schema's checks and the code behind them live.
    const leafOr = (leaves: Path[]) => (leaves.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...leaves), weight: 3 }, { arbitrary: anyPath, weight: 1 }) : anyPath);
    const mutant = (mutation: string, root: unknown, raws?: string[]): Mutant => ({ mutation, json: render(root, raws) });

    const ops: fc.Arbitrary<Mutant>[] = [
      anyPath.chain((path) =>
        fc.oneof(
          fc.constantFrom(...WRONG_VALUES).map((wrong) => mutant(`${named(path)} = ${JSON.stringify(wrong)}`, setAt(value, path, wrong))),
          fc.constantFrom(...RAW_NUMBERS).map((raw) => mutant(`${named(path)} = ${raw}`, setAt(value, path, RAW(0)), [raw])),
        ),
      ),
      leafOr([...stringPaths, ...numberPaths]).chain((path) => {
        const current = getAt(value, path);
        const near = boundaryValues(schemaAt(schema, path), current);
        return near.length === 0
          ? fc.constant(mutant(`${named(path)} wrapped in an array`, setAt(value, path, [current])))
          : fc.constantFrom(...near).map((edge) => mutant(`${named(path)} at a bound: ${JSON.stringify(edge).slice(0, 60)}`, setAt(value, path, edge)));
      }),
      anyPath.chain((path) =>
        fc.tuple(fc.constantFrom("x", "é", "😀", "\u0000"), fc.constantFrom(0.25, 0.9, 1.2)).map(([unit, share]) => {
          const length = Math.floor((room * share) / (Buffer.byteLength(JSON.stringify(unit)) - 2));
          return mutant(`${named(path)} = ${JSON.stringify(unit)} × ${length}`, setAt(value, path, unit.repeat(length)));
        }),
      ),
      anyPath.chain((path) =>
        fc.tuple(fc.constantFrom(32, 100, 1000, 10_000, 30_000), fc.boolean()).map(([depth, isArray]) => {
          const perLevel = isArray ? 2 : 6;
          const levels = Math.min(depth, Math.floor(room / perLevel));
          const raw = isArray ? `${"[".repeat(levels)}${"]".repeat(levels)}` : `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
          return mutant(`${named(path)} nested ${levels} deep (${isArray ? "arrays" : "objects"})`, setAt(value, path, RAW(0)), [raw]);
        }),
      ),
      anyPath.chain((path) =>
        fc.constantFrom(0.5, 0.95, 1.3).map((share) => {
          const item = getAt(value, path) ?? null;
          const length = Math.max(2, Math.floor((room * share) / (Buffer.byteLength(JSON.stringify(item)) + 1)));
          return mutant(
            `${named(path)} = [${length} copies]`,
            setAt(
              value,
              path,
              Array.from({ length }, () => item),
            ),
          );
        }),
      ),
      leafOr(stringPaths).chain((path) => {
        const current = getAt(value, path);
        return fc.tuple(fc.constantFrom(...HOSTILE_STRINGS), fc.constantFrom("replace", "append", "prepend")).map(([text, how]) => {
          const next = typeof current !== "string" || how === "replace" ? text : how === "append" ? current + text : text + current;
          return mutant(`${named(path)} = ${JSON.stringify(next).slice(0, 80)}`, setAt(value, path, next));
        });
      }),
      leafOr([...stringPaths, ...numberPaths]).chain((path) => {
        const current = getAt(value, path);
        const variants: unknown[] =
          typeof current === "number"
            ? [current + 1, current - 1, -current, current + 0.5, current * 1e6, String(current), -(2 ** 31), 2 ** 53]
            : typeof current === "string"
              ? [current.toUpperCase(), current.toLowerCase(), ` ${current} `, current.slice(0, -1), current + current, Number(current)]
              : [JSON.stringify(current) ?? "undefined", null];
        return fc.constantFrom(...variants).map((next) => mutant(`${named(path)} = ${JSON.stringify(next)?.slice(0, 80)}`, setAt(value, path, next)));
      }),
      // Every string at once: whichever of them the code reaches first (a scope, a lookup, an audit record) meets it.
      fc.constantFrom("\u0000", "\ud800", "\u001b[0m", "\u202e").map((text) =>
        mutant(
          `every string + ${JSON.stringify(text)}`,
          mapStrings(value, (string) => string + text),
        ),
      ),
      fc.constantFrom(...RAW_ROOTS).map((raw) => ({ mutation: `body ${JSON.stringify(raw)}`, json: raw })),
      fc.constantFrom("array", "batch", "superjson", "twice").map((shape) => {
        const json = render(value) ?? "null";
        const wrapped = { array: `[${json}]`, batch: `{"0":${json}}`, superjson: `{"json":${json}}`, twice: `${json}${json}` }[shape];
        return { mutation: `body as ${shape}`, json: wrapped };
      }),
    ];
    if (keyPaths.length > 0) {
      ops.push(fc.constantFrom(...keyPaths).map((path) => mutant(`drop key ${named(path)}`, setAt(value, path, undefined, true))));
    }
    if (objectPaths.length > 0) {
      ops.push(
        fc
          .tuple(
            fc.constantFrom(...objectPaths),
            fc.constantFrom(...UNKNOWN_KEYS, "(a duplicate)"),
            fc.constantFrom<unknown>({ polluted: true }, "x", 1, null, { prototype: { polluted: true } }),
          )
          .map(([path, wanted, extra]) => {
            const node = getAt(value, path) as Record<string, unknown>;
            const existing = Object.keys(node);
            const key = wanted === "(a duplicate)" && existing.length > 0 ? existing[0]! : wanted === "(a duplicate)" ? "__proto__" : wanted;
            // The key goes in as raw JSON text: "__proto__" stays an own key, and a duplicate stays a duplicate.
            const withKey = { ...node, [RAW(0)]: extra };
            return mutant(`${named(path)} + key ${JSON.stringify(key).slice(0, 40)}`, setAt(value, path, withKey), [JSON.stringify(key)]);
          }),
      );
    }
    return fc.oneof(...ops);
  });
}
