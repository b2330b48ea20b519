// A request encoded for the wire once: request line, headers (checked against injection), computed content-length, body.

/** A request ready for the wire: head and body bytes, reusable for any number of sends. */
export interface EncodedRequest {
  bytes: Buffer;
  /** A HEAD response has no body whatever its headers say. */
  isHead: boolean;
}

const headerToken = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const headerValueForbidden = /[\r\n\0]/;

/** Throws when a header would corrupt the request (CR/LF injection or an invalid name). */
export function assertHeader(name: string, value: string): void {
  if (!headerToken.test(name)) throw new TypeError(`invalid header name "${name}"`);
  if (headerValueForbidden.test(value)) throw new TypeError(`header "${name}" has a line break or NUL in its value`);
}

const hasBodySemantics = new Set(["POST", "PUT", "PATCH"]);

/**
 * Encodes a request. `headers` are lower-case names; `host` is sent unless they have one; content-length is computed
 * (a given one is ignored), and POST/PUT/PATCH without a body send content-length: 0 as undici and node:http do.
 */
export function encodeRequest({
  method,
  path,
  host,
  headers,
  body,
}: {
  method: string;
  path: string;
  host: string;
  headers: Record<string, string>;
  body: string | undefined;
}): EncodedRequest {
  if (!headerToken.test(method)) throw new TypeError(`invalid method "${method}"`);
  if (!/^[\x21-\x7e]+$/.test(path)) throw new TypeError(`invalid request path "${path}"`);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  if (headers.host === undefined) head += `host: ${host}\r\n`;
  for (const name in headers) {
    if (name === "content-length" || name === "transfer-encoding") continue;
    const value = headers[name] ?? "";
    assertHeader(name, value);
    head += `${name}: ${value}\r\n`;
  }
  if (body !== undefined) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
  else if (hasBodySemantics.has(method)) head += "content-length: 0\r\n";
  head += "\r\n";
  return { bytes: Buffer.from(body === undefined ? head : head + body, "utf8"), isHead: method === "HEAD" };
}
