// Which of our encodings a client accepts, from its Accept-Encoding header: for the API's ready bodies and the web
// app's precompressed files alike.

export type ContentEncoding = "br" | "gzip";

/** The encodings an Accept-Encoding header allows among ours (`br`, `gzip`; `*` allows both; `q=0` refuses one). */
export function acceptedEncodings(header: string | undefined): Set<ContentEncoding> {
  const accepted = new Set<ContentEncoding>();
  if (!header || header.length > 1024) return accepted; // absent or absurd: identity
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
