// Unit tests for the inline SVG chart helpers.
import { describe, expect, it } from "vitest";
import { escapeHtml, niceTicks, renderBarChart, renderLineChart } from "./svg-charts.ts";

describe("niceTicks", () => {
  it("covers the range with round steps", () => {
    expect(niceTicks(0, 47)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(niceTicks(0, 0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it("gives a usable range when the data is flat", () => {
    expect(niceTicks(0, 0).length).toBeGreaterThan(1);
  });
});

describe("escapeHtml", () => {
  it("escapes markup and both quote kinds", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  });
});

describe("renderLineChart", () => {
  it("draws one polyline per series inside an svg with labelled axes", () => {
    const svg = renderLineChart({
      title: "Rate",
      series: [
        {
          name: "a",
          color: "#000",
          points: [
            { x: 0, y: 1 },
            { x: 1, y: 3 },
          ],
        },
        {
          name: "b",
          color: "#f00",
          points: [
            { x: 0, y: 2 },
            { x: 1, y: 0 },
          ],
        },
      ],
      xAxis: { label: "seconds" },
      yAxis: { label: "per second" },
    });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain(">seconds</text>");
    expect(svg).toContain(">per second</text>");
    expect(svg).not.toContain("NaN");
  });

  it("escapes the title and series names", () => {
    const svg = renderLineChart({
      title: "<b>t</b>",
      series: [{ name: "<img src=x>", color: "#000", points: [{ x: 0, y: 1 }] }],
      xAxis: { label: "x" },
      yAxis: { label: "y" },
    });
    expect(svg).not.toContain("<b>");
    expect(svg).not.toContain("<img");
  });

  it("says so when there is no data", () => {
    const svg = renderLineChart({ title: "t", series: [{ name: "a", color: "#000", points: [] }], xAxis: { label: "x" }, yAxis: { label: "y" } });
    expect(svg).toContain("no data");
    expect(svg).not.toContain("NaN");
  });
});

describe("renderLineChart guides and dots", () => {
  it("draws a dashed guide with its label, stretching the axis to include it", () => {
    const svg = renderLineChart({
      title: "p95 by rate",
      series: [
        {
          name: "p95",
          color: "#000",
          points: [
            { x: 100, y: 20 },
            { x: 200, y: 40 },
          ],
        },
      ],
      xAxis: { label: "rate" },
      yAxis: { label: "ms" },
      guides: [
        { axis: "y", value: 300, label: "p95 limit 300 ms", color: "#c00" },
        { axis: "x", value: 150, label: "knee", color: "#080" },
      ],
    });
    expect(svg.match(/<line class="guide"[^>]*stroke-dasharray/g)).toHaveLength(2);
    expect(svg).toContain(">p95 limit 300 ms</text>");
    expect(svg).toContain(">knee</text>");
    // The y axis reaches the 300 ms guide although the data stops at 40.
    expect(svg).toContain(">300</text>");
    expect(svg).not.toContain("NaN");
  });

  it("draws a dot per point, with no polyline, for a dots series", () => {
    const svg = renderLineChart({
      title: "t",
      series: [
        {
          name: "met",
          color: "#080",
          style: "dots",
          points: [
            { x: 1, y: 2 },
            { x: 2, y: 3 },
            { x: 3, y: 1 },
          ],
        },
      ],
      xAxis: { label: "x" },
      yAxis: { label: "y" },
    });
    expect(svg.match(/<circle class="dot"/g)).toHaveLength(3);
    expect(svg).not.toContain("<polyline");
    expect(svg).toContain("<title>met: 2, 3</title>");
  });
});

describe("renderBarChart", () => {
  it("draws one labelled rect per bar", () => {
    const svg = renderBarChart({
      title: "Codes",
      bars: [
        { label: "200", value: 90 },
        { label: "503", value: 10 },
      ],
      yAxis: { label: "count" },
      xLabel: "code",
    });
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(2);
    expect(svg).toContain(">503</text>");
    expect(svg).not.toContain("NaN");
  });
});
