// The command line as a person meets it: --help on every command prints that command's help and does nothing else,
// and a mistyped option, a missing value or a stray argument is exit 2 with one line naming it, never a stack trace.
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const cli = path.resolve(import.meta.dirname, "cli.ts");
const runCli = (args: string[], env: Record<string, string> = {}) =>
  promisify(execFile)(process.execPath, ["--import", "tsx", cli, ...args], { cwd: path.resolve(import.meta.dirname, ".."), env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );

// The tests run side by side, each run its own process: at most three at once, which keeps two cores busy while one
// process starts and another exits, without starving the rest of the machine.
const MAX_RUNNING = 3;
let running = 0;
const waiting: (() => void)[] = [];
async function run(args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  if (running >= MAX_RUNNING) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await runCli(args, env);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

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

describe.concurrent("--help", () => {
  it.for([["--help"], ["-h"], ["help"]])("prints every command's synopsis at the top level, with %j", async (args, { expect }) => {
    const result = await run(args);
    expect(result.code, args.join(" ")).toBe(0);
    for (const command of COMMANDS) expect(result.stdout, args.join(" ")).toContain(`checkout-loadtest ${command} `);
    expect(result.stderr).toBe("");
  });

  it.for(COMMANDS)("prints only %s's help on that command", async (command, { expect }) => {
    const result = await run([command, "--help"]);
    expect(result.code, command).toBe(0);
    expect(result.stdout, command).toMatch(new RegExp(`^Usage:\\n  checkout-loadtest ${command} `));
    for (const other of COMMANDS.filter((c) => c !== command)) expect(result.stdout, command).not.toContain(`checkout-loadtest ${other} `);
  });

  it("prints the help even with other arguments, and loads nothing", async ({ expect }) => {
    const [quick, monitor] = await Promise.all([run(["quick", "--rate", "50", "--duration", "2", url, "--help"]), run(["monitor", url, "--duration", "2", "-h"])]);
    expect(quick.code).toBe(0);
    expect(monitor.code).toBe(0);
    expect(hits).toBe(0);
  });
});

describe.concurrent("usage errors", () => {
  it.each([
    [["run", "script.yml", "--wokers", "2"], /^run: unknown option --wokers \(see checkout-loadtest run --help\)$/],
    [["quick", "--rate", "5", "--duraton", "1", "URL"], /^quick: unknown option --duraton /],
    [["monitor", "URL", "--intervall", "5"], /^monitor: unknown option --intervall /],
    [["plan", "result.json", "--window"], /^plan: option --window needs a value /],
    [["report", "a.json", "b.json"], /^report: unexpected argument b\.json /],
    [["run"], /^run needs a script file /],
    [["quick", "--rate", "many", "URL"], /^quick: --rate must be a positive number, got "many" /],
    [["quick", "--workers", "1.5", "URL"], /^quick: --workers must be a whole number, got "1.5" /],
    [["quick", "--max-error-rate", "150", "URL"], /^quick: --max-error-rate must be a percentage from 0 to 100, got "150" /],
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

describe.concurrent("quick's verdict", () => {
  // Lateness is not what these cases judge: a busy machine may launch an arrival late, which is the schedule's verdict.
  const onTime = { LOADTEST_LATE_MS: "1000" };

  it("fails against a target where nothing listens: every virtual user failed", async ({ expect }) => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await run(["quick", "--count", "3", "--num", "1", `http://127.0.0.1:${port}/`], onTime);
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}maxErrorRate: 100 % of virtual users did not complete > 0 %$/m);
    expect(result.stdout).toMatch(/^verdict: FAIL$/m);
  });

  it("fails on 5xx answers unless --max-error-rate allows their share", async ({ expect }) => {
    const failing = createServer((_request, response) => {
      response.statusCode = 503;
      response.end("busy");
    });
    await new Promise<void>((resolve) => failing.listen(0, "127.0.0.1", resolve));
    const target = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/`;
    try {
      const [strict, allowed] = await Promise.all([
        run(["quick", "--count", "4", "--num", "1", target], onTime),
        run(["quick", "--count", "4", "--num", "1", "--max-error-rate", "100", target], onTime),
      ]);
      expect(strict.code, strict.stdout).toBe(1);
      expect(strict.stdout).toMatch(/^FAIL {2}does not hold: http\.codes\.5xx == 0 \(http\.codes\.5xx = 4\)$/m);
      expect(strict.stdout).toMatch(/^pass {2}maxErrorRate: 0 % of virtual users did not complete <= 0 %$/m);
      expect(allowed.code, allowed.stdout).toBe(0);
      expect(allowed.stdout).toMatch(/^pass {2}holds: http\.codes\.5xx <= http\.responses \* 1 /m);
    } finally {
      await new Promise<void>((resolve) => failing.close(() => resolve()));
    }
  });
});
