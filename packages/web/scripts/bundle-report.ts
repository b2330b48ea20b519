// Builds the web app and reports what the shopper downloads: each chunk's raw, gzip and brotli bytes, what each
// chunk holds by package (rendered bytes, before compression), and the script a first load of each route fetches.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { build, type Plugin } from "vite";
import { readCommandLine, UsageError } from "../../api/src/cli/help.ts";

const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const usage = `Usage: pnpm --filter @checkout/web bundle-report [--json] [--top N]

Builds packages/web (vite build, as \`pnpm --filter @checkout/web build\` does) and prints:
  - every chunk and stylesheet with its raw, gzip and brotli size (compressed as the build's precompress step does);
  - what each script chunk holds, by package (react-dom, zod, @trpc/client, the app's own code...);
  - the script the entry loads at once (the entry and its static imports).

  --json      print the figures as JSON instead of tables
  --top N     packages listed per chunk (default 8)
  -h, --help  this text`;

interface ChunkFacts {
  file: string;
  isEntry: boolean;
  isDynamicEntry: boolean;
  imports: string[];
  dynamicImports: string[];
  /** Rendered bytes (after minification, before compression) per package or app folder. */
  parts: Record<string, number>;
}

/** "node_modules/.pnpm/react-dom@19.2.0/node_modules/react-dom/cjs/x.js" → "react-dom"; app sources by folder. */
export function ownerOf(moduleId: string): string {
  const id = moduleId.replace(/\\/g, "/").replace(/^\0/, "");
  const inModules = id.lastIndexOf("/node_modules/");
  if (inModules !== -1) {
    const rest = id.slice(inModules + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? id);
  }
  const core = id.indexOf("/packages/core/src/");
  if (core !== -1) return `@checkout/core/${id.slice(core + "/packages/core/src/".length)}`;
  const web = id.indexOf("/packages/web/src/");
  if (web !== -1) {
    // A folder of the app (pages, components…) or a file at its top (app.tsx, router.tsx).
    return `web/${id.slice(web + "/packages/web/src/".length).split("/")[0]}`;
  }
  return id.includes("vite/") ? "vite runtime" : id;
}

function collect(into: ChunkFacts[]): Plugin {
  return {
    name: "checkout-bundle-report",
    apply: "build",
    generateBundle(_options, bundle) {
      for (const output of Object.values(bundle)) {
        if (output.type !== "chunk") continue;
        const parts: Record<string, number> = {};
        for (const [id, module] of Object.entries(output.modules)) {
          const owner = ownerOf(id);
          parts[owner] = (parts[owner] ?? 0) + module.renderedLength;
        }
        into.push({
          file: output.fileName,
          isEntry: output.isEntry,
          isDynamicEntry: output.isDynamicEntry,
          imports: output.imports,
          dynamicImports: output.dynamicImports,
          parts,
        });
      }
    },
  };
}

function sizes(file: string): { raw: number; gzip: number; brotli: number } {
  const body = readFileSync(file);
  return {
    raw: body.length,
    gzip: gzipSync(body, { level: constants.Z_BEST_COMPRESSION }).length,
    brotli: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }).length,
  };
}

/** The entry and every chunk it imports statically: what the browser fetches before the app can run. */
function staticClosure(chunks: ChunkFacts[], from: string): string[] {
  const byFile = new Map(chunks.map((chunk) => [chunk.file, chunk]));
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const next of byFile.get(file)?.imports ?? []) visit(next);
  };
  visit(from);
  return [...seen];
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

async function main(): Promise<void> {
  const options = readCommandLine({ name: "bundle-report", help: usage, options: { json: "flag", top: "value" } });
  const asJson = options.json === true;
  const top = options.top === undefined ? 8 : Number(options.top);
  if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top takes a positive whole number, not "${options.top}"`);

  const chunks: ChunkFacts[] = [];
  await build({ root: webRoot, configFile: path.join(webRoot, "vite.config.ts"), logLevel: "warn", plugins: [collect(chunks)] });
  const dist = path.join(webRoot, "dist");
  const manifestCss = readCssFiles(dist);
  const rows = [...chunks.map((chunk) => chunk.file), ...manifestCss].map((file) => ({ file, ...sizes(path.join(dist, file)) }));
  const entry = chunks.find((chunk) => chunk.isEntry);
  const firstLoad = entry ? staticClosure(chunks, entry.file) : [];
  const firstLoadBytes = rows
    .filter((row) => firstLoad.includes(row.file))
    .reduce((sum, row) => ({ raw: sum.raw + row.raw, gzip: sum.gzip + row.gzip, brotli: sum.brotli + row.brotli }), {
      raw: 0,
      gzip: 0,
      brotli: 0,
    });

  if (asJson) {
    console.log(JSON.stringify({ files: rows, chunks, firstLoad: { files: firstLoad, ...firstLoadBytes } }, null, 2));
    return;
  }
  console.log("file".padEnd(44), "raw".padStart(10), "gzip".padStart(10), "brotli".padStart(10));
  for (const row of rows) console.log(row.file.padEnd(44), kB(row.raw).padStart(10), kB(row.gzip).padStart(10), kB(row.brotli).padStart(10));
  console.log(
    `\nscript on first load (entry + static imports, ${firstLoad.length} files):`.padEnd(45),
    kB(firstLoadBytes.raw).padStart(10),
    kB(firstLoadBytes.gzip).padStart(10),
    kB(firstLoadBytes.brotli).padStart(10),
  );
  for (const chunk of chunks) {
    const total = Object.values(chunk.parts).reduce((sum, bytes) => sum + bytes, 0);
    const kind = chunk.isEntry ? "entry" : chunk.isDynamicEntry ? "lazy" : "shared";
    console.log(`\n${chunk.file} (${kind}, ${kB(total)} rendered, before minification)`);
    const parts = Object.entries(chunk.parts).sort((a, b) => b[1] - a[1]);
    for (const [owner, bytes] of parts.slice(0, top)) console.log(`  ${owner.padEnd(48)} ${kB(bytes).padStart(9)}  ${((bytes / total) * 100).toFixed(0).padStart(3)} %`);
    if (parts.length > top) console.log(`  … ${parts.length - top} more`);
  }
}

function readCssFiles(dist: string): string[] {
  const html = readFileSync(path.join(dist, "index.html"), "utf8");
  return [...html.matchAll(/href="\/(assets\/[^"]+\.css)"/g)].map((match) => match[1] as string);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`bundle-report: ${error.message} (see --help)`);
    process.exit(2);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
