// JSON from a client, parsed only after one linear pass has checked its nesting depth and string lengths:
// nothing recursive (JSON.parse itself, zod, the idempotency fingerprint) ever sees an input past the bounds.
import { EdgeError } from "./edge-error.ts";

export interface JsonBounds {
  /** Deepest nesting of objects and arrays allowed. */
  maxDepth: number;
  /** Longest string (key or value) allowed, in UTF-16 code units of the raw text, escapes included. */
  maxStringLength: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** Throws a typed EdgeError when `text` nests deeper or holds a longer string than `bounds` allow. */
export function checkJsonBounds(text: string, bounds: JsonBounds, where: string): void {
  let depth = 0;
  let i = 0;
  const length = text.length;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      i += 1;
      while (i < length) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i += 2;
        else if (s === QUOTE) break;
        else i += 1;
      }
      if (i - start - 1 > bounds.maxStringLength) {
        throw new EdgeError("JSON_STRING_TOO_LONG", `${where} holds a string longer than ${bounds.maxStringLength} characters`);
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth += 1;
      if (depth > bounds.maxDepth) throw new EdgeError("JSON_TOO_DEEP", `${where} nests objects or arrays deeper than ${bounds.maxDepth} levels`);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth -= 1;
    }
    i += 1;
  }
}

/** Parses client JSON within `bounds`; an empty text is no input. Every failure is a typed 400. */
export function parseBoundedJson(text: string, bounds: JsonBounds, where: string): unknown {
  if (text === "") return undefined;
  checkJsonBounds(text, bounds, where);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new EdgeError("BAD_INPUT", `${where} is not valid JSON: ${(cause as Error).message}`);
  }
}
