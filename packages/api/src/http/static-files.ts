// The built web app, read into memory once at start-up and served with the right caching and CSP.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
  cacheControl: string;
}

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

function toFile(urlPath: string, body: Buffer): StaticFile {
  const ext = path.extname(urlPath).toLowerCase();
  const isHashedAsset = urlPath.startsWith("/assets/");
  return {
    body,
    contentType: contentTypes[ext] ?? "application/octet-stream",
    etag: `"${createHash("sha1").update(body).digest("base64url")}"`,
    cacheControl: isHashedAsset ? "public, max-age=31536000, immutable" : ext === ".html" ? "no-cache" : "public, max-age=3600",
  };
}

const notBuiltPage = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Checkout API</title>
<body><h1>The web app is not built</h1><p>Run <code>pnpm start</code> (which builds it) or <code>pnpm dev</code> and open the Vite URL.</p></body></html>`;

/**
 * Loads every file under `root`. `index.html` gets the payment sandbox's public URL written into its
 * meta tag, so the same build runs against any sandbox or processor origin.
 */
export function loadStaticFiles(root: string, options: { paymentFieldUrl: string }): { files: Map<string, StaticFile>; index: StaticFile; isBuilt: boolean } {
  const files = new Map<string, StaticFile>();
  const isBuilt = existsSync(path.join(root, "index.html"));
  if (isBuilt) {
    for (const relative of walk(root)) {
      const urlPath = `/${relative.split(path.sep).join("/")}`;
      let body = readFileSync(path.join(root, relative));
      if (urlPath === "/index.html") {
        body = Buffer.from(body.toString("utf8").replace(/(<meta name="checkout:payment-sandbox-url" content=")[^"]*(")/, `$1${options.paymentFieldUrl}$2`));
      }
      files.set(urlPath, toFile(urlPath, body));
    }
  }
  const index = files.get("/index.html") ?? toFile("/index.html", Buffer.from(notBuiltPage));
  return { files, index, isBuilt };
}
