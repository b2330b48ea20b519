// The command line as a person meets it: --help on every command prints that command's help and does nothing else,
// and a mistyped option, a missing value or a stray argument is exit 2 with one line naming it, never a stack trace.
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const cli = path.resolve(import.meta.dirname, "cli.ts");
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ["--import", "tsx", cli, ...args], { cwd: path.resolve(import.meta.dirname, "..") }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );

// A target that counts what reaches it: help and usage errors must send it nothing.
let hits = 0;
let server: Server;
let url = "";
beforeAll(async () => {
  server = createServer((_request, response) => {
    hits++;
    response.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const COMMANDS = ["run", "quick", "report", "plan", "monitor"] as const;

describe("--help", () => {
  it("prints every command's synopsis at the top level, with -h, --help and `help`", async () => {
    for (const args of [["--help"], ["-h"], ["help"]]) {
      const result = await run(args);
      expect(result.code, args.join(" ")).toBe(0);
      for (const command of COMMANDS) expect(result.stdout, args.join(" ")).toContain(`checkout-loadtest ${command} `);
      expect(result.stderr).toBe("");
    }
  });

  it("prints only that command's help on each command, even with other arguments, and loads nothing", async () => {
    for (const command of COMMANDS) {
      const result = await run([command, "--help"]);
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toMatch(new RegExp(`^Usage:\\n  checkout-loadtest ${command} `));
      for (const other of COMMANDS.filter((c) => c !== command)) expect(result.stdout, command).not.toContain(`checkout-loadtest ${other} `);
    }
    const quick = await run(["quick", "--rate", "50", "--duration", "2", url, "--help"]);
    expect(quick.code).toBe(0);
    const monitor = await run(["monitor", url, "--duration", "2", "-h"]);
    expect(monitor.code).toBe(0);
    expect(hits).toBe(0);
  });
});

describe("usage errors", () => {
  it.each([
    [["run", "script.yml", "--wokers", "2"], /^run: unknown option --wokers \(see checkout-loadtest run --help\)$/],
    [["quick", "--rate", "5", "--duraton", "1", "URL"], /^quick: unknown option --duraton /],
    [["monitor", "URL", "--intervall", "5"], /^monitor: unknown option --intervall /],
    [["plan", "result.json", "--window"], /^plan: option --window needs a value /],
    [["report", "a.json", "b.json"], /^report: unexpected argument b\.json /],
    [["run"], /^run needs a script file /],
    [["quick", "--rate", "many", "URL"], /^quick: --rate must be a positive number, got "many" /],
    [["quick", "--workers", "1.5", "URL"], /^quick: --workers must be a whole number, got "1.5" /],
  ])("%j is exit 2 with one line naming the problem", async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it("refuses a typo in quick's options before sending anything", async () => {
    const result = await run(["quick", "--rate", "50", "--duraton", "2", url]);
    expect(result.code).toBe(2);
    expect(hits).toBe(0);
  });

  it("names an unknown command and lists the real ones", async () => {
    const result = await run(["rnu", "script.yml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^unknown command "rnu"/);
    expect(result.stderr).toContain("checkout-loadtest run ");
  });

  it("says a file that is not a saved result is not one", async () => {
    const result = await run(["report", "package.json"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^report: package\.json is not a result written by run --output/);
  });
});
