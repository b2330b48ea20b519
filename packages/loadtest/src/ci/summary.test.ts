// The summary JSON: built from what the judges decided, and always valid against the published JSON Schema.
import { describe, expect, it } from "vitest";
import { syntheticRun } from "../compare/synthetic-run.ts";
import { summarizeEncoded } from "../engine/run-result.ts";
import { judgedRun } from "./ci-fixture.ts";
import { buildSummary, checkKind, type LoadTestSummary } from "./summary.ts";
import { loadSummarySchema, summaryValidator } from "./summary-schema.ts";

const validate = summaryValidator();
const meta = { script: { path: "tests/performance/checkout-journey.yml", environment: "smoke" }, target: "https://staging.shop.example" };

describe("buildSummary", () => {
  it("summarises a passing run: the verdict, a check per judgement by kind, and the latencies the histograms give", () => {
    const saved = judgedRun();
    const summary = buildSummary(saved, meta);
    expect(validate(summary)).toEqual([]);
    expect(summary.schemaVersion).toBe(1);
    expect(summary.verdict).toBe("pass");
    expect(summary.tool.name).toBe("checkout-loadtest");
    expect(summary.script).toEqual({ path: "tests/performance/checkout-journey.yml", environment: "smoke", scenario: null });
    expect(summary.startedAt).toBe("2026-01-15T09:00:00.000Z");
    expect(summary.checks.map((c) => [c.kind, c.name, c.passed, c.strict])).toEqual([
      ["threshold", "http.response_time.p95", true, true],
      ["threshold", "maxErrorRate", true, true],
      ["condition", "http.response_time.p99 < 10000", true, true],
      ["condition", "http.response_time.p50 < 0.001", false, false],
      ["schedule", "arrivals.on_schedule", true, true],
      ["invariant", "invariants.stock", true, true],
      ["invariant", "invariants.charges", true, true],
    ]);
    const latency = summarizeEncoded(saved.histograms.latency);
    expect(summary.latency).toEqual({
      count: 1000,
      min: latency.min,
      mean: latency.mean,
      p50: latency.p50,
      p75: latency.p75,
      p90: latency.p90,
      p95: latency.p95,
      p99: latency.p99,
      p999: latency.p999,
      max: latency.max,
    });
    expect(summary.endpoints["GET /checkout"]?.count).toBe(1000);
    expect(summary.counters.requests).toBe(1000);
    expect(summary.rates.requestsPerSecond).toBe(50);
    expect(summary.rates.requestErrorRate).toBe(0);
  });

  it("fails the verdict on a failed threshold, with its value and limit", () => {
    const summary = buildSummary(judgedRun({ p95LimitMs: 5 }), meta);
    expect(validate(summary)).toEqual([]);
    expect(summary.verdict).toBe("fail");
    const p95 = summary.checks.find((c) => c.name === "http.response_time.p95");
    expect(p95).toMatchObject({ kind: "threshold", passed: false, strict: true, limit: 5 });
    expect(p95?.actual).toBe(summary.latency.p95);
  });

  it("fails the verdict on an invariant violation, each violation a check of its own", () => {
    const summary = buildSummary(judgedRun({ duplicateCharges: 2 }), meta);
    expect(validate(summary)).toEqual([]);
    expect(summary.verdict).toBe("fail");
    expect(summary.checks.filter((c) => c.kind === "invariant" && !c.passed).map((c) => c.name)).toEqual([
      "invariants.charges",
      "invariants.charges.duplicate_charge",
      "invariants.charges.duplicate_charge",
    ]);
  });

  it("keeps an optional condition that did not hold from failing the verdict, and reports it as not held", () => {
    const summary = buildSummary(judgedRun(), meta);
    const optional = summary.checks.find((c) => !c.strict);
    expect(optional).toMatchObject({ kind: "condition", passed: false });
    expect(summary.verdict).toBe("pass");
  });

  it("tells conditions from thresholds in a result saved without its ensure", () => {
    const saved = judgedRun();
    const summary = buildSummary({ ...saved, ensure: undefined }, meta);
    expect(summary.checks.map((c) => [c.kind, c.strict])).toEqual(buildSummary(saved, meta).checks.map((c) => [c.kind, c.strict]));
    expect(checkKind({ metric: "generators.2", max: null, actual: null, passed: false, message: "" }, undefined)).toBe("generator");
  });

  it("judges a result saved without verdicts again on its thresholds and schedule", () => {
    const saved = judgedRun({ p95LimitMs: 5 });
    const summary = buildSummary({ ...saved, verdicts: undefined }, meta);
    expect(validate(summary)).toEqual([]);
    expect(summary.verdict).toBe("fail");
    expect(summary.checks.map((c) => c.kind)).not.toContain("invariant");
    expect(summary.checks.map((c) => c.name)).toContain("arrivals.on_schedule");
  });

  it("lists a distributed run's generators, and a failed generator fails the verdict", () => {
    const generators = [
      { index: 0, id: "local pid 4100", platform: "local" as const, passed: true, message: "ran 500 arrivals", requests: 500 },
      { index: 1, id: "local pid 4101", platform: "local" as const, passed: false, message: "exited with code 1 before writing its result", requests: null },
    ];
    const summary = buildSummary(judgedRun(), { ...meta, generators });
    expect(validate(summary)).toEqual([]);
    expect(summary.generators).toEqual(generators);
    expect(summary.checks.filter((c) => c.kind === "generator").map((c) => [c.name, c.passed])).toEqual([
      ["generators.0", true],
      ["generators.1", false],
    ]);
    expect(summary.verdict).toBe("fail");
  });

  it("summarises a run with no response at all (every request timed out)", () => {
    const saved = syntheticRun({ seed: 3, intervals: 5, requestsPerInterval: 10, medianMs: 20, failureRate: 1 });
    const summary = buildSummary(saved, { script: { path: null }, target: "http://127.0.0.1:9" });
    expect(validate(summary)).toEqual([]);
    expect(summary.latency.count).toBe(0);
    expect(summary.rates.requestErrorRate).toBe(1);
    expect(summary.counters.errors).toEqual({ ETIMEDOUT: 50 });
  });
});

describe("the JSON Schema", () => {
  const summary: LoadTestSummary = buildSummary(judgedRun(), meta);

  it("is a draft 2020-12 schema that Ajv compiles in strict mode", () => {
    expect(loadSummarySchema().$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });

  it("rejects a summary that breaks the contract", () => {
    expect(validate(summary)).toEqual([]);
    const broken: [string, (s: Record<string, any>) => void][] = [
      ["a missing verdict", (s) => delete s.verdict],
      ["an unknown verdict", (s) => (s.verdict = "flaky")],
      ["another schema version", (s) => (s.schemaVersion = 2)],
      ["a field the contract does not have", (s) => (s.p95 = 1)],
      ["a check of an unknown kind", (s) => (s.checks[0].kind = "assertion")],
      ["a check without strict", (s) => delete s.checks[0].strict],
      ["a negative latency", (s) => (s.latency.p95 = -1)],
      ["an error rate given in percent", (s) => (s.rates.requestErrorRate = 50)],
      ["a status code that is not three digits", (s) => (s.counters.statusCodes.ok = 1)],
      ["a start time that is not a date-time", (s) => (s.startedAt = "yesterday")],
      ["a fractional request count", (s) => (s.counters.requests = 1.5)],
    ];
    for (const [what, breakIt] of broken) {
      const copy = structuredClone(summary) as unknown as Record<string, any>;
      breakIt(copy);
      expect(validate(copy), what).not.toEqual([]);
    }
  });

  it("describes every field the summary has: a summary with every optional part is valid", () => {
    const generators = [{ index: 0, id: "arn:aws:ecs:us-east-1:123456789012:task/c/abc", platform: "fargate" as const, passed: true, message: "ok", requests: 1 }];
    const saved = judgedRun();
    const cause = "check out · step 6 POST /trpc/checkout.quote · 412 PRECONDITION_FAILED (CART_INCOMPLETE)";
    saved.counters.failures = { [cause]: 3, other: 1 };
    const summary = buildSummary(saved, { ...meta, script: { ...meta.script, scenario: "browse" }, generators });
    expect(summary.counters.failures).toEqual({ [cause]: 3, other: 1 });
    expect(validate(summary)).toEqual([]);
    const broken = structuredClone(summary) as unknown as { counters: { failures: Record<string, unknown> } };
    broken.counters.failures[cause] = "three";
    expect(validate(broken)).not.toEqual([]);
  });

  it("lists no failure causes for a result saved before they were counted", () => {
    const saved = judgedRun();
    delete saved.counters.failures;
    const summary = buildSummary(saved, meta);
    expect(summary.counters.failures).toEqual({});
    expect(validate(summary)).toEqual([]);
  });
});
