// The shipped scripts against the real service, in CI: the basic baseline at its 100 → 200 req/s rate and
// the short `ci` variants of the others apply their whole load within their error budgets, and the checkout
// journey places real orders, also once some of its SKUs have sold out.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeHistogram, type RunResult } from "../src/engine/run-result.ts";
import {
  failedVerdicts,
  loadScript,
  plannedArrivals,
  runOurs,
  shippedScripts,
  startService,
  withPhaseDurations,
  type OurRun,
  type RunArgs,
  type RunningService,
} from "./support/index.ts";

/**
 * Each script's `ci` phases run here at their shipped rates, ramps and thresholds but shorter (seconds per ci phase):
 * every rate each ci environment reaches (the basic 100 → 200 req/s, the spike's 500/s burst, the stress ramp to
 * 400/s) is still applied, for about a third of the time. The checkout journey keeps 6 s of its 10 → 30/s ramp:
 * 120 shoppers, so that some check out (one in ten does: no check-out at all has a chance of about 3 in a million).
 */
const ciSeconds: Record<string, number[]> = {
  "checkout-journey.yml": [6],
  "load-test-basic.yml": [1, 3],
  "load-test-endurance.yml": [3],
  "load-test-spike.yml": [1, 1, 1],
  "load-test-stress.yml": [3],
};

const copies: string[] = [];

let service: RunningService;

beforeAll(async () => {
  service = await startService();
});

afterAll(async () => {
  await service?.stop();
  for (const copy of copies) rmSync(path.dirname(copy), { recursive: true, force: true });
});

/** The shipped script with its ci phases shortened to ciSeconds (every shipped script must have an entry). */
function shortCi(script: string): string {
  const seconds = ciSeconds[script];
  if (seconds === undefined) throw new Error(`${script}: give its ci phase durations in ciSeconds`);
  const copy = withPhaseDurations(script, "ci", seconds);
  copies.push(copy);
  return copy;
}

function ciArgs(script: string): RunArgs {
  return {
    script,
    target: service.url,
    environment: "ci",
    variables: { paymentUrl: service.paymentUrl },
    env: { CHECKOUT_ADMIN_TOKEN: service.adminToken },
  };
}

/**
 * The run finished, applied its whole planned load and kept its error budget. Its latency thresholds are
 * evaluated and printed, but not judged here: a p95 on two shared cores measures the machine, not the
 * service (speed is measured in `pnpm bench`). Every other verdict must pass.
 */
function expectPassed(script: string, run: OurRun): void {
  const parsed = loadScript(script, "ci");
  console.info(`${path.basename(script)} -e ci (${ciSeconds[path.basename(script)]?.join(" + ")} s):\n${run.stdout}`);
  const failed = failedVerdicts(run);
  expect([0, 1], `${run.stdout}\n${run.stderr}`).toContain(run.code);
  expect(failed.isTimingOnly, `only timing verdicts may fail:\n${failed.lines.join("\n")}`).toBe(true);
  expect(run.stdout).toMatch(/^verdict: (PASS|FAIL)$/m);
  for (const { metric } of parsed.ensure.thresholds) expect(run.stdout).toMatch(new RegExp(`^(pass|FAIL) {2}${metric.replaceAll(".", "\\.")} = `, "m"));
  if (parsed.ensure.maxErrorRate !== undefined) expect(run.stdout).toMatch(/^pass {2}maxErrorRate: [0-9.]+ % of virtual users did not complete <= /m);
  // The whole planned load went out: every arrival of the ci phases became a virtual user.
  expect(run.result.counters.arrivalsPlanned).toBe(plannedArrivals(parsed));
  expect(run.result.counters.vusersCreated).toBe(plannedArrivals(parsed));
}

/** placeOrder's answers other than 200 (each fails its shopper: the step expects 200), from the run's failure causes. */
function placeOrderRefusals(result: RunResult): number {
  const refusal = /^check out · step \d+ POST \/trpc\/checkout\.placeOrder · (?!200\b)\d{3}\b/;
  return Object.entries(result.counters.failures ?? {}).reduce((sum, [cause, count]) => sum + (refusal.test(cause) ? count : 0), 0);
}

/** placeOrder's answers, from its latency histogram (one entry per response). */
function placeOrderAnswers(result: RunResult): number {
  const placeOrder = result.histograms.endpoints["POST /trpc/checkout.placeOrder"];
  expect(placeOrder, "the run answered no placeOrder").toBeDefined();
  const histogram = decodeHistogram(placeOrder ?? "");
  const answered = histogram.totalCount;
  histogram.destroy();
  return answered;
}

async function countOrders(): Promise<Record<string, number>> {
  const rows = await service.query<{ status: string; count: string }>(`select status, count(*) from "order" group by status`);
  return Object.fromEntries(rows.map(({ status, count }) => [status, Number(count)]));
}

describe("the shipped scripts against the running service", () => {
  it("keeps load-test-basic.yml -e ci at the basic rate: 100 req/s, then 100 → 200 req/s, for 10 s", () => {
    expect(loadScript("load-test-basic.yml", "ci").phases).toEqual([
      { name: "warm-up", duration: 2, arrivalRate: 100 },
      { name: "baseline", duration: 8, arrivalRate: 100, rampTo: 200 },
    ]);
  });

  it("shortens every shipped script's ci phases, and only their durations", () => {
    for (const script of shippedScripts) {
      const shipped = loadScript(script, "ci");
      const short = loadScript(shortCi(script), "ci");
      expect(short.phases.map((phase) => phase.duration)).toEqual(ciSeconds[script]);
      expect(short.phases.map((phase) => ({ ...phase, duration: 0 }))).toEqual(shipped.phases.map((phase) => ({ ...phase, duration: 0 })));
      expect({ ...short, phases: [] }).toEqual({ ...shipped, phases: [] });
    }
  });

  it.each(shippedScripts.filter((script) => script !== "checkout-journey.yml"))("%s -e ci, shortened, applies its load within its error budget", async (script) => {
    const copy = shortCi(script);
    expectPassed(copy, await runOurs(ciArgs(copy)));
  });

  it("checkout-journey.yml -e ci, shortened, keeps its error budget and leaves one captured order per checkout answered 200", async () => {
    expect((await countOrders()).captured ?? 0).toBe(0);
    const copy = shortCi("checkout-journey.yml");
    const run = await runOurs(ciArgs(copy));
    expectPassed(copy, run);
    // placeOrder expects 200, so every other answer is one of the run's failure causes at that step.
    const answered200 = placeOrderAnswers(run.result) - placeOrderRefusals(run.result);
    expect(answered200).toBeGreaterThan(0);
    expect(await countOrders()).toEqual({ captured: answered200 });
  });

  it("accepts the shop's sold-out answer (409) on every step that adds to a cart, in every shipped script", () => {
    const addLines = shippedScripts.flatMap((script) =>
      loadScript(script, "ci").scenarios.flatMap((scenario) =>
        scenario.flow.flatMap((step) => (step.kind === "request" && step.url === "/trpc/cart.addLine" ? [{ script, scenario: scenario.name, expect: step.expectStatus }] : [])),
      ),
    );
    expect(addLines.length).toBeGreaterThan(0);
    for (const addLine of addLines) expect(addLine.expect, `${addLine.script} "${addLine.scenario}"`).toEqual([200, 409]);
  });

  it("checkout-journey.yml -e ci, shortened, still checks out within its error budget once two of its SKUs have sold out", async () => {
    const soldOut = ["TEE-BLA-M", "MUG-SAN"];
    const journey = loadScript("checkout-journey.yml", "ci");
    for (const sku of soldOut) expect(journey.variables.sku, "a SKU the journey's shoppers pick").toContain(sku);
    const skus = soldOut.map((sku) => `'${sku}'`).join(", ");
    // Nothing left for sale: the units still on the shelf written off, so what was received still balances (the
    // shop's stock invariant, which the run checks after the load, holds).
    await service.query(`update inventory set stock_received = stock_received - available, available = 0 where sku in (${skus})`);
    const linesOfSoldOut = async () => Number((await service.query<{ count: string }>(`select count(*) from order_line where sku in (${skus})`))[0]?.count);
    const soldOutLinesBefore = await linesOfSoldOut();
    const capturedBefore = (await countOrders()).captured ?? 0;
    const copy = shortCi("checkout-journey.yml");
    const run = await runOurs(ciArgs(copy));
    expectPassed(copy, run);
    const { counters } = run.result;
    // Shoppers did meet the sold-out SKUs (the shop answered 409), and none of them failed for it.
    expect(counters.statusCodes[409] ?? 0).toBeGreaterThan(0);
    expect(counters.failures, run.stdout).toEqual({});
    expect(counters.vusersFailed).toBe(0);
    expect(run.stdout).toMatch(/^errors: none$/m);
    // Check-outs went on with the other item: orders were placed, none holds a sold-out SKU, and those stay at 0.
    const answered200 = placeOrderAnswers(run.result) - placeOrderRefusals(run.result);
    expect(answered200).toBeGreaterThan(0);
    expect((await countOrders()).captured).toBe(capturedBefore + answered200);
    expect(await linesOfSoldOut()).toBe(soldOutLinesBefore);
    const stock = await service.query<{ available: number }>(`select available from inventory where sku in (${skus})`);
    expect(stock.map((row) => Number(row.available))).toEqual([0, 0]);
  });

  it("checkout-journey.yml -e ci, shortened, over three local generators: one verdict, the invariants over every generator's orders", async () => {
    const store = mkdtempSync(path.join(os.tmpdir(), "journey-generators-"));
    copies.push(path.join(store, "job"));
    const capturedBefore = (await countOrders()).captured ?? 0;
    const copy = shortCi("checkout-journey.yml");
    const run = await runOurs({ ...ciArgs(copy), ourArgs: ["--on", "local", "--count", "3", "--store", store, "--start-delay", "5"] });
    expectPassed(copy, run);
    // One verdict, judged once on the merged result; every generator ran its shard and is listed.
    expect(run.stdout.match(/^verdict: /gm)).toHaveLength(1);
    expect(run.stdout).toMatch(/^pass {2}generators: all 3 ran their shard and wrote their result$/m);
    const [runDir] = readdirSync(store);
    const perGenerator = [0, 1, 2].map((index) => JSON.parse(readFileSync(path.join(store, runDir!, "generators", String(index), "result.json"), "utf8")) as RunResult);
    // Each generator ran exactly its third of the arrivals, and together they ran every one.
    const planned = plannedArrivals(loadScript(copy, "ci"));
    expect(perGenerator.map((r) => r.counters.vusersCreated)).toEqual([0, 1, 2].map((index) => Math.ceil((planned - index) / 3)));
    // The invariants were checked over the order numbers of all three: the merged list is every generator's list.
    const acknowledged = perGenerator.flatMap((r) => r.acknowledgedOrders ?? []);
    expect([...(run.result.acknowledgedOrders ?? [])].sort()).toEqual([...acknowledged].sort());
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(run.stdout).toMatch(
      new RegExp(`^pass {2}invariant orders: each of the ${acknowledged.length} order numbers the service acknowledged to this run exists exactly once$`, "m"),
    );
    expect((await countOrders()).captured).toBe(capturedBefore + acknowledged.length);
  });
});
