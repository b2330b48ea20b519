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
    expect(html).toContain(`<td>404</td><td>${result.counters.statusCodes["404"]}</td>`);
  });

  it("escapes a malicious endpoint name", () => {
    const endpoint = result.histograms.endpoints["GET /checkout?cart=1"] ?? "";
    const html = renderReport({
      ...result,
      histograms: { ...result.histograms, endpoints: { 'GET /"><script>alert(1)</script>': endpoint } },
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

describe("renderReport annotations", () => {
  it("gives what happened around the load its section, measures each window from the intervals, and marks it on the time charts", () => {
    // 10 one-second intervals; the one starting at 4 s has 3 failures: 1 transport error, 1 refused by expect, 1 other 5xx.
    const run = constructedRun(constructedRamp(10, 99));
    run.intervals[4] = { ...run.intervals[4]!, errors: 1, unexpected: 1, serverErrors: 1 };
    const html = renderReport({
      ...run,
      annotations: {
        title: "Blue/green <rehearsal>",
        passed: false,
        facts: [
          { label: "failed requests", value: "3", passed: false },
          { label: "versions served", value: "v1 → v2" },
        ],
        windows: [
          { label: "switch v1 → v2", startMs: 4200, endMs: 5600, facts: [{ label: "switch (ms)", value: "312" }] },
          { label: "rollback", startMs: 7000, endMs: 7500, facts: [{ label: "old exit code", value: "0", passed: true }] },
        ],
      },
    });
    const section = html.slice(html.indexOf("<h2>Blue/green &lt;rehearsal&gt;</h2>"), html.indexOf("<h2>Capacity plan</h2>"));
    expect(section).toContain('Verdict: <span class="fail">FAIL</span>');
    expect(section).toContain('<tr><td>failed requests</td><td class="fail">3</td></tr>');
    const windows = summarizeWindowRows(section);
    // Intervals 4 and 5 overlap 4.2–5.6 s; their requests are 500 + 600 in the constructed ramp.
    expect(windows[0]).toEqual(["switch v1 → v2", "4.2", "5.6", "1100", "3"].concat(windows[0]!.slice(5, 9), ["312", "—"]));
    expect(windows[1]!.slice(0, 5)).toEqual(["rollback", "7.0", "7.5", "800", "0"]);
    expect(windows[1]!.at(-1)).toBe("0");
    // Each window's start is labelled on both over-time charts, its end marked.
    for (const title of ["Requests and failed requests per second", "Latency over time (from intended start)"]) {
      const chart = html.match(new RegExp(`<svg [^>]*aria-label="${title.replace(/[()]/g, "\\$&")}"[\\s\\S]*?</svg>`))?.[0] ?? "";
      expect(chart).toContain(">switch v1 → v2</text>");
      expect(chart).toContain(">rollback</text>");
      expect(chart.match(/class="guide"/g)?.length).toBeGreaterThanOrEqual(4);
    }
  });

  it("has no such section without annotations", () => {
    expect(renderReport(constructedRun(constructedRamp(3, 99)))).not.toContain('id="annotations"');
  });
});

/** The cells of each row of the annotations' window table, as text. */
function summarizeWindowRows(section: string): string[][] {
  const body = section.slice(section.indexOf('<table class="annotation-windows">'));
  return [...body.matchAll(/<tr><td>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...`<td>${row[1]}`.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) =>
      cell[1]!
        .replace(/<[^>]+>/g, "")
        .replace(/^■ /, "")
        .trim(),
    ),
  );
}

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
    // 33 tasks of the fixture's slow process: more than the deployed maximum, so flagged.
    expect(html).toContain('<td class="fail">13,000 req/s (10,000 + 30 % headroom) / 400 req/s per task = 32.50 → 33 tasks: OVER the autoscaling maximum of 12</td>');
    expect(html).toContain(">knee 400/s</text>");
    expect(html).toContain(">p95 limit 300 ms</text>");
    expect(html).toMatch(/<svg [^>]*aria-label="Requests and failed requests per second"[\s\S]*?>knee<\/text>[\s\S]*?>first broken<\/text>[\s\S]*?<\/svg>/);
    expect(html.match(/<tr class="knee"><td>1–6 s<\/td>/g)).toHaveLength(1);
    expect(html).toContain("BROKEN: http.response_time.p95");
    expect(html).not.toContain("NaN");
  });

  it("marks a task count within the autoscaling range as such", () => {
    const html = renderReport(ramp, { plan: { targetRps: 2_000, headroom: 0.3, processes: 1 } });
    expect(html).toContain('<td class="pass">2,600 req/s (2,000 + 30 % headroom) / 400 req/s per task = 6.50 → 7 tasks, within 2–12</td>');
  });

  it("flags a task count over the autoscaling maximum", () => {
    const html = renderReport(ramp, { plan: { targetRps: 100_000 } });
    expect(html).toMatch(/<td class="fail">[^<]*→ 325 tasks: OVER the autoscaling maximum of 12<\/td>/);
  });

  it("says so when the run never met the thresholds, or has nothing to plan from", () => {
    expect(renderReport(constructedRun(constructedRamp(4, 0), p95Only))).toContain("The run never met the thresholds");
    expect(renderReport(constructedRun([]))).toContain("No capacity plan: the result has no interval in which a request was sent");
  });
});
