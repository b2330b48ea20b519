// Before the browser tests: make sure a real Chromium is installed (Debian's package) and build the web app.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const isRoot = process.getuid?.() === 0;
  const apt = (args: string[]) =>
    execFileSync(isRoot ? "apt-get" : "sudo", isRoot ? args : ["apt-get", ...args], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  console.log(`Chromium not found at ${CHROMIUM}: installing Debian's chromium package for the browser tests`);
  try {
    apt(["update", "-qq"]);
    apt(["install", "-y", "-qq", "chromium"]);
  } catch (error) {
    throw new Error(`Could not install Chromium (apt-get install chromium). Install it yourself, or set CHROMIUM_PATH to a Chromium binary.`, { cause: error });
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} does not exist; set CHROMIUM_PATH`);
}

export default async function setup(): Promise<void> {
  ensureChromium();
  // CHECKOUT_TEST_WEB_DIST: a build of one's own, so two runs at once never empty each other's dist/ (shop-harness serves it).
  const outDir = process.env.CHECKOUT_TEST_WEB_DIST;
  await build({ root: webRoot, configFile: path.join(webRoot, "vite.config.ts"), logLevel: "warn", ...(outDir ? { build: { outDir, emptyOutDir: true } } : {}) });
}
