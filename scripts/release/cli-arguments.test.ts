// The release scripts' command lines: an option a script does not take is one line on stderr and exit 2, before it
// calls anything (each is given everything else it needs and a local server that counts what reaches it); --help wins
// wherever it is on the line.
import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", ...args], { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr });
    });
  });
}

/** Every request that reaches it: the stage the smoke test would wait for, and the ECS endpoint the waiter would poll. */
let hits = 0;
let url = "";
const server = http.createServer((_request, response) => {
  hits++;
  response.statusCode = 500;
  response.end();
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const env = () => ({
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  AWS_REGION: "us-east-1",
  AWS_ENDPOINT_URL_ECS: url,
  CHECKOUT_ADMIN_TOKEN: "t".repeat(48),
});

const SCRIPTS = [
  { script: "scripts/release/smoke-load-test.ts", args: () => ["--target", url, "--payment-url", url], prefix: "[smoke]", helpSays: "smoke-load-test.ts --target URL" },
  {
    script: "scripts/release/wait-for-ecs-deployment.ts",
    args: () => ["--cluster", "c", "--service", "s", "--timeout-minutes", "0.01", "--interval-seconds", "0.05"],
    prefix: "[wait-for-ecs]",
    helpSays: "wait-for-ecs-deployment.ts (--stage STAGE",
  },
  { script: "scripts/release/lint-workflows.ts", args: () => [], prefix: "lint-workflows:", helpSays: "lint-workflows.ts [FILE…]" },
];

describe.concurrent.each(SCRIPTS)("$script", ({ script, args, prefix, helpSays }) => {
  it("refuses an option it does not take with one line and exit 2, calling nothing", async () => {
    const result = await run([script, ...args(), "--bogus"], env());
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(new RegExp(`^${prefix.replace(/[[\]]/g, "\\$&")} [Uu]nknown option '?--bogus'? \\(see --help\\)\\n$`));
  });

  it("prints its help for --help even beside an option it does not take", async () => {
    const result = await run([script, "--bogus", "--help"], env());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(helpSays);
    expect(result.stderr).toBe("");
  });
});

describe("after every refusal", () => {
  it("nothing reached the stage or the ECS endpoint", () => {
    expect(hits).toBe(0);
  });
});

describe("lint-workflows", () => {
  it("refuses a workflow file that is not there with one line and exit 2, not a stack trace", async () => {
    const result = await run(["scripts/release/lint-workflows.ts", ".github/workflows/no-such.yml"]);
    expect(result).toEqual({ code: 2, stdout: "", stderr: "lint-workflows: no such file .github/workflows/no-such.yml (see --help)\n" });
  });
});
