// The browser tests' shop: the whole service on a fresh test database, real Chromium, and phone
// pages that record every page error and every unexpected 4xx/5xx response.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { startApp, type RunningApp } from "../../api/src/app.ts";
import { loadEnv } from "../../api/src/env.ts";
import { createLogger } from "../../api/src/logger.ts";
import { freePort } from "../../api/test/postgres.global-setup.ts";
import { createTestDatabase, type TestDatabase } from "../../api/test/test-database.ts";
import { CHROMIUM } from "./browser.global-setup.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
export const screenshots = path.resolve(here, "../../../.artifacts/screenshots");

export interface Shop {
  app: RunningApp;
  database: TestDatabase;
  browser: Browser;
}

export interface ShopOptions {
  /**
   * Extra environment for the API, given the port it will listen on (e.g. a payment provider behind a
   * relay the test controls, which must allow this origin before the API starts).
   */
  env?: (port: number) => Promise<Record<string, string>> | Record<string, string>;
}

export async function startShop(options: ShopOptions = {}): Promise<Shop> {
  const database = await createTestDatabase();
  const port = await freePort();
  const extraEnv = (await options.env?.(port)) ?? {};
  const app = await startApp(
    loadEnv({
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
      DATABASE_URL: database.url,
      PAYMENT_SANDBOX_PORT: "0",
      WEB_DIST: path.resolve(here, "../dist"),
      JOBS: "off",
      ...extraEnv,
    }),
    { log: createLogger({ level: "warn" }) },
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  mkdirSync(screenshots, { recursive: true });
  return { app, database, browser };
}

export async function stopShop(shop: Shop | undefined): Promise<void> {
  await shop?.browser.close();
  await shop?.app.close();
  await shop?.database.drop();
}

/** Responses a test provokes on purpose (a declined card, a refused promo code). */
export type ExpectedFailure = { status: number; path: string };

export interface PhonePage {
  page: Page;
  /** Page errors, console errors and unexpected 4xx/5xx responses, for `expect(errors).toEqual([])`. */
  errors: string[];
}

export async function newPhonePage(browser: Browser, expected: ExpectedFailure[] = []): Promise<PhonePage> {
  const context = await browser.newContext({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    // Failed loads are reported with their URL by the response handler below.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(`console: ${message.text()}`);
  });
  page.on("response", (response) => {
    const isExpected = expected.some((failure) => response.status() === failure.status && response.url().includes(failure.path));
    if (response.status() >= 400 && !isExpected) errors.push(`${response.status()} ${response.url()}`);
  });
  return { page, errors };
}

/** "$98.66" → 9866. */
export function cents(text: string | null): number {
  return Math.round(Number((text ?? "").replace(/[^0-9.]/g, "")) * 100);
}
