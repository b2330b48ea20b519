// Fault: far more concurrent requests than the database pool allows. Admission control sheds the
// excess at once with 503 + Retry-After and a typed error body, every request gets an answer, and the
// admitted ones finish within a bound set by the queue deadline rather than the pool's unbounded queue.
import http from "node:http";
import pg from "pg";
import { percentile } from "@checkout/bench-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./support/app.ts";

/** Ten times what admission control lets in or queues (MAX_IN_FLIGHT 4 + ADMISSION_QUEUE_MAX 8). */
const CONCURRENT = 120;
const QUEUE_TIMEOUT_MS = 300;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    DB_POOL_MAX: "2",
    MAX_IN_FLIGHT: "4",
    ADMISSION_QUEUE_MAX: "8",
    ADMISSION_QUEUE_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS),
    CATALOG_CACHE_MS: "0",
    LOG_LEVEL: "warn",
  });
});
afterAll(async () => {
  await t?.close();
});

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
  ms: number;
}

/** One request on its own connection, so all of them are really in flight at once. */
function request(method: "GET" | "POST", path: string, body?: string): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: t.app.port, method, path, agent: false, headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {} },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body: text, ms: performance.now() - started }));
        res.on("error", reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error("client timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

describe(`overload: ${CONCURRENT} concurrent requests against a pool of 2`, () => {
  it("sheds the excess with 503 + Retry-After and answers every request, the admitted ones within the client's timeout", async () => {
    const catalogList = `/trpc/catalog.list?input=${encodeURIComponent(JSON.stringify({ currency: "USD" }))}`;
    // The overload is made certain rather than left to how fast this (shared) machine can open its sockets: while the
    // cart table is locked, admitted cart.create calls hold their slots, so the rest must queue and be shed. The lock
    // goes as soon as the service has shed something (its own counter), or after 5 s.
    const locker = new pg.Client({ connectionString: t.database.url });
    await locker.connect();
    await locker.query("begin");
    await locker.query("lock table cart in access exclusive mode");
    const started = performance.now();
    const burst = Array.from({ length: CONCURRENT }, (_, i) =>
      i % 2 === 0 ? request("POST", "/trpc/cart.create", JSON.stringify({ currency: "USD" })) : request("GET", catalogList),
    );
    // Health, readiness and metrics bypass admission control while the burst is queued.
    const [health, metricsDuringBurst] = await Promise.all([request("GET", "/health"), request("GET", "/metrics")]);
    const unlockBy = performance.now() + 5000;
    while (performance.now() < unlockBy && !/^http_requests_shed_total\{reason="[a-z_]+"\} [1-9]/m.test((await request("GET", "/metrics")).body)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await locker.query("commit");
    await locker.end();
    const settled = await Promise.allSettled(burst);
    const wallMs = performance.now() - started;

    expect(health.status).toBe(200);
    expect(metricsDuringBurst.status).toBe(200);
    const failures = settled.filter((result) => result.status === "rejected");
    expect(failures.map((result) => String(result.reason))).toEqual([]);
    const answers = settled.map((result) => (result as PromiseFulfilledResult<Answer>).value);
    expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 503).map((a) => `${a.status} ${a.body}`)).toEqual([]);

    const admitted = answers.filter((answer) => answer.status === 200);
    const shed = answers.filter((answer) => answer.status === 503);
    expect(admitted.length).toBeGreaterThan(0);
    expect(shed.length).toBeGreaterThan(0);
    for (const answer of shed) {
      expect(answer.retryAfter).toBe("1");
      expect(JSON.parse(answer.body)).toMatchObject({
        error: { data: { httpStatus: 503, code: "SERVICE_UNAVAILABLE", appCode: "OVERLOADED", details: { retryAfterSeconds: 1 } } },
      });
    }
    // Admitted requests wait at most the queue deadline for a slot, then run on a pool of 2: none was left to the
    // client's own 20 s timeout (a rejection above), so the pool's unbounded queue held nothing. Reported, not asserted.
    const admittedMs = admitted.map((answer) => answer.ms).sort((a, b) => a - b);
    const admittedP99 = percentile(admittedMs, 0.99);

    const metrics = (await request("GET", "/metrics")).body;
    const shedCounted = [...metrics.matchAll(/^http_requests_shed_total\{reason="\w+"\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(shedCounted).toBe(shed.length);
    expect(metrics).toMatch(/^http_requests_queued 0$/m);
    expect((await request("GET", "/ready")).status).toBe(200);

    // Shed requests are logged as a summary at most once a second, not a line each (that line was a large share of
    // the cost of a 503 under a retry storm); the summaries add up to every shed request.
    // Waits for the summaries to account for every shed request (the last one comes within a second), not a fixed time.
    const logged = () => t.logs.map((line) => JSON.parse(line) as { msg: string; status?: number; shed?: number; level: number });
    const summariesOf = () => logged().filter((line) => line.msg === "admission control shed requests (503 OVERLOADED)");
    const summedBy = performance.now() + 10_000;
    while (summariesOf().reduce((sum, line) => sum + (line.shed ?? 0), 0) < shed.length && performance.now() < summedBy) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(logged().filter((line) => line.msg === "request" && line.status === 503)).toEqual([]);
    const summaries = summariesOf();
    expect(summaries.length).toBeGreaterThan(0);
    expect(summaries.reduce((sum, line) => sum + (line.shed ?? 0), 0)).toBe(shed.length);
    expect(logged().filter((line) => line.msg === "request" && line.status === 200).length).toBeGreaterThanOrEqual(admitted.length);

    const carts = await t.database.db
      .selectFrom("cart")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    const createdOk = answers.filter((answer, i) => i % 2 === 0 && answer.status === 200).length;
    expect(Number(carts.n)).toBe(createdOk);

    console.log(
      `[fault-overload] ${CONCURRENT} concurrent, pool 2, in-flight 4, queue 8/${QUEUE_TIMEOUT_MS} ms: admitted ${admitted.length}, shed ${shed.length} (503 + Retry-After), unanswered 0; ` +
        `admitted p50 ${Math.round(percentile(admittedMs, 0.5))} ms p99 ${Math.round(admittedP99)} ms; shed p99 ${Math.round(
          percentile(
            shed.map((a) => a.ms).sort((a, b) => a - b),
            0.99,
          ),
        )} ms; burst wall ${Math.round(wallMs)} ms`,
    );
  });
});
