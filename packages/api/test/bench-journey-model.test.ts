// The bench's model of the checkout journey (bench/journey.ts) agrees with the script the load tester plays
// (tests/performance/checkout-journey.yml): the same scenarios, weights and API calls in order, the same SKU lists, and
// so the same share of requests per procedure. The bench weighs each procedure's cost by that share. And its shoppers,
// played against the real service, buy what a check-out shopper of the script buys.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { JOURNEY_SCENARIOS, JOURNEY_SECOND_SKUS, JOURNEY_SKUS, journeyMix } from "../bench/journey.ts";
import { measureJourney, type JourneyCost } from "../bench/journey.ts";
import { requestsPerArrival } from "../bench/journey-at-rate.ts";
import { startTestApp, type TestApp } from "./support/app.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

type Step = Record<string, { url?: string; json?: Record<string, unknown> } | number>;
interface JourneyScript {
  config: { variables: Record<string, unknown> };
  scenarios: { name: string; weight: number; flow: Step[] }[];
}

const script = parse(readFileSync(path.join(repoRoot, "tests/performance/checkout-journey.yml"), "utf8")) as JourneyScript;

/** A step's request to the API (`/trpc/<procedure>`): the procedure and the JSON it sends; null for a think or a call elsewhere. */
function apiCall(step: Step): { procedure: string; json: Record<string, unknown> } | null {
  for (const request of Object.values(step)) {
    if (typeof request !== "object" || !request.url?.startsWith("/trpc/")) continue;
    return { procedure: request.url.slice("/trpc/".length), json: request.json ?? {} };
  }
  return null;
}

const scriptScenarios = script.scenarios.map((scenario) => ({
  name: scenario.name,
  weight: scenario.weight,
  calls: scenario.flow.map(apiCall).filter((call) => call !== null),
}));

describe("JOURNEY_SCENARIOS", () => {
  it("has the script's scenarios and weights, each calling the API's procedures in the script's order", () => {
    expect(JOURNEY_SCENARIOS.map(({ name, weight, procedures }) => ({ name, weight, procedures: [...procedures] }))).toEqual(
      scriptScenarios.map(({ name, weight, calls }) => ({ name, weight, procedures: calls.map((call) => call.procedure) })),
    );
  });

  it("has a check-out shopper add two items, from the script's two SKU lists, which share none", () => {
    const checkOut = scriptScenarios.find((scenario) => scenario.name === "check out");
    expect(checkOut?.calls.filter((call) => call.procedure === "cart.addLine").map((call) => call.json.sku)).toEqual(["{{ sku }}", "{{ secondSku }}"]);
    expect(JOURNEY_SKUS).toEqual(script.config.variables.sku);
    expect(JOURNEY_SECOND_SKUS).toEqual(script.config.variables.secondSku);
    expect(JOURNEY_SKUS.filter((sku) => JOURNEY_SECOND_SKUS.includes(sku))).toEqual([]);
  });
});

describe("journeyMix and requestsPerArrival", () => {
  it("give each procedure the script's share of its API requests, and the script's API requests per arrival", () => {
    const totalWeight = scriptScenarios.reduce((sum, scenario) => sum + scenario.weight, 0);
    const perArrival = new Map<string, number>();
    for (const scenario of scriptScenarios) {
      for (const call of scenario.calls) perArrival.set(call.procedure, (perArrival.get(call.procedure) ?? 0) + scenario.weight / totalWeight);
    }
    const requests = [...perArrival.values()].reduce((sum, count) => sum + count, 0);
    expect(requestsPerArrival()).toBeCloseTo(requests, 10);
    const mix = journeyMix();
    expect([...mix.keys()].sort()).toEqual([...perArrival.keys()].sort());
    for (const [procedure, count] of perArrival) expect(mix.get(procedure), procedure).toBeCloseTo(count / requests, 10);
    // Seven browsers (2 calls), two cart fillers (3) and one check-out (8, two of them adding to the cart) in ten arrivals.
    expect(requests).toBeCloseTo(2.8, 10);
    expect(mix.get("cart.addLine")).toBeCloseTo(4 / 28, 10);
  });
});

describe("measureJourney", () => {
  let t: TestApp;
  let journey: JourneyCost;
  const shoppers = 6;

  beforeAll(async () => {
    t = await startTestApp();
    journey = await measureJourney({
      apiUrl: t.app.url,
      sandboxUrl: t.app.paymentUrl,
      // The service runs in this process: its CPU is this process's.
      apiPid: process.pid,
      databaseCpuSeconds: () => null,
      shoppers,
      warmupShoppers: 1,
      readRepeats: 1,
      concurrency: 3,
      log: () => {},
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it("counts both of a shopper's cart.addLine calls, and one of every other step", () => {
    const calls = Object.fromEntries(journey.procedures.map((cost) => [cost.procedure, cost.calls]));
    expect(calls).toEqual({
      "catalog.list": shoppers,
      "catalog.get": shoppers,
      "cart.create": shoppers,
      "cart.addLine": 2 * shoppers,
      "cart.get": shoppers,
      "checkout.setContact": shoppers,
      "checkout.setShippingAddress": shoppers,
      "checkout.setShippingOption": shoppers,
      "checkout.quote": shoppers,
      "checkout.placeOrder": shoppers,
    });
  });

  it("places every shopper's order with one item from each of the script's SKU lists", async () => {
    const lines = await t.database.db.selectFrom("order_line").select(["order_id", "sku", "quantity"]).execute();
    const byOrder = new Map<string, typeof lines>();
    for (const line of lines) byOrder.set(line.order_id, [...(byOrder.get(line.order_id) ?? []), line]);
    // The warm-up shopper's order and each measured shopper's.
    expect(byOrder.size).toBe(shoppers + 1);
    for (const orderLines of byOrder.values()) {
      expect(orderLines).toHaveLength(2);
      expect(orderLines.filter((line) => JOURNEY_SKUS.includes(line.sku))).toHaveLength(1);
      expect(orderLines.filter((line) => JOURNEY_SECOND_SKUS.includes(line.sku))).toHaveLength(1);
      expect(orderLines.every((line) => line.quantity === 1)).toBe(true);
    }
  });
});
