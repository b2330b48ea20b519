// The comparison's HTML: the table with each verdict, both runs side by side in the report's charts, escaped labels.
import { describe, expect, it } from "vitest";
import { compareRuns } from "../compare/compare-runs.ts";
import { parseMaxRegression } from "../compare/regression-limits.ts";
import { syntheticRun } from "../compare/synthetic-run.ts";
import { renderCompareReport, renderCompareSection } from "./compare-section.ts";

const common = { intervals: 30, requestsPerInterval: 60, medianMs: 20, intervalNoise: 0.05 };
const baseline = syntheticRun({ ...common, seed: 1 });
const stalled = syntheticRun({ ...common, seed: 2, stall: { share: 0.2, stallMs: 60 }, failureRate: 0.01 });
const limits = parseMaxRegression("p95=10%,p99=20%,error_rate=0.1");

describe("renderCompareSection", () => {
  const comparison = compareRuns(baseline, stalled, { limits });
  const html = renderCompareSection({ comparison, baseline: { label: "v1.json", saved: baseline }, current: { label: "v2.json", saved: stalled } });

  it("has a row per metric with its verdict coloured, and the failing verdict up top", () => {
    expect(comparison.passed).toBe(false);
    const rows = html.match(/<table class="comparison">[\s\S]*?<\/table>/)?.[0].match(/<tr>/g);
    expect(rows).toHaveLength(comparison.metrics.length + 1);
    expect(html).toMatch(/<tr><td>p95<\/td>(<td>[^<]*<\/td>){5}<td class="fail">FAIL<\/td><\/tr>/);
    expect(html).toMatch(/<tr><td>p50<\/td>(<td>[^<]*<\/td>){5}<td>info<\/td><\/tr>/);
    expect(html).toContain('Verdict: <span class="fail">FAIL</span>');
  });

  it("draws p95 per window, the percentile curves and failed requests per window, each with both runs", () => {
    const charts = html.match(/<svg [\s\S]*?<\/svg>/g) ?? [];
    expect(charts).toHaveLength(3);
    for (const chart of charts) {
      expect(chart).toContain(">baseline<");
      expect(chart).toContain(">current<");
    }
    expect(html).not.toContain("NaN");
  });

  it("puts the two runs' counters side by side", () => {
    expect(html).toContain(`<tr><td>requests</td><td>${baseline.counters.requests}</td><td>${stalled.counters.requests}</td></tr>`);
    expect(html).toContain("<th>baseline: v1.json</th><th>current: v2.json</th>");
  });

  it("says which metrics it could not judge, and why", () => {
    const short = syntheticRun({ ...common, seed: 3, intervals: 3 });
    const section = renderCompareSection({
      comparison: compareRuns(baseline, short, { limits }),
      baseline: { label: "a", saved: baseline },
      current: { label: "b", saved: short },
    });
    expect(section).toMatch(/Not judged: p95 \(not judged: 3 windows with data, 5 needed to judge\)/);
    expect(section).toContain('<ul class="notes"><li>the runs sent different load');
    expect(section).toContain('Verdict: <span class="pass">PASS</span>');
  });
});

describe("renderCompareReport", () => {
  it("is a page of its own in the report's styles, with labels escaped and nothing loaded over the network", () => {
    const comparison = compareRuns(baseline, stalled, { limits });
    const page = renderCompareReport({ comparison, baseline: { label: '<script>alert("a")</script>', saved: baseline }, current: { label: "b&c", saved: stalled } });
    expect(page.startsWith("<!doctype html>")).toBe(true);
    expect(page).toContain("<style>");
    expect(page).toContain("Content-Security-Policy");
    expect(page).not.toContain("<script>");
    expect(page).toContain("&lt;script&gt;alert(&quot;a&quot;)&lt;/script&gt;");
    expect(page).toContain("b&amp;c");
    const tags = page.match(/<[^>]*>/g) ?? [];
    expect(tags.filter((tag) => /https?:\/\//i.test(tag))).toEqual([]);
  });
});
