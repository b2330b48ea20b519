// One API process of the rehearsal, started the way the container starts it (node --import tsx src/main.ts).
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../../src/env.ts";

export interface ApiProcess {
  version: string;
  port: number;
  /** Resolves with the exit code once the process has exited (null when a signal ended it). */
  exited: Promise<number | null>;
  output(): string;
  kill(signal: NodeJS.Signals): void;
}

export interface ApiProcessOptions {
  version: string;
  port: number;
  databaseUrl: string;
  paymentUrl: string;
  paymentSecretKey: string;
  webhookSecret: string;
  adminToken: string;
  /** More settings, over the ones above (e.g. METRICS_TOKEN, pool settings). */
  env?: Record<string, string>;
}

export function startApiProcess(options: ApiProcessOptions): ApiProcess {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "packages/api/src/main.ts"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      NODE_ENV: "production",
      APP_VERSION: options.version,
      HOST: "127.0.0.1",
      PORT: String(options.port),
      PUBLIC_URL: `http://127.0.0.1:${options.port}`,
      DATABASE_URL: options.databaseUrl,
      PAYMENT_SANDBOX: "false",
      PAYMENT_PROVIDER_URL: options.paymentUrl,
      PAYMENT_SECRET_KEY: options.paymentSecretKey,
      PAYMENT_WEBHOOK_SECRET: options.webhookSecret,
      ADMIN_API_TOKENS: `rehearsal:${options.adminToken}`,
      WEB_DIST: path.join(repoRoot, ".data", "no-web-build"),
      // Production sends mail over SMTP or, named explicitly, into a folder: the rehearsal keeps its mail as files.
      MAIL_DIR: path.join(repoRoot, ".data", "rehearsal-mail"),
      LOG_LEVEL: "warn",
      SHUTDOWN_TIMEOUT_MS: "20000",
      // The shopper's address from the header HAProxy sets (as CloudFront's in a deployed stage). The load
      // generator is one loopback address doing the work of thousands of shoppers: exempt from per-client limits.
      VIEWER_ADDRESS_HEADER: "cloudfront-viewer-address",
      CLIENT_LIMITS_EXEMPT: "127.0.0.1",
      ...options.env,
    },
  });
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    version: options.version,
    port: options.port,
    exited,
    output: () => text,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Polls the process's own /ready (not through the balancer) until it answers 200. */
export async function waitUntilReady(api: ApiProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let code: number | null | undefined;
  void api.exited.then((exitCode) => (code = exitCode));
  while (Date.now() < deadline) {
    if (code !== undefined) throw new Error(`${api.version} exited with ${code} before it was ready:\n${api.output()}`);
    try {
      if ((await fetch(`http://127.0.0.1:${api.port}/ready`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${api.version} was not ready within ${timeoutMs} ms:\n${api.output()}`);
}
