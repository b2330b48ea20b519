// Browser test: the generated report opened from file:// in real Chromium draws its charts and fetches nothing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type * as Playwright from "../../../web/node_modules/playwright-core/index.d.ts";
import { renderReport } from "./render-report.ts";
import { runBriefLoad } from "./report-fixture.ts";

// playwright-core is a dependency of packages/web only; borrow it rather than add it here.
const requireFromWeb = createRequire(new URL("../../../web/package.json", import.meta.url));
const { chromium } = requireFromWeb("playwright-core") as typeof Playwright;

const SCREENSHOT = path.resolve(import.meta.dirname, "../../../../.artifacts/screenshots/loadtest-report.png");

describe("renderReport in Chromium", () => {
  it("draws every chart from file:// without a single network request", { timeout: 60_000 }, async () => {
    const html = renderReport(await runBriefLoad());
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
      expect(charts).toHaveLength(4);
      for (const chart of charts) {
        expect(chart.width, chart.label ?? "").toBeGreaterThan(0);
        expect(chart.height, chart.label ?? "").toBeGreaterThan(0);
        expect(chart.drawn, chart.label ?? "").toBeGreaterThan(1);
      }
      // The three line charts have polylines with points; the status chart has bars.
      expect(charts.filter((c) => c.lines > 0)).toHaveLength(3);
      expect(await page.locator("table").first().isVisible()).toBe(true);

      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(requested).toEqual([fileUrl]);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
