// A process crash under load: two API processes behind HAProxy, one killed with SIGKILL. Only requests in flight
// on it may fail (HAProxy retries refused connections elsewhere); its health check takes it out of the backend.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiProcess, waitUntilReady, type ApiProcess } from "../scripts/rehearse/api-process.ts";
import { ensureHaproxy, startHaproxy, type Haproxy } from "../scripts/rehearse/haproxy.ts";
import { startPaymentSandbox, type PaymentSandbox } from "@checkout/payment-sandbox";
import { freePort } from "../scripts/free-port.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { waitUntil } from "./support/wait.ts";

let database: TestDatabase;
let sandbox: PaymentSandbox;
let haproxy: Haproxy;
let dir: string;
const apis: ApiProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  dir = mkdtempSync(path.join(os.tmpdir(), "crash-"));
  const secretKey = "sk_crash_test_0123456789";
  sandbox = await startPaymentSandbox({ port: 0, host: "127.0.0.1", secretKey, allowedParentOrigins: [] });
  const ports = { blue: await freePort(), green: await freePort() };
  for (const [slot, port] of Object.entries(ports)) {
    apis.push(
      startApiProcess({
        version: slot,
        port,
        databaseUrl: database.url,
        paymentUrl: sandbox.url,
        paymentSecretKey: secretKey,
        webhookSecret: "whsec_crash_test_0123456789",
        adminToken: "crash-test-admin-token-0123456789",
      }),
    );
  }
  await Promise.all(apis.map((api) => waitUntilReady(api, 90_000)));
  haproxy = await startHaproxy(
    ensureHaproxy(() => {}),
    { dir, port: await freePort(), backends: ports, live: "both" },
  );
  await waitUntil("haproxy to mark both servers UP", async () => (await haproxy.server("blue")).status === "UP" && (await haproxy.server("green")).status === "UP", 15_000, 100);
}, 120_000);

afterAll(async () => {
  for (const api of apis) api.kill("SIGKILL");
  await Promise.all(apis.map((api) => api.exited));
  await haproxy?.stop();
  await sandbox?.close();
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `workers` loops creating carts through the balancer until stopped; counts answers by outcome. */
function startLoad(target: string, workers: number) {
  const counts = { ok: 0, failed: 0, failures: [] as string[] };
  let isRunning = true;
  const loops = Array.from({ length: workers }, async () => {
    while (isRunning) {
      try {
        const response = await fetch(`${target}/trpc/cart.create`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ currency: "USD" }),
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        if (response.ok) counts.ok += 1;
        else {
          counts.failed += 1;
          counts.failures.push(String(response.status));
        }
      } catch (error) {
        counts.failed += 1;
        counts.failures.push(error instanceof Error ? error.name : "error");
      }
    }
  });
  return {
    counts,
    async stop() {
      isRunning = false;
      await Promise.all(loops);
      return { ...counts, failures: [...counts.failures] };
    },
  };
}

describe("SIGKILL of one of two API processes under load", () => {
  it("loses at most the requests in flight on it, and HAProxy's health check removes it", { timeout: 60_000 }, async () => {
    // Load through both servers (round robin) before the kill: a hundred answers, not a fixed time.
    const load = startLoad(haproxy.url, 8);
    await waitUntil("100 answers through the balancer before the kill", () => load.counts.ok >= 100 || load.counts.failed > 0, 30_000);
    const beforeKill = { ...load.counts };
    expect(beforeKill.failed).toBe(0);

    const killedAt = Date.now();
    apis[0]!.kill("SIGKILL");
    await waitUntil("haproxy to mark the killed server down", async () => !(await haproxy.server("blue")).status.startsWith("UP"), 15_000, 50);
    const downAfterMs = Date.now() - killedAt;
    const atDown = { ...load.counts, failures: [...load.counts.failures] };

    // With blue DOWN, every request goes to green: as many answers again, none of them failed.
    await waitUntil("100 answers through the balancer after blue was DOWN", () => load.counts.ok - atDown.ok >= 100 || load.counts.failed > atDown.failed, 30_000);
    const final = await load.stop();
    const lostAtKill = atDown.failed - beforeKill.failed;
    console.log(
      `SIGKILL: blue marked ${(await haproxy.server("blue")).status} after ${downAfterMs} ms; ${lostAtKill} requests failed around the kill ` +
        `(${atDown.failures.join(", ")}), ${final.failed - atDown.failed} after it was DOWN; ${final.ok} succeeded in all`,
    );

    expect(await apis[0]!.exited).toBeNull();
    // Only requests sent to the dying process before HAProxy saw it die fail (measured 3–9 with 8 loops; a loop can
    // lose two on connections HAProxy had open to it), and at once: HAProxy closes
    // the client's connection or answers 5xx, never a timeout; new connections it refuses are retried on the other.
    expect(atDown.failures.filter((failure) => !/^(5\d\d|TypeError)$/.test(failure))).toEqual([]);
    expect(lostAtKill).toBeLessThanOrEqual(40);
    expect(final.failed - atDown.failed).toBe(0);
    expect(final.ok - atDown.ok).toBeGreaterThan(0);
    expect((await haproxy.server("green")).status).toBe("UP");
  });
});
