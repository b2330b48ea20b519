// Vite: React, a dev server that proxies the API on :3000, and a static build in dist/ (prerendered, precompressed).
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { precompress } from "./scripts/precompress.ts";
import { prerender } from "./scripts/prerender.ts";
import { zodWithoutJsonSchema } from "./scripts/zod-browser.ts";

const api = process.env.CHECKOUT_API_URL ?? "http://localhost:3000";

export default defineConfig(({ command, mode }) => {
  // A production build stays one even when started from a test runner: vitest sets NODE_ENV=test,
  // which would otherwise bundle React's development build and the development JSX runtime.
  const isProductionBuild = command === "build" && mode === "production";
  return {
    plugins: [react(), zodWithoutJsonSchema(), prerender(), precompress()],
    define: isProductionBuild ? { "process.env.NODE_ENV": JSON.stringify("production") } : {},
    esbuild: isProductionBuild ? { jsxDev: false } : {},
    server: {
      port: 5173,
      strictPort: true,
      proxy: {
        "/trpc": api,
        "/health": api,
        "/ready": api,
      },
    },
    preview: { port: 4173 },
    build: {
      outDir: "dist",
      emptyOutDir: true,
      // No source maps in the build: it is what ships (CloudFront, the API's static server), and a public map hands
      // out the source. Debug with `pnpm dev`, which maps everything; WEB_SOURCEMAP=1 builds them for a local look.
      sourcemap: process.env.WEB_SOURCEMAP === "1",
      // terser (two passes) makes the script a few kB smaller than esbuild's minifier; it costs seconds at build time.
      minify: "terser",
      terserOptions: { compress: { passes: 2 }, format: { comments: false } },
      // Every browser the shop supports has modulepreload; the polyfill would only add to the entry.
      modulePreload: { polyfill: false },
      rollupOptions: {
        output: {
          // Shared modules of a few hundred bytes (money formatting, the query hook) go into a chunk that needs them
          // rather than a file of their own: each file costs a request and its headers.
          experimentalMinChunkSize: 2_000,
          // zod and core's schemas in one chunk of their own, named for what it is: it changes only with a schema, so it
          // stays cached across most deploys. zod's settings go in with them, so that they run before the first schema is
          // built (zod 4 decides whether to compile a validator when the schema is constructed).
          manualChunks(id) {
            if (id.includes("/node_modules/zod/") || id.endsWith("/packages/core/src/schemas.ts") || id.endsWith("/src/lib/zod-config.ts") || id.endsWith("/src/lib/schemas.ts"))
              return "schemas";
            // Money (the currency list) is needed by the entry and by the schemas. Left to itself it is merged into the
            // schemas chunk, and every first load would fetch zod for two currency codes: a file of its own costs less.
            if (id.endsWith("/packages/core/src/money.ts")) return "money";
            // The quantity messages are for the product and cart pages only; merged into a shared chunk they would load on every page.
            if (id.endsWith("/src/lib/quantity-message.ts")) return "quantity-message";
            return undefined;
          },
        },
        onwarn(warning, warn) {
          // zod ships /*#__PURE__*/ comments where Rollup cannot use them: harmless, and not ours to fix.
          if (warning.code === "INVALID_ANNOTATION" && warning.id?.includes("/zod/")) return;
          warn(warning);
        },
      },
    },
  };
});
