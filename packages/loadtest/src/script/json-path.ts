// A minimal JSON path for captures: `$`, `.key`, `[n]` and `['key']`, compiled once and evaluated per response.

export type JsonPathSegment = { kind: "key"; key: string } | { kind: "index"; index: number };

export interface JsonPath {
  source: string;
  segments: JsonPathSegment[];
}

export class JsonPathSyntaxError extends Error {
  override readonly name = "JsonPathSyntaxError";
}

const identifierStart = /[A-Za-z_$]/;
const identifierPart = /[A-Za-z0-9_$-]/;

export function compileJsonPath(source: string): JsonPath {
  const fail = (at: number, why: string): never => {
    throw new JsonPathSyntaxError(`invalid JSON path "${source}" at character ${at + 1}: ${why}`);
  };
  if (source[0] !== "$") fail(0, "a JSON path starts with $");
  const segments: JsonPathSegment[] = [];
  let i = 1;
  while (i < source.length) {
    const char = source[i];
    if (char === ".") {
      const start = i + 1;
      if (!identifierStart.test(source[start] ?? "")) fail(start, "expected a key after .");
      let end = start + 1;
      while (end < source.length && identifierPart.test(source[end] ?? "")) end++;
      segments.push({ kind: "key", key: source.slice(start, end) });
      i = end;
    } else if (char === "[") {
      const quote = source[i + 1];
      if (quote === "'" || quote === '"') {
        const close = source.indexOf(quote, i + 2);
        if (close === -1) fail(i + 1, "unterminated quoted key");
        if (source[close + 1] !== "]") fail(close + 1, "expected ] after the quoted key");
        segments.push({ kind: "key", key: source.slice(i + 2, close) });
        i = close + 2;
      } else {
        const close = source.indexOf("]", i + 1);
        if (close === -1) fail(i, "unterminated [");
        const digits = source.slice(i + 1, close);
        if (!/^\d+$/.test(digits)) fail(i + 1, "expected an index (a non-negative integer) or a quoted key");
        segments.push({ kind: "index", index: Number(digits) });
        i = close + 1;
      }
    } else {
      fail(i, `unexpected "${char}"`);
    }
  }
  return { source, segments };
}

/** The value at the path, or `{ found: false }` when some segment does not exist. */
export function evaluateJsonPath(path: JsonPath, root: unknown): { found: true; value: unknown } | { found: false } {
  let current: unknown = root;
  for (const segment of path.segments) {
    if (segment.kind === "index") {
      if (!Array.isArray(current) || segment.index >= current.length) return { found: false };
      current = current[segment.index];
    } else {
      if (current === null || typeof current !== "object" || Array.isArray(current)) return { found: false };
      if (!Object.hasOwn(current, segment.key)) return { found: false };
      current = (current as Record<string, unknown>)[segment.key];
    }
  }
  return { found: true, value: current };
}
