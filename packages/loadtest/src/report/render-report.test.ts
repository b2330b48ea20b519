// Unit tests for the HTML report, on a result from a real brief engine run.
import { beforeAll, describe, expect, it } from "vitest";
import type { RunResult } from "../engine/run-result.ts";
import { renderReport } from "./render-report.ts";
import { runBriefLoad } from "./report-fixture.ts";

let result: RunResult;
beforeAll(async () => {
  result = await runBriefLoad();
}, 30_000);

describe("renderReport", () => {
  it("draws an svg for each chart: throughput, latency over time, distribution, status codes", () => {
    const html = renderReport(result);
    expect(html.match(/<svg /g)).toHaveLength(4);
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
