// The `payment-sandbox` command as a user runs it (the package's bin, in a child process): --help prints and does
// nothing else; otherwise it serves the card field and the API on its own port and stops cleanly on SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bin/payment-sandbox.js");
const children: ChildProcess[] = [];

function runBin(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

describe("payment-sandbox (the bin)", () => {
  it("prints its help for --help and exits 0 without listening", async () => {
    // Had --help started a server anyway, it would have said "listening at" on stdout and not exited.
    const run = runBin(["--port", "0", "--help"]);
    expect(await run.exited).toBe(0);
    const { stdout, stderr } = run.output();
    expect(stdout).toMatch(/^payment-sandbox: the local stand-in for a card processor/);
    expect(stdout).toContain("--webhook-url");
    expect(stdout).not.toContain("listening at");
    expect(stderr).toBe("");
  });

  it("refuses an unknown option with exit 64 and a pointer to --help", async () => {
    const run = runBin(["--prot", "3001"]);
    expect(await run.exited).toBe(64);
    expect(run.output().stderr).toMatch(/--prot.*--help lists the options/s);
  });

  it("serves the card field and the API on its own port, then stops with exit 0 on SIGTERM", async () => {
    const run = runBin(["--port", "0", "--allowed-origin", "http://localhost:5173"], { PAYMENT_SECRET_KEY: "sk_test_from_the_environment" });
    const url = await new Promise<string>((resolve, reject) => {
      run.child.stdout!.on("data", () => {
        const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output().stdout);
        if (match) resolve(match[1]!);
      });
      run.exited.then((code) => reject(new Error(`exited ${code} before listening: ${JSON.stringify(run.output())}`)));
    });
    expect(run.output().stdout).toContain("browsers: http://localhost:");

    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok" });
    const field = await fetch(`${url}/field?origin=${encodeURIComponent("http://localhost:5173")}`);
    expect(field.status).toBe(200);
    expect(field.headers.get("content-type")).toMatch(/^text\/html/);
    const elsewhere = await fetch(`${url}/field?origin=${encodeURIComponent("http://localhost:3000")}`);
    expect(elsewhere.status).toBe(400);
    const unauthorised = await fetch(`${url}/v1/authorizations/auth_x`, { headers: { authorization: "Bearer sk_sandbox_local_development_only" } });
    expect(unauthorised.status).toBe(401);
    const known = await fetch(`${url}/v1/authorizations/auth_x`, { headers: { authorization: "Bearer sk_test_from_the_environment" } });
    expect(known.status).toBe(404);

    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  });
});
