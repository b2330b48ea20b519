// SIGTERM on the real server process: it stops accepting, finishes the request in flight, exits 0.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../scripts/free-port.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { waitForOk } from "./support/wait.ts";

const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let database: TestDatabase;
let child: ChildProcess;
let output = "";
let port: number;

beforeAll(async () => {
  database = await createTestDatabase();
  port = await freePort();
  child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: apiRoot,
    env: {
      ...process.env,
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: database.url,
      PAYMENT_SANDBOX_PORT: "0",
      WEB_DIST: "/nonexistent",
      LOG_LEVEL: "info",
      SHUTDOWN_TIMEOUT_MS: "10000",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await waitForOk(`http://127.0.0.1:${port}/ready`, 30_000, () => output);
});

afterAll(async () => {
  if (child.exitCode === null) child.kill("SIGKILL");
  await database?.drop();
});

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

describe("SIGTERM", () => {
  it("refuses new connections, completes the in-flight request, closes the pool and exits 0", async () => {
    const body = JSON.stringify({ currency: "EUR" });
    const socket = await connect();
    let response = "";
    socket.on("data", (chunk: Buffer) => (response += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    // Send the headers and half the body: the request is now in flight on the server.
    socket.write(`POST /trpc/cart.create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const sigtermAt = performance.now();
    child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 500));

    await expect(connect()).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(child.exitCode).toBeNull();

    const resumedAt = performance.now();
    socket.write(body.slice(5));
    await closed;
    const answeredMs = performance.now() - resumedAt;
    expect(response).toMatch(/^HTTP\/1.1 200 OK/);
    expect(response).toMatch(/connection: close/i);
    expect(response).toMatch(/"currency":"EUR"/);

    expect(await exited).toBe(0);
    const exitMs = performance.now() - sigtermAt;
    // The drain finished on its own: the server did not sit out its grace period (SHUTDOWN_TIMEOUT_MS, 10 s here).
    expect(output).toMatch(/"timedOut":false/);
    console.log(
      `[fault-sigterm] in-flight request answered 200 ${Math.round(answeredMs)} ms after its body resumed; new connection refused; exit 0 ${Math.round(exitMs)} ms after SIGTERM (stop timeout 10,000 ms)`,
    );
    expect(output).toContain("shutting down");
    expect(output).toMatch(/"timedOut":false/);
    const carts = await database.db.selectFrom("cart").select("currency").execute();
    expect(carts).toEqual([{ currency: "EUR" }]);
  });
});
