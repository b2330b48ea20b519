// Lighthouse on the running shop: builds the web app, starts the whole service (embedded PostgreSQL unless
// DATABASE_URL is set, the payment sandbox, the API serving the build), puts one product in a cart, then audits the home
// page, a product page and the checkout (with that cart), mobile and desktop, in Debian's Chromium.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { build } from "vite";
import { startApp } from "../../api/src/app.ts";
import { loadEnv } from "../../api/src/env.ts";
import { createLogger } from "../../api/src/logger.ts";
import { freePort } from "../../api/scripts/free-port.ts";
import { asksForHelp, UsageError } from "../../api/src/cli/help.ts";

const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"] as const;
const FORM_FACTORS = ["mobile", "desktop"] as const;
const PAGES = ["home", "product", "checkout"] as const;
/** A seed product with one variant: what the checkout's cart holds. */
const PRODUCT_ID = "ceramic-mug";

type FormFactor = (typeof FORM_FACTORS)[number];
type PageName = (typeof PAGES)[number];

const usage = `Usage: pnpm --filter @checkout/web lighthouse [options]

Builds packages/web, starts the shop on a free port (embedded PostgreSQL in a temporary directory, or DATABASE_URL),
adds "${PRODUCT_ID}" to a cart, and runs Lighthouse 12 (mobile and desktop presets) on:
  home      /
  product   /products/${PRODUCT_ID}
  checkout  /checkout, with that cart (Lighthouse's storage reset is off so the cart id stays)
It prints the performance, accessibility, best-practices and SEO scores, CLS, FCP, LCP, TBT, the script bytes
transferred, and every non-performance audit that failed. Scores are timing-derived: compare runs on the same machine.

Options:
  --runs N           audits per page and form factor; the median performance run is reported (default 1)
  --form-factor F    mobile or desktop (default both)
  --page P           home, product or checkout (repeatable; default all)
  --no-build         use packages/web/dist as it is
  --dist DIR         serve this build instead (implies --no-build): e.g. an older commit's, to compare
  --json             print the results as JSON
  --save DIR         also write each run's full report (<page>-<form factor>-<run>.json, for the Lighthouse viewer)
  -h, --help         this text

Environment: CHROMIUM_PATH (default /usr/bin/chromium; apt-get install chromium), DATABASE_URL (optional).`;

interface Options {
  runs: number;
  formFactors: FormFactor[];
  pages: PageName[];
  shouldBuild: boolean;
  dist: string;
  asJson: boolean;
  saveDir?: string;
}

function parseArgs(args: string[]): Options | null {
  const options: Options = { runs: 1, formFactors: [...FORM_FACTORS], pages: [...PAGES], shouldBuild: true, dist: path.join(webRoot, "dist"), asJson: false };
  const pages: PageName[] = [];
  if (asksForHelp(args)) return null;
  for (let at = 0; at < args.length; at += 1) {
    const arg = args[at];
    const value = () => {
      const next = args[++at];
      if (next === undefined || next.startsWith("-")) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === "--") continue;
    if (arg === "--runs") {
      options.runs = Number(value());
      if (!Number.isInteger(options.runs) || options.runs < 1) throw new UsageError("--runs takes a positive whole number");
    } else if (arg === "--form-factor") {
      const factor = value();
      if (!(FORM_FACTORS as readonly string[]).includes(factor)) throw new UsageError(`--form-factor is mobile or desktop, not ${factor}`);
      options.formFactors = [factor as FormFactor];
    } else if (arg === "--page") {
      const page = value();
      if (!(PAGES as readonly string[]).includes(page)) throw new UsageError(`--page is one of ${PAGES.join(", ")}, not ${page}`);
      pages.push(page as PageName);
    } else if (arg === "--no-build") options.shouldBuild = false;
    else if (arg === "--dist") {
      options.dist = path.resolve(value());
      options.shouldBuild = false;
    } else if (arg === "--json") options.asJson = true;
    else if (arg === "--save") options.saveDir = path.resolve(value());
    else throw new UsageError(arg?.startsWith("-") ? `unknown option ${arg}` : `unexpected argument ${arg}`);
  }
  if (pages.length > 0) options.pages = pages;
  return options;
}

/** Chromium with a DevTools port for Lighthouse (and for playwright, which fills the cart in the same profile). */
async function startChromium(profile: string): Promise<{ port: number; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    CHROMIUM,
    [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--no-default-browser-check",
      `--user-data-dir=${profile}`,
      `--remote-debugging-port=${port}`,
      "about:blank",
    ],
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/json/version`);
      if (response.ok) return { port, process: child };
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`Chromium (${CHROMIUM}) did not open its DevTools port; apt-get install chromium, or set CHROMIUM_PATH`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Adds the product to a cart through the shop's own page, so the browser's storage holds the cart id as a shopper's would. */
async function fillCart(port: number, appUrl: string): Promise<void> {
  const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`);
  try {
    const context = browser.contexts()[0];
    if (!context) throw new Error("Chromium has no default context");
    const page = await context.newPage();
    await page.goto(`${appUrl}/products/${PRODUCT_ID}`);
    await page.getByTestId("add-to-cart").click();
    await page.getByTestId("add-confirmation").waitFor();
    await page.close();
  } finally {
    // Disconnects; the browser itself keeps running for Lighthouse.
    await browser.close();
  }
}

interface Result {
  page: PageName;
  formFactor: FormFactor;
  url: string;
  scores: Record<(typeof CATEGORIES)[number], number>;
  cls: number;
  fcpMs: number;
  lcpMs: number;
  tbtMs: number;
  scriptBytes: number;
  scriptRequests: number;
  /** Non-performance audits that did not pass: what keeps a category below 100. */
  failed: string[];
  /** The elements that moved most (Lighthouse's layout-shifts audit): where a CLS comes from. */
  shifts: string[];
  /** What the largest contentful paint was. */
  lcpElement: string;
}

/** The first few rows of an audit's table (the console error, the DevTools issue), enough to see what to fix. */
function detailsOf(details: unknown): string {
  const items = (details as { items?: Record<string, unknown>[] } | undefined)?.items ?? [];
  const describe = (item: Record<string, unknown>) =>
    [item.issueType, item.description, item.source, item.url, JSON.stringify((item.subItems as { items?: unknown[] } | undefined)?.items?.[0] ?? "")]
      .filter((part) => typeof part === "string" && part !== "" && part !== '""')
      .join(" ")
      .slice(0, 240);
  return items.length === 0 ? "" : `: ${items.slice(0, 3).map(describe).join(" | ")}`;
}

function tableOf(details: unknown): Record<string, unknown>[] {
  return (details as { items?: Record<string, unknown>[] } | undefined)?.items ?? [];
}

function nodeOf(node: unknown): string {
  const value = node as { selector?: string; snippet?: string } | undefined;
  return (value?.snippet ?? value?.selector ?? "").slice(0, 100);
}

interface NetworkItem {
  resourceType?: string;
  transferSize?: number;
}

/** The checkout is audited with the cart in storage but nothing in the HTTP cache, like a shopper's first visit. */
async function clearHttpCache(port: number): Promise<void> {
  const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`);
  try {
    const context = browser.contexts()[0];
    if (!context) throw new Error("Chromium has no default context");
    const page = await context.newPage();
    const session = await context.newCDPSession(page);
    await session.send("Network.clearBrowserCache");
    await page.close();
  } finally {
    await browser.close();
  }
}

async function audit(port: number, url: string, page: PageName, formFactor: FormFactor, saveAs?: string): Promise<Result> {
  if (page === "checkout") await clearHttpCache(port);
  // Loaded here, not at the top: Lighthouse takes seconds to load, and --help or a usage error needs none of it.
  const [{ default: lighthouse }, { default: desktopConfig }] = await Promise.all([import("lighthouse"), import("lighthouse/core/config/desktop-config.js")]);
  const runner = await lighthouse(
    url,
    { port, output: "json", logLevel: "error", onlyCategories: [...CATEGORIES], disableStorageReset: page === "checkout" },
    formFactor === "desktop" ? desktopConfig : undefined,
  );
  if (!runner) throw new Error(`Lighthouse returned nothing for ${url}`);
  const { lhr } = runner;
  if (saveAs) {
    mkdirSync(path.dirname(saveAs), { recursive: true });
    writeFileSync(saveAs, JSON.stringify(lhr));
  }
  if (lhr.runtimeError) throw new Error(`Lighthouse on ${url}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  const numeric = (id: string) => lhr.audits[id]?.numericValue ?? Number.NaN;
  const requests = ((lhr.audits["network-requests"]?.details as { items?: NetworkItem[] } | undefined)?.items ?? []).filter((item) => item.resourceType === "Script");
  const failed = CATEGORIES.filter((category) => category !== "performance").flatMap((category) =>
    (lhr.categories[category]?.auditRefs ?? [])
      .filter((ref) => ref.weight > 0 && (lhr.audits[ref.id]?.score ?? 1) < 1)
      .map((ref) => `${category}: ${ref.id} (${lhr.audits[ref.id]?.title ?? ""})${detailsOf(lhr.audits[ref.id]?.details)}`),
  );
  return {
    page,
    formFactor,
    url,
    scores: Object.fromEntries(CATEGORIES.map((category) => [category, Math.round((lhr.categories[category]?.score ?? 0) * 100)])) as Result["scores"],
    cls: numeric("cumulative-layout-shift"),
    fcpMs: numeric("first-contentful-paint"),
    lcpMs: numeric("largest-contentful-paint"),
    tbtMs: numeric("total-blocking-time"),
    scriptBytes: requests.reduce((sum, item) => sum + (item.transferSize ?? 0), 0),
    scriptRequests: requests.length,
    failed,
    shifts: tableOf(lhr.audits["layout-shifts"]?.details)
      .slice(0, 3)
      .map((item) => `${nodeOf(item.node)} ${typeof item.score === "number" ? item.score.toFixed(3) : ""}`),
    lcpElement:
      tableOf(lhr.audits["largest-contentful-paint-element"]?.details)
        .flatMap((item) => tableOf(item))
        .map((item) => nodeOf(item.node))
        .find(Boolean) ?? nodeOf(tableOf(lhr.audits["largest-contentful-paint-element"]?.details)[0]?.node),
  };
}

function median(results: Result[]): Result {
  const sorted = [...results].sort((a, b) => a.scores.performance - b.scores.performance);
  return sorted[Math.floor(sorted.length / 2)] as Result;
}

function printTable(results: Result[]): void {
  const header = ["page", "form", "perf", "a11y", "best", "seo", "CLS", "FCP ms", "LCP ms", "TBT ms", "script kB (files)"];
  const rows = results.map((r) => [
    r.page,
    r.formFactor,
    String(r.scores.performance),
    String(r.scores.accessibility),
    String(r.scores["best-practices"]),
    String(r.scores.seo),
    r.cls.toFixed(3),
    r.fcpMs.toFixed(0),
    r.lcpMs.toFixed(0),
    r.tbtMs.toFixed(0),
    `${(r.scriptBytes / 1000).toFixed(1)} (${r.scriptRequests})`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  "));
  for (const r of results) {
    // Lighthouse 12.2.3 cannot always attribute these with a newer Chromium (its RootCauses gatherer fails): shown when it can.
    if (r.lcpElement) console.log(`  ${r.page} ${r.formFactor}: LCP element ${r.lcpElement}`);
    for (const shift of r.shifts) console.log(`  ${r.page} ${r.formFactor}: shifted ${shift}`);
    for (const failure of r.failed) console.log(`  ${r.page} ${r.formFactor}: ${failure}`);
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (!options) {
    console.log(usage);
    return;
  }
  if (options.shouldBuild) await build({ root: webRoot, configFile: path.join(webRoot, "vite.config.ts"), logLevel: "warn" });

  const scratch = mkdtempSync(path.join(os.tmpdir(), "checkout-lighthouse-"));
  const port = await freePort();
  const app = await startApp(
    loadEnv({
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : { DATA_DIR: scratch, EMBEDDED_PG_PORT: String(await freePort()) }),
      PAYMENT_SANDBOX_PORT: "0",
      WEB_DIST: options.dist,
      JOBS: "off",
    }),
    { log: createLogger({ level: "warn" }) },
  );
  const chrome = await startChromium(path.join(scratch, "chromium"));
  try {
    await fillCart(chrome.port, app.url);
    const paths: Record<PageName, string> = { home: "/", product: `/products/${PRODUCT_ID}`, checkout: "/checkout" };
    const results: Result[] = [];
    for (const formFactor of options.formFactors) {
      for (const page of options.pages) {
        const runs: Result[] = [];
        for (let run = 0; run < options.runs; run += 1) {
          const saveAs = options.saveDir ? path.join(options.saveDir, `${page}-${formFactor}-${run + 1}.json`) : undefined;
          runs.push(await audit(chrome.port, `${app.url}${paths[page]}`, page, formFactor, saveAs));
        }
        results.push(median(runs));
        if (!options.asJson) console.error(`audited ${page} (${formFactor})`);
      }
    }
    if (options.asJson) console.log(JSON.stringify(results, null, 2));
    else printTable(results);
  } finally {
    chrome.process.kill();
    await app.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`lighthouse: ${error.message} (see --help)`);
    process.exit(2);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
