// Which of our encodings a client accepts, from its Accept-Encoding header: for the API's ready bodies and the web
// app's precompressed files alike.

export type ContentEncoding = "br" | "gzip";

/** Headers already parsed: browsers send a handful of distinct values, so nearly every request is a lookup. */
const parsed = new Map<string, ReadonlySet<ContentEncoding>>();
/** Distinct headers remembered; past this (a client sending random values), each is parsed afresh and not kept. */
export const MAX_REMEMBERED_ACCEPT_ENCODINGS = 256;
const NONE: ReadonlySet<ContentEncoding> = new Set();

/** The encodings an Accept-Encoding header allows among ours (`br`, `gzip`; `*` allows both; `q=0` refuses one). */
export function acceptedEncodings(header: string | undefined): ReadonlySet<ContentEncoding> {
  if (!header || header.length > 1024) return NONE; // absent or absurd: identity
  let accepted = parsed.get(header);
  if (!accepted) {
    accepted = parseAcceptEncoding(header);
    if (parsed.size < MAX_REMEMBERED_ACCEPT_ENCODINGS) parsed.set(header, accepted);
  }
  return accepted;
}

function parseAcceptEncoding(header: string): ReadonlySet<ContentEncoding> {
  const accepted = new Set<ContentEncoding>();
  const refused = new Set<string>();
  let isWildcard = false;
  for (const part of header.split(",")) {
    const [token = "", ...params] = part.trim().toLowerCase().split(";");
    const name = token.trim();
    const q = params.map((param) => param.trim()).find((param) => param.startsWith("q="));
    const isRefused = q !== undefined && !(Number.parseFloat(q.slice(2)) > 0);
    if (isRefused) refused.add(name);
    else if (name === "br" || name === "gzip") accepted.add(name);
    else if (name === "*") isWildcard = true;
  }
  if (isWildcard) for (const name of ["br", "gzip"] as const) if (!refused.has(name)) accepted.add(name);
  for (const name of refused) accepted.delete(name as ContentEncoding);
  return accepted;
}

/** How many distinct headers are remembered (for the test of the bound). */
export function rememberedAcceptEncodingCount(): number {
  return parsed.size;
}
