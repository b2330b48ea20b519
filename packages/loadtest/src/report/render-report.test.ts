// Unit tests for the HTML report, on a result from a real brief engine run.
import { beforeAll, describe, expect, it } from "vitest";
import type { RunResult } from "../engine/run-result.ts";
import { renderReport } from "./render-report.ts";
import { runBriefLoad } from "./report-fixture.ts";
import { constructedRamp, constructedRun } from "../plan/plan-fixture.ts";
import type { Ensure } from "../script/script-types.ts";

let result: RunResult;
beforeAll(async () => {
  result = await runBriefLoad();
}, 30_000);

describe("renderReport", () => {
  it("draws an svg for each chart: throughput, latency over time, distribution, status codes, latency by window rate", () => {
    const html = renderReport(result);
    expect(html.match(/<svg /g)).toHaveLength(5);
    expect(html.match(/<polyline /g)?.length).toBeGreaterThanOrEqual(6);
    expect(html).toContain('<rect class="bar"');
    expect(html).not.toContain("NaN");
  });

  it("lists each endpoint with count and percentiles", () => {
    const html = renderReport(result);
    const endpoints = Object.keys(result.histograms.endpoints);
    expect(endpoints).toEqual(["GET /checkout?cart=1"]);
    expect(html).toMatch(new RegExp(`<tr><td>GET /checkout\\?cart=1</td><td>${result.counters.responses}</td>`));
  });

  it("shows the counters, status codes and errors", () => {
    const html = renderReport(result);
    expect(html).toContain(`<td>created</td><td>${result.counters.vusersCreated}</td>`);
    expect(html).toContain(`<td>dropped (maxVusers)</td><td>0</td>`);
    expect(html).toContain(`<td>503</td><td>${result.counters.statusCodes["503"]}</td>`);
  });

  it("escapes a malicious endpoint name", () => {
    const endpoint = result.histograms.endpoints["GET /checkout?cart=1"] ?? "";
    const html = renderReport({
      ...result,
      histograms: { ...result.histograms, endpoints: { [`GET /"><script>alert(1)</script>`]: endpoint } },
    });
    expect(html).not.toContain("<script>");
    expect(html).toContain("GET /&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("shows saved verdicts, and says when there are none", () => {
    expect(renderReport(result)).toContain("No threshold verdicts were saved");
    const html = renderReport({
      ...result,
      verdicts: [{ metric: "http.response_time.p99", max: 1, actual: 7.5, passed: false, message: "p99 <too slow>" }],
    });
    expect(html).toContain('<span class="fail">FAIL</span>');
    expect(html).toContain("p99 &lt;too slow&gt;");
  });

  it("references nothing over the network: no http(s) URL outside text content", () => {
    const html = renderReport(result);
    const tags = html.match(/<[^>]*>/g) ?? [];
    expect(tags.filter((tag) => /https?:\/\//i.test(tag))).toEqual([]);
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/i);
    expect(html).not.toMatch(/url\(/i);
  });
});

describe("renderReport capacity plan", () => {
  const p95Only: Ensure = { thresholds: [{ metric: "http.response_time.p95", max: 300 }], conditions: [] };
  // 100, 200, … 800 requests/s; latency 900 ms from second 6: with 5 s windows the knee is 400/s in 1–6 s.
  const ramp = constructedRun(constructedRamp(8, 6), p95Only);

  it("shows the per-process capacity of a real run, a lower bound when nothing broke, and how to count tasks", () => {
    const html = renderReport(result);
    const section = html.slice(html.indexOf("<h2>Capacity plan</h2>"), html.indexOf("<h2>Latency</h2>"));
    expect(section).toMatch(/<strong>\d+ req\/s per API process<\/strong>/);
    expect(section).toContain("a lower bound: no window broke");
    expect(section).toContain("http.response_time.p95 ≤ 300 ms (service level)");
    expect(section).toContain("give report --target-rps N");
    expect(section).toContain('aria-label="p95 by window rate"');
    expect(section).toContain("One core of the machine that ran the test is taken as one Fargate vCPU");
  });

  it("counts the tasks for a target and marks the knee on the rate chart, the time chart and the window table", () => {
    const html = renderReport(ramp, { plan: { targetRps: 10_000, headroom: 0.3, processes: 1 } });
    expect(html).toContain("<strong>400 req/s per API process</strong> → <strong>33 tasks</strong> for 10,000 req/s");
    expect(html).toContain('<td class="pass">13,000 req/s (10,000 + 30 % headroom) / 400 req/s per task = 32.50 → 33 tasks, within 2–40</td>');
    expect(html).toContain(">knee 400/s</text>");
    expect(html).toContain(">p95 limit 300 ms</text>");
    expect(html).toMatch(/<svg [^>]*aria-label="Requests and failed requests per second"[\s\S]*?>knee<\/text>[\s\S]*?>first broken<\/text>[\s\S]*?<\/svg>/);
    expect(html.match(/<tr class="knee"><td>1–6 s<\/td>/g)).toHaveLength(1);
    expect(html).toContain("BROKEN: http.response_time.p95");
    expect(html).not.toContain("NaN");
  });

  it("flags a task count over the autoscaling maximum", () => {
    const html = renderReport(ramp, { plan: { targetRps: 100_000 } });
    expect(html).toMatch(/<td class="fail">[^<]*→ 325 tasks: OVER the autoscaling maximum of 40<\/td>/);
  });

  it("says so when the run never met the thresholds, or has nothing to plan from", () => {
    expect(renderReport(constructedRun(constructedRamp(4, 0), p95Only))).toContain("The run never met the thresholds");
    expect(renderReport(constructedRun([]))).toContain("No capacity plan: the result has no interval in which a request was sent");
  });
});
