// The built web app, read into memory once at start-up and served with the right caching and CSP, compressed as the
// browser accepts: the build's precompressed copies (<file>.br, <file>.gz) where they are, compressed here once at
// start-up where they are not (the HTML documents, whose sandbox URL is written in at start-up). Source maps are never served.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { acceptedEncodings, type ContentEncoding } from "./accept-encoding.ts";

export interface Representation {
  body: Buffer;
  etag: string;
}

export interface StaticFile extends Representation {
  contentType: string;
  cacheControl: string;
  /** Compressed copies of a compressible file; the response varies by Accept-Encoding when there are any. */
  encoded: Partial<Record<ContentEncoding, Representation>>;
}

/** Text formats worth compressing; other images and fonts are compressed already. */
const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".svg", ".json", ".txt"]);
/** Below this a compressed copy saves too little to matter. */
const COMPRESS_FROM_BYTES = 1024;
/** Files of the build that are never served: copies served in another file's place, and source maps. */
const NOT_SERVED = /\.(br|gz|map)$/i;

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

function walk(dir: string, base = dir, found: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, base, found);
    else found.push(path.relative(base, full));
  }
  return found;
}

const etagOf = (body: Buffer, encoding?: ContentEncoding) => `"${createHash("sha1").update(body).digest("base64url")}${encoding ? `-${encoding}` : ""}"`;

/** `precompressed` holds the build's copies, used when they are copies of this very body (index.html's is not). */
function toFile(urlPath: string, body: Buffer, precompressed: Partial<Record<ContentEncoding, Buffer>> = {}): StaticFile {
  const ext = path.extname(urlPath).toLowerCase();
  const isHashedAsset = urlPath.startsWith("/assets/");
  const encoded: StaticFile["encoded"] = {};
  if (COMPRESSIBLE.has(ext) && body.length >= COMPRESS_FROM_BYTES) {
    const br = precompressed.br ?? brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } });
    const gzip = precompressed.gzip ?? gzipSync(body, { level: constants.Z_BEST_COMPRESSION });
    encoded.br = { body: br, etag: etagOf(body, "br") };
    encoded.gzip = { body: gzip, etag: etagOf(body, "gzip") };
  }
  return {
    body,
    etag: etagOf(body),
    encoded,
    contentType: contentTypes[ext] ?? "application/octet-stream",
    cacheControl: isHashedAsset ? "public, max-age=31536000, immutable" : ext === ".html" ? "no-cache" : "public, max-age=3600",
  };
}

/** The representation of `file` to send for an Accept-Encoding header: brotli, then gzip, then the file as it is. */
export function representationFor(file: StaticFile, acceptEncoding: string | undefined): Representation & { encoding?: ContentEncoding } {
  const accepted = acceptedEncodings(acceptEncoding);
  for (const encoding of ["br", "gzip"] as const) {
    const copy = file.encoded[encoding];
    if (copy && accepted.has(encoding)) return { ...copy, encoding };
  }
  return file;
}

const notBuiltPage = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Checkout API</title>
<body><h1>The web app is not built</h1><p>Run <code>pnpm start</code> (which builds it) or <code>pnpm dev</code> and open the Vite URL.</p></body></html>`;

/** The prerendered document for every client-side route but "/" (the web build's scripts/prerender.ts writes it). */
export const APP_SHELL_PATH = "/app-shell.html";

/**
 * Loads every file under `root`. Each HTML document gets the payment sandbox's public URL written into its
 * meta tag, so the same build runs against any sandbox or processor origin. `index` is "/" (the catalogue, prerendered);
 * `shell` is what every other client-side route is served (a build without one serves index.html there too).
 */
export function loadStaticFiles(root: string, options: { paymentFieldUrl: string }): { files: Map<string, StaticFile>; index: StaticFile; shell: StaticFile; isBuilt: boolean } {
  const files = new Map<string, StaticFile>();
  const isBuilt = existsSync(path.join(root, "index.html"));
  if (isBuilt) {
    for (const relative of walk(root)) {
      if (NOT_SERVED.test(relative)) continue;
      const urlPath = `/${relative.split(path.sep).join("/")}`;
      const full = path.join(root, relative);
      let body = readFileSync(full);
      if (urlPath.endsWith(".html")) {
        body = Buffer.from(body.toString("utf8").replace(/(<meta name="checkout:payment-sandbox-url" content=")[^"]*(")/, `$1${options.paymentFieldUrl}$2`));
        files.set(urlPath, toFile(urlPath, body));
        continue;
      }
      const copy = (suffix: string) => (existsSync(`${full}${suffix}`) ? readFileSync(`${full}${suffix}`) : undefined);
      files.set(urlPath, toFile(urlPath, body, { br: copy(".br"), gzip: copy(".gz") }));
    }
  }
  const index = files.get("/index.html") ?? toFile("/index.html", Buffer.from(notBuiltPage));
  return { files, index, shell: files.get(APP_SHELL_PATH) ?? index, isBuilt };
}
