// Vite: React, a dev server that proxies the API on :3000, and a static build in dist/.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { precompress } from "./scripts/precompress.ts";

const api = process.env.CHECKOUT_API_URL ?? "http://localhost:3000";

export default defineConfig(({ command, mode }) => {
  // A production build stays one even when started from a test runner: vitest sets NODE_ENV=test,
  // which would otherwise bundle React's development build and the development JSX runtime.
  const isProductionBuild = command === "build" && mode === "production";
  return {
    plugins: [react(), precompress()],
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
      rollupOptions: {
        onwarn(warning, warn) {
          // zod ships /*#__PURE__*/ comments where Rollup cannot use them: harmless, and not ours to fix.
          if (warning.code === "INVALID_ANNOTATION" && warning.id?.includes("/zod/")) return;
          warn(warning);
        },
      },
    },
  };
});
