// What a shopper's device pays on a first visit, in real Chromium against the production build: the prerendered HTML
// paints the shop with JavaScript off, the script of a first load stays within its budget (brotli, no source maps),
// nothing breaks the CSP (zod's eval probe included), and nothing on screen moves while the page fills in.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { PRECOMPRESS_FROM_BYTES } from "../scripts/precompress.ts";
import { addToCart, newPhonePage, setUpShop, VIEWPORTS } from "./shop-harness.ts";

/** Script bytes (as sent: brotli) a first load may fetch; the catalogue must need less than the checkout. */
const SCRIPT_BUDGET_BYTES = 100_000;
const { phone: PHONE, desktop: DESKTOP } = VIEWPORTS;

const shop = setUpShop();

interface ScriptLoad {
  url: string;
  bytes: number;
  encoding: string | undefined;
}

/** Records every script response of a page: its URL, body bytes as transferred and Content-Encoding. */
function recordScripts(page: Page): ScriptLoad[] {
  const scripts: ScriptLoad[] = [];
  page.on("requestfinished", async (request) => {
    if (request.resourceType() !== "script") return;
    const response = await request.response();
    const sizes = await request.sizes();
    scripts.push({ url: request.url(), bytes: sizes.responseBodySize, encoding: (await response?.allHeaders())?.["content-encoding"] });
  });
  return scripts;
}

/** Layout shifts (CLS's entries, minus those after input) and CSP violations, collected in the page from its start. */
async function watchPage(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const seen = { shifts: [] as { value: number; sources: string[] }[], violations: [] as string[] };
    (window as unknown as { __firstLoad: typeof seen }).__firstLoad = seen;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean; sources?: { node?: Node }[] })[]) {
        if (!entry.hadRecentInput)
          seen.shifts.push({ value: entry.value, sources: (entry.sources ?? []).map((source) => (source.node as Element | undefined)?.outerHTML?.slice(0, 80) ?? "?") });
      }
    }).observe({ type: "layout-shift", buffered: true });
    document.addEventListener("securitypolicyviolation", (event) => seen.violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`));
  });
}

async function seenIn(page: Page): Promise<{ shifts: { value: number; sources: string[] }[]; violations: string[] }> {
  return page.evaluate(() => (window as unknown as { __firstLoad: { shifts: { value: number; sources: string[] }[]; violations: string[] } }).__firstLoad);
}

/** A browser context holding a cart with one product, and nothing in its HTTP cache. */
async function contextWithCart(browser: Browser, appUrl: string, viewport: { width: number; height: number } = PHONE): Promise<BrowserContext> {
  const filling = await browser.newContext({ viewport });
  const page = await filling.newPage();
  await addToCart(page, appUrl, "ceramic-mug", "1");
  const storageState = await filling.storageState();
  await filling.close();
  return browser.newContext({ viewport, storageState });
}

const total = (scripts: ScriptLoad[]) => scripts.reduce((sum, script) => sum + script.bytes, 0);

describe("the shop before any script runs", () => {
  it("paints the catalogue's header, title and loading status at / with JavaScript off", async () => {
    const { app, browser } = shop();
    const context = await browser.newContext({ viewport: PHONE, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(app.url);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Everyday things, made to last");
    expect(await page.getByRole("link", { name: "Northwind Supply, home" }).isVisible()).toBe(true);
    expect(await page.getByTestId("cart-count").textContent()).toBe("0");
    expect(await page.getByText("Loading products…").isVisible()).toBe(true);
    await context.close();
  });

  it("paints the header and a loading status, not the catalogue, on every other route, with the sandbox URL written in", async () => {
    const { app, browser } = shop();
    const context = await browser.newContext({ viewport: PHONE, javaScriptEnabled: false });
    const page = await context.newPage();
    const metaTag = 'meta[name="checkout:payment-sandbox-url"]';
    await page.goto(app.url);
    const catalogSandboxUrl = await page.locator(metaTag).getAttribute("content");
    // The build ships a placeholder; the server writes in this run's sandbox (on its own port) at start-up.
    expect(catalogSandboxUrl).not.toBe("http://localhost:3001");
    expect(new URL(catalogSandboxUrl ?? "").port).toBe(new URL(app.paymentUrl).port);
    for (const route of ["/checkout", "/cart", "/products/ceramic-mug", "/orders"]) {
      const response = await page.goto(`${app.url}${route}`);
      expect(response?.status(), route).toBe(200);
      expect(await page.getByRole("link", { name: "Northwind Supply, home" }).isVisible(), route).toBe(true);
      expect(await page.getByTestId("page-placeholder").isVisible(), route).toBe(true);
      expect(await page.locator("h1").count(), route).toBe(0);
      expect(await page.locator(metaTag).getAttribute("content"), route).toBe(catalogSandboxUrl);
    }
    await context.close();
  });
});

describe("script on a first load", () => {
  it(`fetches at most ${SCRIPT_BUDGET_BYTES / 1000} kB of script (brotli) for /checkout with a cart, and less for /`, async () => {
    const { app, browser } = shop();
    const home = await browser.newContext({ viewport: PHONE });
    const homePage = await home.newPage();
    const homeScripts = recordScripts(homePage);
    await homePage.goto(app.url);
    await homePage.getByTestId("product-card").first().waitFor();
    await homePage.waitForLoadState("networkidle");

    const checkout = await contextWithCart(browser, app.url);
    const checkoutPage = await checkout.newPage();
    const checkoutScripts = recordScripts(checkoutPage);
    await checkoutPage.goto(`${app.url}/checkout`);
    await checkoutPage.locator("#email").waitFor();
    await checkoutPage.waitForLoadState("networkidle");

    const report = `/: ${JSON.stringify(homeScripts)}\n/checkout: ${JSON.stringify(checkoutScripts)}`;
    expect(homeScripts.length, report).toBeGreaterThan(0);
    expect(total(checkoutScripts), report).toBeLessThanOrEqual(SCRIPT_BUDGET_BYTES);
    expect(total(homeScripts), report).toBeLessThan(total(checkoutScripts));
    // Every script came compressed with brotli, the build's own copy, but for one too small for compression to pay.
    for (const script of [...homeScripts, ...checkoutScripts]) {
      if (script.bytes >= PRECOMPRESS_FROM_BYTES) expect(script.encoding, script.url).toBe("br");
    }
    await home.close();
    await checkout.close();
  });

  it("puts no zod on the catalogue's critical path: the scripts / preloads and their static imports hold none", async () => {
    const { app } = shop();
    const html = await (await fetch(app.url)).text();
    const listed = [...html.matchAll(/<(?:script[^>]*\ssrc|link rel="modulepreload"[^>]*\shref)="\/(assets\/[^"]+\.js)"/g)].map((match) => match[1] as string);
    expect(listed.length, html).toBeGreaterThan(0);
    // Follow every static import ("import{…}from"./x.js"", "import"./x.js""), not the lazy import("./x.js") of a page.
    const seen = new Set<string>();
    const pending = [...listed];
    while (pending.length > 0) {
      const file = pending.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const body = await (await fetch(`${app.url}/${file}`)).text();
      expect(body, file).not.toContain("ZodError");
      for (const match of body.matchAll(/(?:\bfrom|\bimport)\s*"\.\/([^"]+\.js)"/g)) pending.push(`assets/${match[1]}`);
    }
    expect(
      [...seen].some((file) => file.startsWith("assets/index-")),
      [...seen].join(", "),
    ).toBe(true);
    expect([...seen].filter((file) => file.startsWith("assets/schemas-"))).toEqual([]);
  });

  it("ships zod without its JSON Schema generator, and the forms still validate with the schemas", async () => {
    const { app, browser } = shop();
    const html = await (await fetch(`${app.url}/checkout`)).text();
    const entry = /src="\/(assets\/index-[^"]+\.js)"/.exec(html)?.[1];
    expect(entry, html).toBeDefined();
    const entryBody = await (await fetch(`${app.url}/${entry}`)).text();
    const schemasChunk = /assets\/schemas-[A-Za-z0-9_-]+\.js/.exec(entryBody)?.[0];
    expect(schemasChunk, "the entry names the schemas chunk").toBeDefined();
    const schemas = await (await fetch(`${app.url}/${schemasChunk}`)).text();
    expect(schemas).toContain("ZodError");
    // zod's generator writes these $schema URLs; the stand-in (packages/web/scripts/zod-browser.ts) is there instead.
    expect(schemas).not.toContain("json-schema.org");
    expect(schemas).toContain("not in the shop's browser build");
    // The catalogue's search is checked by the schemas in the page: a too-short search is refused there.
    const context = await browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    await page.goto(app.url);
    await page.getByTestId("product-card").first().waitFor();
    await page.getByLabel("Search products").fill("ab");
    await page.getByLabel("Search products").press("Enter");
    await expect.poll(() => page.locator("#catalog-search-error").textContent()).toMatch(/at least 3 characters/);
    await context.close();
  });

  it("serves no source map: none is referenced, and asking for one is a 404", async () => {
    const { app, browser } = shop();
    const context = await browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    const scripts = recordScripts(page);
    await page.goto(app.url);
    await page.getByTestId("product-card").first().waitFor();
    await page.waitForLoadState("networkidle");
    expect(scripts.length).toBeGreaterThan(0);
    for (const { url } of scripts) {
      const body = await (await fetch(url)).text();
      expect(body, url).not.toContain("sourceMappingURL");
      expect((await fetch(`${url}.map`)).status, `${url}.map`).toBe(404);
    }
    await context.close();
  });
});

describe("a first visit's page", () => {
  it("reports no CSP violation and no console error from the catalogue to a validated checkout form", async () => {
    const { app, browser } = shop();
    const { page, errors } = await newPhonePage(browser);
    await watchPage(page.context());
    await page.goto(app.url);
    await page.getByTestId("product-card").first().waitFor();
    await addToCart(page, app.url, "ceramic-mug", "1");
    await page.goto(`${app.url}/checkout`);
    // An empty form, paid: core's zod schemas validate it in the page and every field says what is wrong.
    await page.getByTestId("place-order").click();
    await page.locator("#email[aria-invalid=true]").waitFor();
    expect((await seenIn(page)).violations).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("does not move what the shopper sees while / and /checkout fill in (layout shift under 0.05), on a phone and a desktop", async () => {
    const { app, browser } = shop();
    for (const viewport of [PHONE, DESKTOP]) {
      const home = await browser.newContext({ viewport });
      await watchPage(home);
      const homePage = await home.newPage();
      await homePage.goto(app.url);
      await homePage.getByTestId("product-card").first().waitFor();
      await homePage.waitForLoadState("networkidle");
      const homeShifts = (await seenIn(homePage)).shifts;
      expect(
        homeShifts.reduce((sum, shift) => sum + shift.value, 0),
        `/ at ${viewport.width}px: ${JSON.stringify(homeShifts)}`,
      ).toBeLessThan(0.05);
      await home.close();

      const checkout = await contextWithCart(browser, app.url, viewport);
      await watchPage(checkout);
      const checkoutPage = await checkout.newPage();
      await checkoutPage.goto(`${app.url}/checkout`);
      await checkoutPage.locator("#email").waitFor();
      await checkoutPage.waitForLoadState("networkidle");
      const checkoutShifts = (await seenIn(checkoutPage)).shifts;
      expect(
        checkoutShifts.reduce((sum, shift) => sum + shift.value, 0),
        `/checkout at ${viewport.width}px: ${JSON.stringify(checkoutShifts)}`,
      ).toBeLessThan(0.05);
      await checkout.close();
    }
  });
});
