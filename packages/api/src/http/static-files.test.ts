// The built web app as the static server loads it: each prerendered document gets the sandbox URL written in, and
// client-side routes other than "/" get the app shell when the build has one.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { APP_SHELL_PATH, loadStaticFiles } from "./static-files.ts";

const META = '<meta name="checkout:payment-sandbox-url" content="http://localhost:3001" />';
const dirs: string[] = [];

function buildDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "checkout-static-"));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), body);
  }
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("loadStaticFiles", () => {
  it("writes the sandbox URL into index.html and the app shell, and returns the shell for other routes", () => {
    const root = buildDir({
      "index.html": `<!doctype html>${META}<div id="root"><h1>Everyday things</h1></div>`,
      "app-shell.html": `<!doctype html>${META}<div id="root"><p>Loading…</p></div>`,
      "assets/index-abc.js": "console.log(1)",
    });
    const { index, shell, files } = loadStaticFiles(root, { paymentFieldUrl: "https://pay.example.test" });
    expect(index.body.toString()).toContain('content="https://pay.example.test"');
    expect(index.body.toString()).toContain("Everyday things");
    expect(shell.body.toString()).toContain('content="https://pay.example.test"');
    expect(shell.body.toString()).toContain("Loading…");
    expect(shell.body.toString()).not.toContain("localhost:3001");
    expect(files.get(APP_SHELL_PATH)).toBe(shell);
    expect(shell.cacheControl).toBe("no-cache");
    expect(files.get("/assets/index-abc.js")?.cacheControl).toBe("public, max-age=31536000, immutable");
  });

  it("serves index.html for every route when the build has no app shell", () => {
    const root = buildDir({ "index.html": `<!doctype html>${META}<div id="root"></div>` });
    const { index, shell } = loadStaticFiles(root, { paymentFieldUrl: "https://pay.example.test" });
    expect(shell).toBe(index);
  });
});
