// Vite: React, a dev server that proxies the API on :3000, and a static build in dist/.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const api = process.env.CHECKOUT_API_URL ?? "http://localhost:3000";

export default defineConfig({
  plugins: [react()],
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
    sourcemap: true,
  },
});
