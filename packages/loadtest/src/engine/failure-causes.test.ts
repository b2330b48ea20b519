// Why virtual users failed: the causes a run counts against real local node:http targets (tRPC-shaped refusals, captures
// that find nothing, refused connections, hostile bodies), the cap on distinct causes, and exact merging.
import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { buildScript, freePort, useTestServers } from "../../test/support/index.ts";
import { countFailure, errorCodeOfBody, errorsLine, FAILURE_CAUSE_LIMIT, failureCauseRows, failureLines, mergeFailureCauses, OTHER_FAILURES } from "./failure-causes.ts";
import { runScriptParallel } from "./run-parallel.ts";
import { createCounters, mergeRunResults, type RunCounters } from "./run-result.ts";
import { runScript, type ProgressSnapshot } from "./run-script.ts";

const serve = useTestServers();

/** A refusal as the checkout API sends one (packages/api/src/trpc.ts's error formatter, no transformer). */
function trpcRefusal(response: ServerResponse, status: number, code: string, appCode: string, path: string): void {
  const body = JSON.stringify({ error: { message: `refused: ${appCode}`, code: -32009, data: { code, httpStatus: status, path, appCode, details: null } } });
  response.writeHead(status, { "content-type": "application/json" }).end(body);
}

const total = (causes: Record<string, number> | undefined) => Object.values(causes ?? {}).reduce((sum, count) => sum + count, 0);

describe("errorCodeOfBody", () => {
  it("reads tRPC's code with the application's code, its transformer's and a batch's shapes, and plain JSON errors", () => {
    const data = { code: "CONFLICT", httpStatus: 409, appCode: "OUT_OF_STOCK" };
    expect(errorCodeOfBody(JSON.stringify({ error: { message: "m", code: -32009, data } }))).toBe("CONFLICT (OUT_OF_STOCK)");
    expect(errorCodeOfBody(JSON.stringify({ error: { json: { message: "m", code: -32012, data: { code: "PRECONDITION_FAILED", httpStatus: 412 } } } }))).toBe(
      "PRECONDITION_FAILED",
    );
    expect(errorCodeOfBody(JSON.stringify([{ result: { data: 1 } }, { error: { message: "m", data } }]))).toBe("CONFLICT (OUT_OF_STOCK)");
    expect(errorCodeOfBody(JSON.stringify({ error: { code: "NOT_FOUND", message: "No file at /x.js" } }))).toBe("NOT_FOUND");
    expect(errorCodeOfBody(JSON.stringify({ error: "invalid_grant" }))).toBe("invalid_grant");
    expect(errorCodeOfBody(JSON.stringify({ code: "card_declined" }))).toBe("card_declined");
  });

  it("names nothing for bodies that are not JSON, codes that are not words, and bodies over the limit", () => {
    expect(errorCodeOfBody(undefined)).toBeUndefined();
    expect(errorCodeOfBody("<html>502 Bad Gateway</html>")).toBeUndefined();
    expect(errorCodeOfBody(JSON.stringify({ error: { code: -32600, message: "m" } }))).toBeUndefined();
    expect(errorCodeOfBody(JSON.stringify({ error: { code: "a code with spaces · and a separator" } }))).toBeUndefined();
    expect(errorCodeOfBody(JSON.stringify({ error: { code: "X".repeat(65) } }))).toBeUndefined();
    expect(errorCodeOfBody(JSON.stringify({ error: { code: "CONFLICT", padding: "x".repeat(17_000) } }))).toBeUndefined();
  });
});

describe("the causes a run counts", () => {
  it("names the scenario, the step, the request, the status and the tRPC code of each failed virtual user", { timeout: 30_000 }, async () => {
    let addLines = 0;
    let refused = 0;
    const server = await serve((request, response) => {
      if (request.url === "/trpc/cart.addLine") {
        // Every third user finds the SKU sold out, as a shop answers once its stock is gone.
        if (++addLines % 3 === 0) {
          refused++;
          trpcRefusal(response, 409, "CONFLICT", "OUT_OF_STOCK", "cart.addLine");
        } else response.writeHead(200, { "content-type": "application/json" }).end('{"result":{"data":{}}}');
        return;
      }
      response.writeHead(200, { "content-type": "application/json" }).end('{"result":{"data":{"id":"c1"}}}');
    });
    const closedPort = await freePort();
    const result = await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 1, arrivalCount: 30 }],
        scenarios: [
          {
            name: "check out",
            weight: 1,
            flow: [
              { kind: "request", method: "POST", url: "/trpc/cart.create", capture: [{ json: "$.result.data.id", as: "cartId" }] },
              { kind: "think", seconds: 0 },
              { kind: "request", method: "POST", url: "/trpc/cart.addLine", json: { cartId: "{{ cartId }}" }, expectStatus: [200] },
            ],
          },
        ],
      }),
      {},
    );
    const { counters } = result;
    expect(counters.vusersCreated).toBe(30);
    expect(refused).toBe(10);
    expect(counters.vusersFailed).toBe(10);
    expect(counters.failures).toEqual({ "check out · step 3 POST /trpc/cart.addLine · 409 CONFLICT (OUT_OF_STOCK)": 10 });
    expect(errorsLine(counters)).toBe("errors: unexpected status: 10; 10 virtual users failed");
    expect(failureLines(counters)).toEqual([
      "failed virtual users by cause (scenario · step · status and error code):",
      "  10  check out · step 3 POST /trpc/cart.addLine · 409 CONFLICT (OUT_OF_STOCK)",
    ]);

    // A capture that finds nothing inside a loop; a refused connection in a scenario without a name.
    const runOne = (scenario: Parameters<typeof buildScript>[0]["scenarios"][number]) =>
      runScript(buildScript({ target: server.url, phases: [{ duration: 1, arrivalCount: 4 }], scenarios: [scenario] }), {});
    const browse = await runOne({
      name: "browse",
      weight: 1,
      flow: [
        { kind: "request", method: "GET", url: "/catalog" },
        { kind: "loop", count: 2, steps: [{ kind: "request", method: "GET", url: "/catalog", capture: [{ json: "$.result.data.missing", as: "gone" }] }] },
      ],
    });
    expect(browse.counters.failures).toEqual({ "browse · step 2.1 GET /catalog · 200 ECAPTURE": 4 });
    const down = await runOne({ weight: 1, flow: [{ kind: "request", method: "GET", url: `http://127.0.0.1:${closedPort}/down` }] });
    expect(down.counters.failures).toEqual({ [`scenario 1 · step 1 GET http://127.0.0.1:${closedPort}/down · ECONNREFUSED`]: 4 });
    expect(errorsLine(down.counters)).toBe("errors: ECONNREFUSED: 4; 4 virtual users failed");

    // Shards merge key by key.
    const merged = mergeRunResults([result, browse, down]);
    expect(merged.counters.failures).toEqual({ ...result.counters.failures, ...browse.counters.failures, ...down.counters.failures });
    expect(total(merged.counters.failures)).toBe(merged.counters.vusersFailed);
  });

  it("keeps no error body past the limit: a hostile 1 MB refusal is counted by its status alone", { timeout: 30_000 }, async () => {
    const server = await serve((_request, response) => {
      response.writeHead(409, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "CONFLICT", padding: "x".repeat(1024 * 1024) } }));
    });
    const result = await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 1, arrivalCount: 5 }],
        scenarios: [{ name: "hostile", weight: 1, flow: [{ kind: "request", method: "GET", url: "/", expectStatus: [200] }] }],
      }),
      {},
    );
    expect(result.counters.failures).toEqual({ "hostile · step 1 GET / · 409": 5 });
  });

  it("caps the distinct causes however many codes the target invents, every failure still counted", { timeout: 30_000 }, async () => {
    let served = 0;
    const server = await serve((_request, response) => {
      served++;
      trpcRefusal(response, 409, `CODE_${served}`, `APP_${served}`, "x");
    });
    const result = await runScript(
      buildScript({
        target: server.url,
        phases: [{ duration: 1, arrivalCount: 120 }],
        scenarios: [{ name: "s", weight: 1, flow: [{ kind: "request", method: "POST", url: "/x", expectStatus: [200] }] }],
      }),
      {},
    );
    const failures = result.counters.failures ?? {};
    expect(result.counters.vusersFailed).toBe(120);
    expect(Object.keys(failures).filter((key) => key !== OTHER_FAILURES)).toHaveLength(FAILURE_CAUSE_LIMIT);
    expect(failures[OTHER_FAILURES]).toBe(120 - FAILURE_CAUSE_LIMIT);
    expect(total(failures)).toBe(120);
    expect(failureCauseRows(result.counters).at(-1)).toEqual([`other (causes beyond the first ${FAILURE_CAUSE_LIMIT})`, "70"]);
    const lines = failureLines(result.counters);
    expect(lines).toHaveLength(1 + 20 + 1);
    expect(lines.at(-1)).toBe("  … 31 more causes, 100 failures (the saved result has them all)");
  });

  it("merges the causes of worker threads exactly, in the result and in the progress", { timeout: 30_000 }, async () => {
    let served = 0;
    const server = await serve((_request, response) => {
      if (++served % 4 === 0) trpcRefusal(response, 412, "PRECONDITION_FAILED", "QUOTE_EXPIRED", "checkout.placeOrder");
      else response.end("{}");
    });
    const snapshots: ProgressSnapshot[] = [];
    const result = await runScriptParallel(
      buildScript({
        target: server.url,
        phases: [{ duration: 2, arrivalCount: 200 }],
        scenarios: [{ name: "check out", weight: 1, flow: [{ kind: "request", method: "POST", url: "/trpc/checkout.placeOrder", expectStatus: [200] }] }],
      }),
      { workers: 2, onProgress: (snapshot) => snapshots.push(snapshot) },
    );
    expect(served).toBe(200);
    expect(result.counters.failures).toEqual({ "check out · step 1 POST /trpc/checkout.placeOrder · 412 PRECONDITION_FAILED (QUOTE_EXPIRED)": 50 });
    expect(result.counters.vusersFailed).toBe(50);
    // The last snapshot's counters are the workers' final ones added up (sumCounters).
    expect(snapshots.at(-1)?.counters.failures).toEqual(result.counters.failures);
  });
});

describe("countFailure and mergeFailureCauses", () => {
  const causes = (prefix: string, count: number, each = 1) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix} · ${i}`, each]));

  it("counts a new cause past the limit under other, and known causes by name", () => {
    const counted: Record<string, number> = {};
    for (let i = 0; i < FAILURE_CAUSE_LIMIT + 5; i++) countFailure(counted, `s · ${i}`);
    countFailure(counted, "s · 0");
    expect(counted["s · 0"]).toBe(2);
    expect(counted[OTHER_FAILURES]).toBe(5);
    expect(Object.keys(counted)).toHaveLength(FAILURE_CAUSE_LIMIT + 1);
  });

  it("adds key by key while the union fits the limit", () => {
    expect(mergeFailureCauses([{ "a · 1": 2, "b · 1": 1 }, undefined, { "a · 1": 3, "c · 1": 4 }])).toEqual({ "a · 1": 5, "b · 1": 1, "c · 1": 4 });
  });

  it("beyond the limit keeps the most frequent causes whatever the order, and the total exact", () => {
    const a: Record<string, number> = { ...causes("a", 40, 2), [OTHER_FAILURES]: 3 };
    const b = causes("b", 40, 1);
    const merged = mergeFailureCauses([a, b]);
    expect(mergeFailureCauses([b, a])).toEqual(merged);
    expect(Object.keys(merged).filter((key) => key !== OTHER_FAILURES)).toHaveLength(FAILURE_CAUSE_LIMIT);
    expect(Object.keys(a).every((key) => merged[key] === a[key] || key === OTHER_FAILURES)).toBe(true);
    expect(total(merged)).toBe(total(a) + total(b));
    expect(merged[OTHER_FAILURES]).toBe(3 + 30);
  });
});

describe("errorsLine", () => {
  const counters = (over: Partial<RunCounters>): RunCounters => ({ ...createCounters(), ...over });

  it("never says none when virtual users failed", () => {
    expect(errorsLine(counters({}))).toBe("errors: none");
    expect(errorsLine(counters({ vusersFailed: 5, unexpectedStatus: 5 }))).toBe("errors: unexpected status: 5; 5 virtual users failed");
    expect(errorsLine(counters({ vusersFailed: 3, errors: { ECONNREFUSED: 2 }, vuserErrors: { ECAPTURE: 1 } }))).toBe(
      "errors: ECONNREFUSED: 2, ECAPTURE: 1; 3 virtual users failed",
    );
    expect(errorsLine(counters({ vusersFailed: 1 }))).toBe("errors: 1 virtual user failed");
  });
});
