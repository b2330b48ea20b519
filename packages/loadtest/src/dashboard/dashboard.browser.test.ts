// Browser test: the live dashboard in real Chromium. Its charts follow the intervals as they are published, its
// script runs under the page's policy without a single violation, and at the end the page shows exactly what the saved
// report (`report result.json`, opened from file://) shows.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as Playwright from "../../../web/node_modules/playwright-core/index.d.ts";
import { renderReport } from "../report/render-report.ts";
import { recordRun, type RecordedRun } from "./dashboard-fixture.ts";
import { startDashboard, type Dashboard } from "./dashboard.ts";

// playwright-core is a dependency of packages/web only; borrow it rather than add it here.
const requireFromWeb = createRequire(new URL("../../../web/package.json", import.meta.url));
const { chromium } = requireFromWeb("playwright-core") as typeof Playwright;

let run: RecordedRun;
let dashboard: Dashboard;
let browser: Playwright.Browser;
beforeAll(async () => {
  [run, dashboard, browser] = await Promise.all([
    recordRun(),
    startDashboard({ title: "checkout-journey.yml" }),
    chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }),
  ]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
});

const THROUGHPUT = 'svg[aria-label="Requests and failed requests per second"]';

/** The points drawn by the throughput chart's first series: its polyline's, or 1 for a lone point's dot. */
async function throughputPoints(page: Playwright.Page): Promise<number> {
  return page.locator(THROUGHPUT).evaluate((svg) => {
    const polyline = svg.querySelector("polyline.series");
    if (polyline) return (polyline.getAttribute("points") ?? "").trim().split(/\s+/).length;
    return svg.querySelectorAll("circle").length > 0 ? 1 : 0;
  });
}

describe("the dashboard in Chromium", () => {
  it("redraws the charts as intervals arrive, breaks no policy, and ends on the saved report's very content", { timeout: 60_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1380, height: 900 } });
    const problems: string[] = [];
    const requested: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("request", (request) => requested.push(request.url()));
    // Recorded from the document's start, before any of the page's own code runs.
    await page.addInitScript({
      content: `document.addEventListener("securitypolicyviolation", (event) => console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI));`,
    });

    await page.goto(dashboard.url, { waitUntil: "load" });
    await page.locator('#dashboard[data-phase="waiting"]').waitFor();
    const status = page.locator("#dashboard-status");
    // The page's script has its event stream once the server counts the page (the first event repeats the page).
    await expect.poll(() => requested.filter((url) => url.endsWith("/events")).length).toBe(1);

    const [first, second] = run.snapshots;
    dashboard.publish(first!);
    await page.locator('#dashboard[data-version="1"]').waitFor();
    expect(await throughputPoints(page)).toBe(1);
    dashboard.publish(second!);
    await page.locator('#dashboard[data-version="2"]').waitFor();
    expect(await throughputPoints(page)).toBe(2);
    expect(await status.textContent()).toBe(`Running: ${(second!.elapsedMs / 1000).toFixed(0)} s, ${second!.counters.requests} requests, ${second!.counters.responses} responses`);
    expect(await page.locator(THROUGHPUT).boundingBox()).toMatchObject({ width: expect.any(Number) });

    const saved = { ...run.saved, verdicts: run.saved.verdicts!.map((verdict) => ({ ...verdict, passed: true })) };
    await dashboard.finish(saved);
    await page.locator('#dashboard[data-phase="finished"]').waitFor();
    expect(await status.textContent()).toBe("Finished: PASS");
    expect(await status.getAttribute("class")).toBe("pass");
    expect(await page.title()).toBe("Finished: PASS · checkout-journey.yml");

    // The saved report, frozen, in a page of its own: the same content, element for element, as the browser parsed it.
    const dir = mkdtempSync(path.join(tmpdir(), "loadtest-dashboard-"));
    try {
      const file = path.join(dir, "report.html");
      writeFileSync(file, renderReport(saved));
      const frozen = await browser.newPage();
      await frozen.goto(pathToFileURL(file).href, { waitUntil: "load" });
      const frozenMain = await frozen.locator("#report").evaluate((main) => main.innerHTML.trim());
      expect(frozenMain).toContain("<h2>Endpoints</h2>");
      expect(await page.locator("#report").evaluate((main) => main.innerHTML.trim())).toBe(frozenMain);
      await frozen.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    expect(problems).toEqual([]);
    const origin = new URL(dashboard.url).origin;
    expect(requested.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    await page.close();
  });
});
