// The browser tests' shop: the whole service on a fresh test database, real Chromium, phone pages that
// record every page error and every unexpected 4xx/5xx response, and the shopper's common steps.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { startApp, type RunningApp } from "../../api/src/app.ts";
import { loadEnv } from "../../api/src/env.ts";
import { createLogger } from "../../api/src/logger.ts";
import { freePort } from "../../api/scripts/free-port.ts";
import { createTestDatabase, type TestDatabase } from "../../api/test/support/database.ts";
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
      // A build of one's own (vite build --outDir …) keeps a run clear of another build emptying dist/ meanwhile.
      WEB_DIST: process.env.CHECKOUT_TEST_WEB_DIST ?? path.resolve(here, "../dist"),
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

/** One shop for the test file: started before its tests, stopped after them; the tests get it from the returned function. */
export function setUpShop(options: ShopOptions = {}): () => Shop {
  let shop: Shop | undefined;
  beforeAll(async () => {
    shop = await startShop(options);
  });
  afterAll(async () => {
    await stopShop(shop);
  });
  return () => {
    if (!shop) throw new Error("The shop starts before the file's tests");
    return shop;
  };
}

/** Responses a test provokes on purpose (a declined card, a refused promo code). */
export type ExpectedFailure = { status: number; path: string };

export interface PhonePage {
  page: Page;
  /** Page errors, console errors and unexpected 4xx/5xx responses, for `expect(errors).toEqual([])`. */
  errors: string[];
}

/** The two screens every checkout flow is tested on. */
export const VIEWPORTS = {
  phone: { width: 375, height: 812 },
  desktop: { width: 1350, height: 940 },
} as const;
export type Size = keyof typeof VIEWPORTS;

export interface ShopperPageOptions {
  viewport?: { width: number; height: number };
  /** The browser's language (navigator.language, Accept-Language); Chromium's own when absent. */
  locale?: string;
  /** Responses the test provokes on purpose, left out of `errors`. */
  expected?: ExpectedFailure[];
}

/** A page in a context of its own (a phone unless told otherwise), recording what `errors` lists. */
export async function newShopperPage(browser: Browser, options: ShopperPageOptions = {}): Promise<PhonePage> {
  const { viewport = VIEWPORTS.phone, locale, expected = [] } = options;
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, ...(locale ? { locale } : {}) });
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

export function newPhonePage(browser: Browser, expected: ExpectedFailure[] = []): Promise<PhonePage> {
  return newShopperPage(browser, { expected });
}

/** "$98.66" → 9866. */
export function cents(text: string | null): number {
  return Math.round(Number((text ?? "").replace(/[^0-9.]/g, "")) * 100);
}

/** From a product's page: adds it and waits until the header's cart count says `expectedCount`. */
export async function addToCart(page: Page, appUrl: string, productId: string, expectedCount: string): Promise<void> {
  await page.goto(`${appUrl}/products/${productId}`);
  await page.getByTestId("add-to-cart").click();
  await page.getByTestId("add-confirmation").waitFor();
  await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe(expectedCount);
}

export interface Shopper {
  email: string;
  name: string;
  line1: string;
  city: string;
  country: "US" | "DE";
  region?: string;
  postalCode: string;
}

export const usShopper = (email: string, name = "Grace Hopper"): Shopper => ({
  email,
  name,
  line1: "500 Howard St",
  city: "San Francisco",
  country: "US",
  region: "CA",
  postalCode: "94105",
});

/** Fills the contact and address fields of the one-page checkout (saved on their own once valid). */
export async function fillAddress(page: Page, shopper: Shopper): Promise<void> {
  await page.locator("#email").fill(shopper.email);
  await page.locator("#name").fill(shopper.name);
  await page.locator("#line1").fill(shopper.line1);
  await page.locator("#city").fill(shopper.city);
  await page.locator("#country").selectOption(shopper.country);
  if (shopper.region) await page.locator("#region").selectOption(shopper.region);
  await page.locator("#postalCode").fill(shopper.postalCode);
}

/** Waits until the totals by the pay button are priced for the cart as it is now (no save or pricing in flight). */
export async function waitForTotals(page: Page): Promise<void> {
  await page.locator('[data-testid=order-review][aria-busy="false"]').waitFor({ timeout: 15_000 });
  await page.locator('.shipping-options[aria-busy="false"]').waitFor();
  await page.locator('[data-testid=order-review][aria-busy="false"]').waitFor({ timeout: 15_000 });
}

/** From the cart to a saved address, standard shipping and priced totals, on the one-page checkout. */
export async function checkoutUpToPayment(page: Page, appUrl: string, shopper: Shopper): Promise<void> {
  await page.goto(`${appUrl}/checkout`);
  await fillAddress(page, shopper);
  const standard = page.getByTestId("shipping-option").and(page.locator('[value="standard"]'));
  await standard.waitFor();
  await standard.check();
  await waitForTotals(page);
}

/** Types a card into the payment provider's card field: a future expiry and a CVC of the brand's length (4 digits for American Express, else 3). */
export async function fillCard(page: Page, number: string): Promise<void> {
  const frame = page.frameLocator("[data-testid=card-frame]");
  await frame.getByLabel("Card number").fill(number);
  await frame.getByLabel(/Expiry/).fill("12/34");
  await frame.getByLabel("CVC").fill(/^3[47]/.test(number.replace(/\D/g, "")) ? "1234" : "123");
}

/** Waits for the totals the pay button pays (the one-page checkout prices the cart without being asked). */
export async function review(page: Page): Promise<void> {
  await waitForTotals(page);
}
