// Integration tests for the open-model engine against real local HTTP servers.
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "undici";
import { describe, expect, it } from "vitest";
import { buildScript, freePort, useTestServers, type TestServer } from "../../test/support/index.ts";
import { createLatencyHistogram, intervalFailures, mergeRunResults, recordMs, summarize, summarizeHistogram } from "./run-result.ts";
import { lateThresholdFromEnv, runScript, type ProgressSnapshot } from "./run-script.ts";

const serve = useTestServers();

/**
 * A server that answers at once, except for one stall of 1 s: the first request arriving 0.5 s or more after its first
 * request is held for a whole second, and every request arriving meanwhile until the same moment. The stall starts at a
 * request, not at a clock time, so however late a busy machine sends, some request waits the full second.
 */
async function serveWithOneStall(): Promise<TestServer> {
  let firstAt: number | undefined;
  let stallEndsAt: number | undefined;
  return serve((_request, response) => {
    const now = performance.now();
    firstAt ??= now;
    if (stallEndsAt === undefined && now - firstAt >= 500) stallEndsAt = now + 1000;
    const holdMs = stallEndsAt !== undefined && now < stallEndsAt ? stallEndsAt - now : 0;
    setTimeout(() => response.end("ok"), holdMs);
  });
}

describe("runScript", () => {
  it("launches virtual users on schedule whatever the response time (open model)", { timeout: 20_000 }, async () => {
    const server = await serve((_request, response) => setTimeout(() => response.end("ok"), 50));
    const snapshots: ProgressSnapshot[] = [];
    const result = await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 3, arrivalRate: 100 }],
        scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/slow" }] }],
      }),
      { onProgress: (snapshot) => snapshots.push(snapshot) },
    );
    const summary = summarize(result);
    expect(result.counters.vusersCreated).toBeGreaterThanOrEqual(290);
    expect(result.counters.vusersCreated).toBeLessThanOrEqual(310);
    expect(result.counters.vusersCompleted).toBe(result.counters.vusersCreated);
    expect(result.counters.statusCodes).toEqual({ 200: result.counters.vusersCreated });
    // Closed with 1 connection this would take 15 s; open, every second launches its 100 users whatever the responses.
    // (Counters, not the elapsed time: a shared machine's clock figures are not asserted.)
    for (const interval of result.intervals.slice(0, 3)) expect(interval.vusersCreated).toBe(100);
    expect(summary.latency.p50).toBeGreaterThanOrEqual(50);
    expect(Object.keys(summary.endpoints)).toEqual(["GET /slow"]);
    expect(snapshots.length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it("reports a one-second server stall in its percentiles, where a closed-model measurement hides it", { timeout: 20_000 }, async () => {
    const script = (target: string) =>
      buildScript({
        target,
        phases: [{ duration: 2, arrivalRate: 100 }],
        scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }],
      });
    // The engine and the closed loop run side by side, each against its own stalling server. Sharing the event loop
    // can only add latency, and every latency below is checked against a lower bound only.
    const engineServer = await serveWithOneStall();
    const closedServer = await serveWithOneStall();

    // The closed model: one connection paced at 100/s that waits for each response, timed from the actual send.
    const runClosed = async () => {
      const client = new Client(closedServer.url);
      const closed = createLatencyHistogram();
      const start = performance.now();
      for (let next = start; performance.now() - start < 2000; next += 10) {
        await sleep(Math.max(0, next - performance.now()));
        const sentAt = performance.now();
        const response = await client.request({ path: "/", method: "GET" });
        await response.body.text();
        recordMs(closed, performance.now() - sentAt);
        if (performance.now() > next + 10) next = performance.now() - 10; // no catching up, like a paced closed loop
      }
      await client.close();
      const summary = summarizeHistogram(closed);
      closed.destroy();
      return summary;
    };
    const [engineResult, closedSummary] = await Promise.all([runScript(script(engineServer.url)), runClosed()]);
    const engine = summarize(engineResult);

    console.log(
      `CO test: engine p50 ${engine.latency.p50} p90 ${engine.latency.p90} p99 ${engine.latency.p99} max ${engine.latency.max} ms ` +
        `(n=${engine.latency.count}); closed p50 ${closedSummary.p50} p90 ${closedSummary.p90} p99 ${closedSummary.p99} ` +
        `max ${closedSummary.max} ms (n=${closedSummary.count})`,
    );
    expect(engine.counters.vusersCreated).toBe(200);
    expect(engine.latency.max).toBeGreaterThanOrEqual(900);
    expect(engine.latency.p99).toBeGreaterThanOrEqual(900);
    expect(engine.latency.p95).toBeGreaterThanOrEqual(500);
    expect(engine.latency.p90).toBeGreaterThanOrEqual(300);
    // The closed loop saw the stall on one request only: its max shows it, its percentiles do not.
    expect(closedSummary.max).toBeGreaterThanOrEqual(900);
    expect(closedSummary.count).toBeLessThan(engine.latency.count);
  });

  it("compares with autocannon on the same stalling server", { timeout: 20_000 }, async (context) => {
    // autocannon is packages/api's dev dependency, not ours: resolve it from there, and skip when it is absent.
    const require = createRequire(new URL("../../../api/package.json", import.meta.url));
    let autocannon: (options: Record<string, unknown>) => Promise<{ latency: Record<string, number>; requests: { total: number } }>;
    try {
      autocannon = require("autocannon");
    } catch {
      context.skip();
      return;
    }
    const uncorrectedServer = await serveWithOneStall();
    const uncorrected = await autocannon({
      url: uncorrectedServer.url,
      connections: 1,
      overallRate: 100,
      duration: 4,
      ignoreCoordinatedOmission: true,
    });
    const correctedServer = await serveWithOneStall();
    const corrected = await autocannon({ url: correctedServer.url, connections: 1, overallRate: 100, duration: 4 });
    const show = (r: { latency: Record<string, number>; requests: { total: number } }) =>
      `p50 ${r.latency.p50} p90 ${r.latency.p90} p99 ${r.latency.p99} max ${r.latency.max} ms (requests ${r.requests.total})`;
    console.log(`CO test: autocannon -c1 -R100 -C: ${show(uncorrected)}; autocannon -c1 -R100 (its own correction): ${show(corrected)}`);
    // Uncorrected, the stall shows only in the maximum, as in our closed-model comparison above.
    expect(uncorrected.latency.max).toBeGreaterThanOrEqual(900);
  });

  it("counts arrivals delayed by a stalled generator as late and includes the delay in latency", async () => {
    const server = await serve((_request, response) => response.end("ok"));
    setTimeout(() => {
      const until = performance.now() + 300;
      while (performance.now() < until); // block the generator's own event loop
    }, 500);
    const result = await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 1, arrivalRate: 100 }],
        scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }],
      }),
    );
    const summary = summarize(result);
    expect(result.counters.vusersCreated).toBe(100);
    expect(result.counters.arrivalsLate).toBeGreaterThanOrEqual(25);
    expect(result.maxLatenessMs).toBeGreaterThanOrEqual(250);
    expect(summary.latency.max).toBeGreaterThanOrEqual(250);
    // Timed from the actual send, the same requests look fast: that is the number a closed-model tool
    // reports. (A request already in flight when the loop blocked does see the stall, so not the max.)
    expect(summary.latency.p95).toBeGreaterThan(summary.serviceTime.p95);
  });

  it("captures a value from a JSON response and sends it in the next request", async () => {
    const seen: string[] = [];
    let nextId = 0;
    const server = await serve((request, response, body) => {
      seen.push(`${request.method} ${request.url} ${body}`);
      if (request.method === "POST") {
        response.setHeader("content-type", "application/json");
        response.end(JSON.stringify({ result: { data: { id: `cart-${++nextId}` } } }));
      } else response.end("ok");
    });
    const result = await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 0.2, arrivalCount: 3 }],
        scenarios: [
          {
            weight: 1,
            flow: [
              {
                kind: "request",
                method: "POST",
                url: "/carts",
                json: { currency: "EUR" },
                capture: [{ json: "$.result.data.id", as: "cartId" }],
              },
              { kind: "request", method: "GET", url: "/carts/{{ cartId }}", qs: { full: true } },
            ],
          },
        ],
      }),
    );
    expect(result.counters.vusersCompleted).toBe(3);
    expect(seen.filter((line) => line.startsWith("POST"))).toEqual(Array(3).fill('POST /carts {"currency":"EUR"}'));
    expect(seen.filter((line) => line.startsWith("GET")).sort()).toEqual(["GET /carts/cart-1?full=true ", "GET /carts/cart-2?full=true ", "GET /carts/cart-3?full=true "]);
    expect(Object.keys(result.histograms.endpoints).sort()).toEqual(["GET /carts/{{ cartId }}", "POST /carts"]);
  });

  it("collects every captured acknowledged order number, across shards, and counts 5xx answers per interval", async () => {
    // Every third order is refused with a 503 (no number); the others get the next number.
    let placed = 0;
    const server = await serve((_request, response) => {
      placed += 1;
      if (placed % 3 === 0) {
        response.writeHead(503, { "content-type": "application/json" });
        response.end('{"error":{"message":"overloaded"}}');
        return;
      }
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ result: { data: { number: String(100000 + placed) } } }));
    });
    const script = {
      ...buildScript({
        target: server.url,
        phases: [{ duration: 0.5, arrivalRate: 120 }],
        scenarios: [
          {
            weight: 1,
            flow: [{ kind: "request" as const, method: "POST" as const, url: "/trpc/checkout.placeOrder", capture: [{ json: "$.result.data.number", as: "orderNumber" }] }],
          },
        ],
      }),
      invariants: { adminTokenEnv: "T", acknowledgedOrders: "orderNumber" },
    };
    const shards = await Promise.all([0, 1].map((index) => runScript(script, { shard: { index, count: 2 } })));
    const result = mergeRunResults(shards);
    const expected = Array.from({ length: placed }, (_, i) => i + 1)
      .filter((n) => n % 3 !== 0)
      .map((n) => String(100000 + n));
    expect(placed).toBe(60);
    expect([...(result.acknowledgedOrders ?? [])].sort()).toEqual(expected.sort());
    // A 503 with no expect is not "unexpected", but it is a failure of the interval it ended in.
    expect(result.counters.unexpectedStatus).toBe(0);
    expect(result.intervals.reduce((n, i) => n + (i.serverErrors ?? 0), 0)).toBe(20);
    expect(result.intervals.reduce((n, i) => n + intervalFailures(i), 0)).toBe(20);
    // Its capture then finds no number: the virtual user fails, and nothing is collected for it.
    expect(result.counters.vuserErrors).toEqual({ ECAPTURE: 20 });
    // Without the plugin's variable nothing is collected.
    expect((await runScript({ ...script, invariants: undefined })).acknowledgedOrders).toBeUndefined();
  });

  it("fails a virtual user whose capture matches nothing, and skips its remaining steps", async () => {
    let requests = 0;
    const server = await serve((_request, response) => {
      requests++;
      response.end("{}");
    });
    const result = await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 0.2, arrivalCount: 2 }],
        scenarios: [
          {
            weight: 1,
            flow: [
              { kind: "request", method: "GET", url: "/a", capture: [{ json: "$.id", as: "id" }] },
              { kind: "request", method: "GET", url: "/b" },
            ],
          },
        ],
      }),
    );
    expect(result.counters.vusersFailed).toBe(2);
    expect(result.counters.vuserErrors).toEqual({ ECAPTURE: 2 });
    expect(requests).toBe(2);
  });

  it("fails a virtual user on a status outside expectStatus and stops its flow", async () => {
    const paths: string[] = [];
    const server = await serve((request, response) => {
      paths.push(request.url ?? "");
      response.statusCode = 500;
      response.end("boom");
    });
    const result = await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 0.2, arrivalCount: 4 }],
        scenarios: [
          {
            weight: 1,
            flow: [
              { kind: "request", method: "GET", url: "/first", expectStatus: [200, 201] },
              { kind: "request", method: "GET", url: "/second" },
            ],
          },
        ],
      }),
    );
    const summary = summarize(result);
    expect(result.counters.vusersFailed).toBe(4);
    expect(result.counters.vusersCompleted).toBe(0);
    expect(result.counters.unexpectedStatus).toBe(4);
    expect(result.intervals.reduce((sum, interval) => sum + (interval.unexpected ?? 0), 0)).toBe(4);
    expect(result.counters.statusCodes).toEqual({ 500: 4 });
    expect(paths).toEqual(Array(4).fill("/first"));
    expect(summary.vuserFailureRate).toBe(1);
    expect(summary.requestErrorRate).toBe(1);
  });

  it("times a request out after config.http.timeout and fails its virtual user", async () => {
    const server = await serve(() => {
      // never answers
    });
    const result = await runScript(
      buildScript({
        target: server.url,
        timeoutSeconds: 0.2,
        phases: [{ duration: 0.5, arrivalCount: 5 }],
        scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/hang" }] }],
      }),
    );
    // The server never answers: five ETIMEDOUT (and the run ending at all) show each request gave up at the timeout.
    expect(result.counters.errors).toEqual({ ETIMEDOUT: 5 });
    expect(result.counters.vusersFailed).toBe(5);
    expect(summarize(result).requestErrorRate).toBe(1);
  });

  it("counts a refused connection by its errno", async () => {
    const result = await runScript(
      buildScript({
        target: `http://127.0.0.1:${await freePort()}`,
        phases: [{ duration: 0.2, arrivalCount: 3 }],
        scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }],
      }),
    );
    expect(result.counters.errors).toEqual({ ECONNREFUSED: 3 });
    expect(result.counters.vusersFailed).toBe(3);
  });

  it("drops arrivals beyond the phase's maxVusers", async () => {
    // Each answer is held past the phase's end, so the first 5 users are still active when the other arrivals come.
    const server = await serve((_request, response) => setTimeout(() => response.end("ok"), 1000));
    const result = await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 0.5, arrivalRate: 40, maxVusers: 5 }],
        scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }],
      }),
    );
    expect(result.counters.arrivalsPlanned).toBe(20);
    expect(result.counters.vusersCreated).toBe(5);
    expect(result.counters.vusersDropped).toBe(15);
    expect(result.counters.vusersCompleted).toBe(5);
  });

  it("repeats loops and waits on think, timing later requests from their intended send", async () => {
    let requests = 0;
    const server = await serve((_request, response) => {
      requests++;
      response.end("ok");
    });
    const started = performance.now();
    const result = await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 0.1, arrivalCount: 2 }],
        scenarios: [
          {
            weight: 1,
            flow: [
              {
                kind: "loop",
                count: 2,
                steps: [
                  { kind: "request", method: "GET", url: "/item" },
                  { kind: "think", seconds: 1 },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(2000);
    expect(requests).toBe(4);
    expect(result.counters.vusersCompleted).toBe(2);
    // Whether think time stays out of latency is a timing figure, so it is not asserted here: the four requests and
    // the completed users show the loop and its thinks ran.
  });

  it("picks scenarios by weight", async () => {
    const counts: Record<string, number> = {};
    const server = await serve((request, response) => {
      counts[request.url ?? ""] = (counts[request.url ?? ""] ?? 0) + 1;
      response.end("ok");
    });
    await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 0.5, arrivalCount: 400 }],
        scenarios: [
          { weight: 3, flow: [{ kind: "request", method: "GET", url: "/heavy" }] },
          { weight: 1, flow: [{ kind: "request", method: "GET", url: "/light" }] },
        ],
      }),
    );
    expect(counts["/heavy"]).toBeGreaterThan(240);
    expect(counts["/light"]).toBeGreaterThan(60);
  });

  it("runs shards whose merged result equals the whole run's counts", async () => {
    const server = await serve((_request, response) => response.end("ok"));
    const script = buildScript({
      target: server.url,
      phases: [{ duration: 0.5, arrivalRate: 100 }],
      scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }],
    });
    const shards = await Promise.all([0, 1].map((index) => runScript(script, { shard: { index, count: 2 } })));
    const merged = summarize(mergeRunResults(shards));
    expect(shards.map((s) => s.counters.vusersCreated)).toEqual([25, 25]);
    expect(merged.counters.vusersCreated).toBe(50);
    expect(merged.counters.statusCodes).toEqual({ 200: 50 });
    expect(merged.latency.count).toBe(50);
    expect(merged.endpoints["GET /"]?.count).toBe(50);
  });

  it("stops launching arrivals when aborted", async () => {
    const server = await serve((_request, response) => response.end("ok"));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 5, arrivalRate: 10 }],
        scenarios: [{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }],
      }),
      { signal: controller.signal },
    );
    expect(result.aborted).toBe(true);
    expect(result.counters.vusersCreated).toBeLessThanOrEqual(4);
  });
});

describe("LOADTEST_LATE_MS", () => {
  it("is 10 ms unless set, takes a whole number of milliseconds, and refuses anything else by name", () => {
    expect(lateThresholdFromEnv({})).toBe(10);
    expect(lateThresholdFromEnv({ LOADTEST_LATE_MS: "" })).toBe(10);
    expect(lateThresholdFromEnv({ LOADTEST_LATE_MS: "250" })).toBe(250);
    for (const bad of ["0", "-5", "2.5", "abc", "60001"]) {
      expect(() => lateThresholdFromEnv({ LOADTEST_LATE_MS: bad })).toThrow(`LOADTEST_LATE_MS is "${bad}"`);
    }
  });
});
