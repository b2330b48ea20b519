// Browser test: the generated report of a real ramp, opened from file:// in real Chromium, draws its charts (the
// capacity plan's too) and fetches nothing. The ramp is the one runRampPastCapacity (plan-fixture.ts) recorded in
// plan/fixtures/ramp-past-capacity.json, which plan-command.test.ts plans from: a real engine run, saved as
// `run --output` saves it, without spending its 6 s again here (render-report.test.ts renders a live run).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type * as Playwright from "../../../web/node_modules/playwright-core/index.d.ts";
import { renderReport } from "./render-report.ts";
import type { SavedRun } from "./saved-run.ts";

// playwright-core is a dependency of packages/web only; borrow it rather than add it here.
const requireFromWeb = createRequire(new URL("../../../web/package.json", import.meta.url));
const { chromium } = requireFromWeb("playwright-core") as typeof Playwright;

const RAMP_PAST_CAPACITY = new URL("../plan/fixtures/ramp-past-capacity.json", import.meta.url);

const SCREENSHOT = path.resolve(import.meta.dirname, "../../../../.artifacts/screenshots/loadtest-report.png");

describe("renderReport in Chromium", () => {
  it("draws every chart and the capacity plan from file:// without a single network request", { timeout: 60_000 }, async () => {
    const html = renderReport(JSON.parse(readFileSync(RAMP_PAST_CAPACITY, "utf8")) as SavedRun, { plan: { targetRps: 10_000, windowSeconds: 2 } });
    const dir = mkdtempSync(path.join(tmpdir(), "loadtest-report-"));
    const file = path.join(dir, "report.html");
    writeFileSync(file, html);
    const fileUrl = pathToFileURL(file).href;

    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1380, height: 900 } });
      const requested: string[] = [];
      page.on("request", (request) => requested.push(request.url()));
      await page.goto(fileUrl, { waitUntil: "load" });

      const charts = await page.$$eval("svg", (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          const drawn = [...svg.querySelectorAll("polyline, path, rect.bar")].filter((shape) => {
            if (shape.tagName === "polyline") return (shape.getAttribute("points") ?? "").trim().split(/\s+/).length >= 2;
            if (shape.tagName === "path") return (shape.getAttribute("d") ?? "").length > 0;
            return shape.getBoundingClientRect().height > 0;
          });
          return {
            label: svg.getAttribute("aria-label"),
            width: box.width,
            height: box.height,
            lines: svg.querySelectorAll("polyline").length,
            drawn: drawn.length,
          };
        }),
      );
      expect(charts).toHaveLength(5);
      for (const chart of charts) {
        expect(chart.width, chart.label ?? "").toBeGreaterThan(0);
        expect(chart.height, chart.label ?? "").toBeGreaterThan(0);
        expect(chart.drawn, chart.label ?? "").toBeGreaterThan(1);
      }
      // The four line charts have polylines with points; the status chart has bars.
      expect(charts.filter((c) => c.lines > 0)).toHaveLength(4);
      expect(await page.locator("table").first().isVisible()).toBe(true);

      // The capacity plan: its heading, the per-process rate and task count, a dot per window with the knee and the
      // latency limit marked, and the knee marked on the requests-over-time chart.
      expect(await page.getByRole("heading", { name: "Capacity plan" }).isVisible()).toBe(true);
      // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText() reads the text as rendered, which is what the report shows
      expect(await page.locator("#capacity-plan").innerText()).toMatch(/[\d,]+ req\/s per API process → \d+ tasks for 10,000 req\/s/);
      const rateChart = page.locator('svg[aria-label^="p95 by window rate"]');
      expect(await rateChart.isVisible()).toBe(true);
      const dots = await rateChart.locator("circle.dot").evaluateAll((circles) => circles.map((c) => c.getBoundingClientRect().width));
      expect(dots.length).toBeGreaterThan(2);
      expect(dots.every((width) => width > 0)).toBe(true);
      expect(await rateChart.locator("text.guide-label").allTextContents()).toEqual([expect.stringMatching(/^p95 limit 100 ms$/), expect.stringMatching(/^knee [\d,]+\/s$/)]);
      const timeChart = page.locator('svg[aria-label="Requests and failed requests per second"]');
      expect(await timeChart.locator("line.guide").count()).toBe(2);
      // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText() reads the text as rendered, which is what the report shows
      expect(await page.locator("#capacity-plan details summary").innerText()).toMatch(/^All \d+ windows$/);

      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(requested).toEqual([fileUrl]);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
