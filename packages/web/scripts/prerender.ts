// A build step: the app rendered to HTML with react-dom/server, so a shopper sees the shop before any script runs.
// index.html gets the catalogue's first frame (what "/" shows before its products arrive) and a modulepreload of the
// catalogue's chunk; app-shell.html, served for every other route, gets the header, a loading status and the footer.
// The page's own script then renders over it (src/main.tsx), in the same layout.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createServer, type Plugin } from "vite";

/** The document every route but "/" starts from; the API server and CloudFront serve it for client-side routes. */
export const APP_SHELL_FILE = "app-shell.html";

const ROOT_ELEMENT = '<div id="root"></div>';

interface Rendered {
  catalog: string;
  shell: string;
}

/** Renders src/prerender.tsx's two documents through a throwaway Vite server (it compiles TSX and import.meta.env). */
async function render(root: string): Promise<Rendered> {
  const server = await createServer({
    root,
    configFile: false,
    logLevel: "error",
    appType: "custom",
    server: { middlewareMode: true, hmr: false, ws: false },
    optimizeDeps: { noDiscovery: true, include: [] },
    esbuild: { jsx: "automatic" },
  });
  try {
    const module = (await server.ssrLoadModule("/src/prerender.tsx")) as { renderCatalog: () => Promise<string>; renderShell: () => string };
    return { catalog: await module.renderCatalog(), shell: module.renderShell() };
  } finally {
    await server.close();
  }
}

/** `html` with the rendered markup inside #root and, when given, modulepreload links before </head>. */
export function fillDocument(html: string, markup: string, preloads: readonly string[] = []): string {
  if (!html.includes(ROOT_ELEMENT)) throw new Error(`index.html has no ${ROOT_ELEMENT} to prerender into`);
  const links = preloads.map((file) => `<link rel="modulepreload" crossorigin href="/${file}">\n`).join("");
  // Indented like the lines Vite wrote into the head.
  return html
    .replace(ROOT_ELEMENT, `<div id="root">${markup}</div>`)
    .replace(/^( *)<\/head>/m, (closing, indent: string) => `${links.replace(/^/gm, `${indent}  `).replace(/ +$/, "")}${closing}`);
}

export function prerender(): Plugin {
  let root = "";
  let outDir = "dist";
  /** The catalogue page's chunk and the chunks it imports, less those the entry already preloads. */
  let catalogChunks: string[] = [];
  return {
    name: "checkout-prerender",
    apply: "build",
    configResolved(config) {
      root = config.root;
      outDir = path.resolve(config.root, config.build.outDir);
    },
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle).filter((output) => output.type === "chunk");
      const entry = chunks.find((chunk) => chunk.isEntry);
      const catalog = chunks.find((chunk) => chunk.facadeModuleId?.endsWith("/src/pages/catalog-page.tsx"));
      if (!entry || !catalog) throw new Error("prerender: the build has no entry chunk or no catalogue page chunk");
      catalogChunks = [catalog.fileName, ...catalog.imports].filter((file) => file !== entry.fileName && !entry.imports.includes(file));
    },
    // Before the precompress step (also a closeBundle hook), so the HTML it compresses is the prerendered one.
    closeBundle: {
      order: "pre",
      sequential: true,
      async handler() {
        const rendered = await render(root);
        const indexFile = path.join(outDir, "index.html");
        const template = readFileSync(indexFile, "utf8");
        writeFileSync(path.join(outDir, APP_SHELL_FILE), fillDocument(template, rendered.shell));
        writeFileSync(indexFile, fillDocument(template, rendered.catalog, catalogChunks));
      },
    },
  };
}
